package protect

import (
	"fmt"
	"io"
	"strconv"
)

// Sealer, Opener and Exported implement fmt.Formatter, fmt.Stringer and
// fmt.GoStringer so that no fmt verb (%v, %+v, %#v, %s, %x, %q, ...) can
// print a secret, key or IV. Only non-secret facts are shown. The methods have
// value receivers so that a dereferenced value is redacted too.

// String describes the Sealer without key material.
func (s Sealer) String() string {
	return "protect.Sealer{" + s.suite.String() +
		" phase=" + phaseString(s.phase) +
		" nextPN=" + strconv.FormatUint(s.pn, 10) +
		" keyUpdates=" + strconv.FormatUint(s.updates, 10) +
		" keys=REDACTED}"
}

// GoString is String: a Sealer has no Go-syntax form that hides its keys.
func (s Sealer) GoString() string { return s.String() }

// Format writes String for every verb.
func (s Sealer) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, s.String()) }

// String describes the Opener without key material.
func (o Opener) String() string {
	largest := "none"
	if o.window.have {
		largest = strconv.FormatUint(o.window.largest, 10)
	}
	return "protect.Opener{" + o.suite.String() +
		" phase=" + phaseString(o.phase) +
		" largestPN=" + largest +
		" keyUpdates=" + strconv.FormatUint(o.updates, 10) +
		" authFailures=" + strconv.FormatUint(o.failures, 10) +
		" keys=REDACTED}"
}

// GoString is String: an Opener has no Go-syntax form that hides its keys.
func (o Opener) GoString() string { return o.String() }

// Format writes String for every verb.
func (o Opener) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, o.String()) }

// String shows the connection IDs in hex and redacts the secrets.
func (e Exported) String() string {
	return fmt.Sprintf("protect.Exported{ClientToServer:REDACTED ServerToClient:REDACTED ClientCID:%x ServerCID:%x}",
		e.ClientCID[:], e.ServerCID[:])
}

// GoString is String: an Exported has no Go-syntax form that hides its
// secrets.
func (e Exported) GoString() string { return e.String() }

// Format writes String for every verb.
func (e Exported) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, e.String()) }

func phaseString(p bool) string {
	if p {
		return "1"
	}
	return "0"
}
