package netcode

import (
	"encoding/binary"
	"fmt"
	"strings"
)

// paramsVersion is the first byte of the KEYS_READY parameters.
const paramsVersion = 0

// channelParams encodes what both peers must agree on (PROTOCOL.md §6):
// the channels and their modes, the reliable window and the largest message.
// A peer that differs would otherwise see protocol violations later.
func (c *config) channelParams() []byte {
	b := []byte{paramsVersion}
	b = binary.AppendUvarint(b, uint64(len(c.modes)))
	for _, m := range c.modes {
		b = append(b, byte(m))
	}
	b = binary.AppendUvarint(b, uint64(c.ReliableWindow))
	return binary.AppendUvarint(b, uint64(c.MaxMessageSize))
}

// describeParams renders encoded parameters for an error message.
func describeParams(b []byte) string {
	if len(b) == 0 || b[0] != paramsVersion {
		return fmt.Sprintf("unknown parameters %x", b)
	}
	b = b[1:]
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)-k) {
		return fmt.Sprintf("malformed parameters %x", b)
	}
	b = b[k:]
	names := make([]string, n)
	for i := range names {
		names[i] = DeliveryMode(b[i]).String()
	}
	b = b[n:]
	w, k1 := binary.Uvarint(b)
	if k1 <= 0 {
		return "malformed parameters"
	}
	mm, k2 := binary.Uvarint(b[k1:])
	if k2 <= 0 {
		return "malformed parameters"
	}
	return fmt.Sprintf("channels [%s], window %d, max message %d", strings.Join(names, " "), w, mm)
}
