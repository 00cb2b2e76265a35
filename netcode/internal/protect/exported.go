package protect

import (
	"fmt"

	"github.com/pumpnet/pumpnet/netcode/internal/wire"
)

// ExporterLabel is the label both peers pass to the DTLS connection's
// ExportKeyingMaterial, with no context (PROTOCOL.md §2, RFC 5705).
const ExporterLabel = "EXPORTER-pumpnet-v0"

// ExporterLength is the number of bytes both peers export.
const ExporterLength = 80

// Exported splits the ExporterLength bytes exported from the DTLS handshake
// (PROTOCOL.md §2). SplitExported copies them; the caller zeroes its input,
// and calls Zero once the Sealer and Opener are built. Printing an Exported
// with fmt shows the connection IDs but not the secrets. An Exported is a
// plain value: not safe for concurrent use while being zeroed.
type Exported struct {
	// ClientToServer is the traffic secret of the packets the client sends.
	ClientToServer [SecretLen]byte
	// ServerToClient is the traffic secret of the packets the server sends.
	ServerToClient [SecretLen]byte
	// ClientCID is the client's receive connection ID, carried by packets
	// the server sends.
	ClientCID wire.ConnID
	// ServerCID is the server's receive connection ID, carried by packets
	// the client sends.
	ServerCID wire.ConnID
}

// SplitExported splits exported keying material of exactly ExporterLength
// bytes into its parts (ErrMaterial otherwise). It copies; the caller zeroes
// material. It is safe for concurrent use.
func SplitExported(material []byte) (Exported, error) {
	var e Exported
	if len(material) != ExporterLength {
		return e, fmt.Errorf("%w: %d bytes, want %d", ErrMaterial, len(material), ExporterLength)
	}
	copy(e.ClientToServer[:], material[0:32])
	copy(e.ServerToClient[:], material[32:64])
	copy(e.ClientCID[:], material[64:72])
	copy(e.ServerCID[:], material[72:80])
	return e, nil
}

// Zero overwrites every field of e with zeros.
func (e *Exported) Zero() {
	clear(e.ClientToServer[:])
	clear(e.ServerToClient[:])
	clear(e.ClientCID[:])
	clear(e.ServerCID[:])
}
