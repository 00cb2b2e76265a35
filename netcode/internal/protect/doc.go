// Package protect seals and opens pumpnet's protected packets
// (netcode/PROTOCOL.md §2–§4, DESIGN.md decision 7).
//
// DTLS (pion/dtls v3) authenticates the peers; it does not carry the game's
// packets. Both sides export ExporterLength bytes with ExporterLabel
// (RFC 5705), SplitExported cuts them into one 32-byte traffic secret per
// direction and the two connection IDs, and each side builds a Sealer for
// the direction it sends and an Opener for the one it receives. This is the
// shape of DTLS-SRTP (RFC 5764) and of QUIC over TLS (RFC 9001).
//
// # Keys
//
// From a traffic secret S, with HKDF-Expand-SHA256 (RFC 5869, crypto/hkdf):
// key = Expand(S, "pumpnet key", 16 for AES-128-GCM or 32 for
// ChaCha20-Poly1305), iv = Expand(S, "pumpnet iv", 12), and the next
// generation's secret = Expand(S, "pumpnet ku", 32). Key bytes are zeroed
// as soon as the AEAD is built. Each side must hold one secret for as long
// as keys may be updated: the Sealer its current secret, the Opener the next
// generation's; both are zeroed when replaced and by Close. (The AEADs' own
// key schedules live in memory this package cannot zero, until collected.)
// Sealer, Opener and Exported print through fmt without any key material.
//
// # Packets
//
// A packet is a 13-byte header (first byte 1K000000 with K the key phase,
// the receiver's 8-byte connection ID, the low 32 bits of the packet number)
// followed by the AEAD-sealed payload and its 16-byte tag. The whole header
// is the associated data. nonce = iv XOR (4 zero bytes || packet number as
// 8-byte big-endian), as RFC 9001 §5.3. Packet numbers start at 0, grow by
// one per packet and are never reused; the Sealer stops at 2^62.
//
// The Opener expands the truncated number around the largest authenticated
// one (RFC 9000 Appendix A.3, wire.ExpandPN), checks a 1024-packet replay
// window before decrypting, and updates the window, the largest number and
// the key phase only after authentication succeeds, so a forgery consumes
// nothing. Failed authentications are counted over the connection's life;
// past the limit Open returns ErrAuthLimit and the caller closes the
// connection (RFC 9001 §6.6 integrity limit).
//
// # Key update
//
// The Sealer switches to the next generation and flips K every
// keyUpdateInterval packets (default 2^20, always below 2^23, the AES-GCM
// confidentiality limit of RFC 9001 §6.6). The Opener holds previous,
// current and precomputed next keys (RFC 9001 §6.3, §6.5): a packet whose K
// differs from the current phase opens with the previous keys if its number
// is below the first number seen in the current phase, else with the next
// keys, whose success rotates the generations. Precomputing next keys means
// a packet's processing time does not reveal which keys it tried
// (RFC 9001 §9.5).
//
// Unlike RFC 9001 §6.1, the Sealer does not wait for an acknowledgement in
// the current phase before updating again. The interval floor
// (MinKeyUpdateInterval = ReplayWindow) makes this safe under reordering:
// a packet two generations old is always outside the replay window. If a
// whole key phase is lost (an interval's worth of consecutive packets), the
// Opener cannot follow and the connection ends by idle timeout.
//
// # Concurrency and allocation
//
// A Sealer and an Opener are each used by one goroutine at a time (the
// connection's send and receive paths). Seal and Open allocate nothing,
// except once per key update; the drop paths of hostile input (short,
// malformed, replayed, forged) allocate nothing either.
//
// A minimal use, with the exported material of a DTLS connection:
//
//	material, err := state.ExportKeyingMaterial(protect.ExporterLabel, nil, protect.ExporterLength)
//	if err != nil { ... }
//	ex, err := protect.SplitExported(material)
//	clear(material)
//	if err != nil { ... }
//	send, err := protect.NewSealer(protect.AES128GCM, ex.ClientToServer[:], 0) // client side
//	recv, err := protect.NewOpener(protect.AES128GCM, ex.ServerToClient[:], 0)
//	peerCID := ex.ServerCID
//	ex.Zero()
//
//	buf := make([]byte, 0, 1200)
//	packet, pn, err := send.Seal(buf, peerCID, frames)     // write packet to the socket
//	pn, payload, err := recv.Open(datagram)                 // payload aliases datagram
package protect
