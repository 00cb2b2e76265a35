package netcode

import (
	"context"
	"net/netip"
)

// Transport is one secure, message-oriented connection as the engine
// uses it: *Conn is the native one (this package, over UDP); the webrtc
// package's *Conn is the browser one (WebRTC data channels). Channels are
// numbered as the Config's Channels list, with the delivery modes of
// this package. The methods behave as Conn's: Send never blocks (a full
// queue is ErrQueueFull), Receive returns at once, Wake is signalled when
// Receive has something or the connection ended, Done is closed when it
// ended and Err says why (a *CloseError). Stats fills what the transport
// measures (see its doc).
type Transport interface {
	Send(channel uint8, data []byte) error
	Flush()
	Receive() (Message, bool)
	Wake() <-chan struct{}
	Done() <-chan struct{}
	Err() error
	Close() error
	CloseWithReason(code CloseCode, reason string) error
	RemoteAddr() netip.AddrPort
	PeerFingerprint() Fingerprint
	Stats() Stats
}

// TransportListener hands out the connections a server of another
// transport accepted (the webrtc package's Server): an engine server
// serves them beside its native ones.
type TransportListener interface {
	// AcceptTransport waits for the next connection, until ctx ends or
	// the listener closes.
	AcceptTransport(ctx context.Context) (Transport, error)
	// Close stops accepting and closes the listener.
	Close() error
}

var _ Transport = (*Conn)(nil)
