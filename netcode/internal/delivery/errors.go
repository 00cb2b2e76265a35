package delivery

import "errors"

// Errors returned by Sender and Receiver. Match them with errors.Is; some
// are returned wrapped with detail.
var (
	// ErrQueueFull means Sender.Queue would take the send queue beyond
	// Config.SendQueueBytes. Nothing was queued; try again after acks free
	// memory. It is returned unwrapped (Queue is a per-message call and
	// must not allocate).
	ErrQueueFull = errors.New("delivery: send queue full")
	// ErrTooLarge means a message is longer than Config.MaxMessageSize.
	ErrTooLarge = errors.New("delivery: message too large")
	// ErrNoChannel means a channel number has no configured mode.
	ErrNoChannel = errors.New("delivery: no such channel")
	// ErrBufferFull means the Receiver stored nothing for a frame because
	// its buffer (Config.RecvBufferBytes) is full. It is flow control, not
	// a fault: the connection must not acknowledge the packet, so a
	// reliable sender resends later. Returned unwrapped.
	ErrBufferFull = errors.New("delivery: receive buffer full")
	// ErrProtocol means the peer sent something a correct sender cannot
	// send (unknown channel, reliable sequence number beyond the window,
	// inconsistent fragments, a message over MaxMessageSize, ...). The
	// connection closes with ProtocolViolation. Always wrapped with detail.
	ErrProtocol = errors.New("delivery: protocol violation")
	// ErrConfig means a Config is invalid. Always wrapped with detail.
	ErrConfig = errors.New("delivery: invalid config")
)
