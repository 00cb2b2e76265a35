package engine

import (
	"fmt"

	"github.com/pumpnet/pumpnet/codec"
	"github.com/pumpnet/pumpnet/netcode"
)

// engineProtocol names the engine's frame format (kind byte, request IDs;
// see the package doc's Wire format) in the application protocol. Bump it
// when that format changes incompatibly.
const engineProtocol = "pumpnet engine 0"

// ApplicationProtocol returns what the engine names as its application
// protocol for codec c (nil: codec.Default()), "pumpnet engine 0, codec
// msgpack" say: the transport sends it when connecting
// (netcode.Config.Application), and two sides that name different ones —
// a msgpack client and a JSON server — are closed before either sees the
// other, each with a reason that names both codecs (netcode's
// CodeConfigMismatch), instead of exchanging messages neither can decode.
// Listen and Connect set it; an endpoint made for NewServer or
// ClientConfig.Endpoint gets it from EndpointConfig (for the default
// codec: for another, set cfg.Application to this first). It never
// blocks and is safe from any goroutine.
func ApplicationProtocol(c codec.Codec) string {
	if c == nil {
		c = codec.Default()
	}
	return engineProtocol + ", codec " + c.Name()
}

// checkEndpointCodec reports an endpoint the caller made whose application
// protocol does not name the codec the client or server will use: every
// connection it makes would be closed at connect, so say why now.
func checkEndpointCodec(ep *netcode.Endpoint, c codec.Codec) error {
	if want := ApplicationProtocol(c); ep.Application() != want {
		return fmt.Errorf("engine: the endpoint's application protocol is %q, but the codec %s needs %q: make it with EndpointConfig after setting cfg.Application = engine.ApplicationProtocol(codec)",
			ep.Application(), c.Name(), want)
	}
	return nil
}
