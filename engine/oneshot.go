package engine

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"github.com/pumpnet/pumpnet/codec"
	"github.com/pumpnet/pumpnet/netcode"
)

// SendOnce delivers one message to the server at target over a temporary
// connection (p2py's temporary connections) and returns when the server
// has it or when that failed. It blocks; it is safe from any goroutine (it
// shares nothing with other clients).
//
// It dials target as Connect does, with cfg (nil: defaults; target must
// carry the server's fingerprint unless cfg says otherwise), waits until
// the server admits the connection — its "connected" greeting arrives,
// which a server sends only after its accept hook (OnAccept) let the
// client in — sends msg reliably (ReliableOrdered), waits until the
// server acknowledged it, and closes the connection normally: the server
// dispatches msg, then sees "disconnected" with a normal close. SendOnce
// returns nil only then. Otherwise it returns why: the dial's error; an
// error matching netcode.ErrRefused (with the server's reason) when the
// server refused the client; the connection's end (a *netcode.CloseError)
// when the server closed or went silent before acknowledging; or, when
// ctx ends first, an error matching ctx.Err() (the message may or may not
// have arrived: the server then sees netcode.ErrUnsentData, not a normal
// close). A message the codec cannot encode fails before anything is
// dialed.
//
// The server must greet (the default): a ServerConfig.SkipGreeting server
// never does, and SendOnce to it waits until ctx ends. Give ctx a
// deadline: the handshake has its own (netcode.Config.HandshakeTimeout,
// 10 s by default) but the wait for the greeting and the acknowledgement
// only ends with ctx or the connection (Config.IdleTimeout after the
// server goes silent). When SendOnce returns, the connection is closed and
// the socket it dialed from (none is opened with cfg.Endpoint) is closed
// with its reader goroutine: nothing is left behind either way.
func SendOnce(ctx context.Context, target string, msg any, cfg *ClientConfig) error {
	var c ClientConfig
	if cfg != nil {
		c = *cfg
	}
	t, err := ParseTarget(target)
	if err != nil {
		return err
	}
	if t.Fingerprint.IsZero() && !c.InsecureAcceptAnyServer && c.Net.PSK == nil && c.Net.RootCAs == nil {
		return fmt.Errorf("engine: %q has no key fingerprint to verify the server: use the connect string the server prints, or set InsecureAcceptAnyServer", target)
	}
	if c.Codec == nil {
		c.Codec = codec.Default()
	}
	if c.Endpoint != nil {
		if err := checkEndpointCodec(c.Endpoint, c.Codec); err != nil {
			return err
		}
	}
	l := newLink(c.Codec, 0)
	frame, err := l.frame(kindMessage, 0, msg)
	if err != nil {
		return err
	}
	opts := netcode.DialOptions{Fingerprint: t.Fingerprint, InsecureAcceptAnyServer: c.InsecureAcceptAnyServer}
	var conn *netcode.Conn
	if c.Endpoint != nil {
		var ap netip.AddrPort
		if ap, err = netip.ParseAddrPort(t.Addr); err == nil {
			conn, err = c.Endpoint.Dial(ctx, ap, opts)
		}
	} else {
		nc := c.Net
		nc.Channels = engineChannels
		nc.Application = ApplicationProtocol(c.Codec)
		nc.Notify = nil
		conn, err = netcode.Dial(ctx, t.Addr, &nc, opts)
	}
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("engine: send once to %s: %w (%v)", t.Addr, ctx.Err(), err)
		}
		return fmt.Errorf("engine: send once to %s: %w", t.Addr, err)
	}
	// conn owns the socket netcode.Dial opened: closing it closes that and
	// waits for its reader.
	defer conn.Close()
	if err := conn.Send(uint8(ReliableOrdered), frame); err != nil {
		return fmt.Errorf("engine: send once to %s: %w", t.Addr, err)
	}
	conn.Flush()
	// Acknowledgements wake nothing: poll for them, as Shutdown does.
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	greeted := false
	for {
		for !greeted {
			m, ok := conn.Receive()
			if !ok {
				break
			}
			// Any engine frame: the server sends nothing before its
			// greeting, and nothing at all to a client it refused.
			if _, _, _, err := parseFrame(m.Data); err == nil {
				greeted = true
			}
		}
		delivered := greeted && conn.Stats().QueuedReliableBytes == 0
		if delivered {
			// Nothing is unacknowledged: a normal close.
			_ = conn.Close()
			return nil
		}
		if err := conn.Err(); err != nil {
			return fmt.Errorf("engine: send once to %s: %w", t.Addr, err)
		}
		select {
		case <-conn.Wake():
		case <-conn.Done():
		case <-tick.C:
		case <-ctx.Done():
			return fmt.Errorf("engine: send once to %s: %w", t.Addr, ctx.Err())
		}
	}
}
