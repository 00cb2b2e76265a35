package netcode

import (
	"errors"
	"fmt"
	"net"
)

// Errors returned by netcode. Match them with errors.Is.
var (
	// ErrQueueFull is returned by Send when the connection's send queue
	// (Config.SendQueueBytes) cannot take the message. Send never blocks.
	ErrQueueFull = errors.New("netcode: send queue full")
	// ErrMessageTooLarge is returned by Send for a message above
	// Config.MaxMessageSize.
	ErrMessageTooLarge = errors.New("netcode: message too large")
	// ErrNoChannel is returned by Send for a channel number the
	// configuration does not define.
	ErrNoChannel = errors.New("netcode: no such channel")
	// ErrHandshake wraps every reason a handshake failed.
	ErrHandshake = errors.New("netcode: handshake failed")
	// ErrFingerprintMismatch means the peer's key is not the pinned one.
	ErrFingerprintMismatch = errors.New("netcode: peer key fingerprint mismatch")
	// ErrTimeout means a peer stopped answering (idle timeout, or no answer
	// to a handshake within Config.HandshakeTimeout).
	ErrTimeout = errors.New("netcode: timeout")
	// ErrRefused means the server turned the connection away: a CloseError
	// with CodeServerBusy (a server that is full closes newcomers with it)
	// or CodeRefused (an application's accept hook said no; the reason says
	// why) matches it.
	ErrRefused = errors.New("netcode: refused")
	// ErrUnsentData means the peer closed (or this side closed) with
	// reliable messages not yet acknowledged, which were discarded: a
	// CloseError with CodeUnsentData matches it. Some of that data may
	// have arrived; the stream may be truncated. Shutdown instead of Close
	// avoids it.
	ErrUnsentData = errors.New("netcode: closed with unacknowledged reliable data")
)

// CloseCode says why a connection ended. Codes below 0x100 are pumpnet's;
// applications may use CodeApplication and above.
type CloseCode uint64

// Close codes.
const (
	CodeNormal            CloseCode = 0x00 // Close or Shutdown by the application
	CodeTimeout           CloseCode = 0x01 // no packet from the peer for Config.IdleTimeout
	CodeProtocolViolation CloseCode = 0x02 // the peer broke the protocol
	CodeAuthLimit         CloseCode = 0x03 // too many packets failed authentication
	CodeServerBusy        CloseCode = 0x04 // the server is full (an application refusal; a full accept backlog makes connections wait instead)
	CodeEndpointClosed    CloseCode = 0x05 // the endpoint was closed
	CodeInternal          CloseCode = 0x06 // a local failure (e.g. socket error)
	CodeConfigMismatch    CloseCode = 0x07 // the peers' channels, window or message limit differ
	CodeUnsentData        CloseCode = 0x08 // Close discarded reliable data the peer had not acknowledged
	CodeRefused           CloseCode = 0x09 // the application refused the connection (an accept hook); the reason says why
	CodeReceiveOverflow   CloseCode = 0x0a // a receive queue without flow control overflowed (a browser's WebRTC transport)
	CodeApplication       CloseCode = 0x100
)

func (c CloseCode) String() string {
	switch c {
	case CodeNormal:
		return "normal"
	case CodeTimeout:
		return "timeout"
	case CodeProtocolViolation:
		return "protocol violation"
	case CodeAuthLimit:
		return "authentication failure limit"
	case CodeServerBusy:
		return "server busy"
	case CodeEndpointClosed:
		return "endpoint closed"
	case CodeInternal:
		return "internal error"
	case CodeConfigMismatch:
		return "configuration mismatch"
	case CodeUnsentData:
		return "unsent data discarded"
	case CodeRefused:
		return "refused"
	case CodeReceiveOverflow:
		return "receive queue overflow"
	}
	if c >= CodeApplication {
		return fmt.Sprintf("application %d", uint64(c-CodeApplication))
	}
	return fmt.Sprintf("code %d", uint64(c))
}

// CloseError is the reason a connection ended. Conn.Err returns one; it
// matches net.ErrClosed with errors.Is, ErrTimeout when Code is
// CodeTimeout, ErrRefused when Code is CodeServerBusy or CodeRefused, and
// ErrUnsentData when Code is CodeUnsentData.
type CloseError struct {
	Code   CloseCode
	Reason string
	// Remote is true when the peer closed the connection.
	Remote bool
}

func (e *CloseError) Error() string {
	who := "locally"
	if e.Remote {
		who = "by peer"
	}
	if e.Reason == "" {
		return fmt.Sprintf("netcode: connection closed %s (%s)", who, e.Code)
	}
	return fmt.Sprintf("netcode: connection closed %s (%s): %s", who, e.Code, e.Reason)
}

// Is makes a CloseError match net.ErrClosed, ErrTimeout for timeouts,
// ErrRefused for a server that was busy or refused the connection, and
// ErrUnsentData for a close that discarded reliable data.
func (e *CloseError) Is(target error) bool {
	switch target {
	case net.ErrClosed:
		return true
	case ErrTimeout:
		return e.Code == CodeTimeout
	case ErrRefused:
		return e.Code == CodeServerBusy || e.Code == CodeRefused
	case ErrUnsentData:
		return e.Code == CodeUnsentData
	}
	return false
}

type timeoutError struct{}

func (timeoutError) Error() string   { return "netcode: i/o timeout" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }
