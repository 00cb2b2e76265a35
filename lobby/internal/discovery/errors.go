package discovery

import (
	"errors"
	"fmt"
	"net"
)

// Errors returned by discovery. Match them with errors.Is; the messages of
// returned errors add detail after the sentinel's text.
var (
	// ErrInvalidRecord means a Record cannot be advertised (TXT, Advertise,
	// Update) or TXT strings do not form a valid record (ParseTXT).
	ErrInvalidRecord = errors.New("discovery: invalid record")
	// ErrInvalidService means a service type or service name breaks the
	// DNS-SD rules (see ServiceName).
	ErrInvalidService = errors.New("discovery: invalid service")
	// ErrInvalidInterval means a Browse interval is negative or, for MDNS,
	// shorter than MinMDNSInterval.
	ErrInvalidInterval = errors.New("discovery: invalid browse interval")
	// ErrNoInterface means the MDNS backend found no interface to use.
	ErrNoInterface = errors.New("discovery: no usable multicast interface")
	// ErrStopped is returned by Advertisement.Update after Stop. It matches
	// net.ErrClosed too.
	ErrStopped = fmt.Errorf("discovery: advertisement stopped: %w", net.ErrClosed)
)

// invalid returns an error wrapping ErrInvalidRecord with a formatted detail.
func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidRecord}, args...)...)
}
