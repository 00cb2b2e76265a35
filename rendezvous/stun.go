package rendezvous

import (
	"errors"
	"fmt"
	"net"
	"net/netip"

	"github.com/pion/stun/v4"
)

// maxSTUNRequest bounds the datagrams ServeSTUN parses: a Binding request
// from an ICE agent is under 200 bytes.
const maxSTUNRequest = 548

// ServeSTUN answers STUN Binding requests (RFC 8489) arriving on conn with
// the sender's address (XOR-MAPPED-ADDRESS and FINGERPRINT), so ICE agents
// learn their server-reflexive candidates from the rendezvous itself. It
// ignores everything else: other methods, responses, datagrams over 548
// bytes, and malformed messages. Each source (IPv4 address or IPv6 /64)
// gets Config.RequestRate answers per second (burst Config.RequestBurst);
// an answer is at most 52 bytes for a request of at least 20, so a forged
// source address gains an attacker little. It blocks until conn is closed
// and then returns nil; other read errors are returned. It may run beside
// ServeHTTP; run it once per conn. Use a TURN server (pion/turn, coturn)
// when a relay is needed as well: it answers STUN too.
func (s *Server) ServeSTUN(conn net.PacketConn) error {
	lim := newLimiter(s.cfg.RequestRate, float64(s.cfg.RequestBurst), s.cfg.MaxTrackedIPs)
	buf := make([]byte, maxSTUNRequest+1)
	out := make([]byte, 0, 64)
	for {
		n, from, err := conn.ReadFrom(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return fmt.Errorf("rendezvous: stun: %w", err)
			}
			continue // e.g. ICMP port unreachable reported on Linux
		}
		ua, ok := from.(*net.UDPAddr)
		if !ok || n > maxSTUNRequest {
			continue
		}
		ap := ua.AddrPort()
		if ok, _ := lim.allow(sourceKey(ap.Addr()), s.now()); !ok {
			continue
		}
		if resp := stunAnswer(buf[:n], ap, out[:0]); resp != nil {
			conn.WriteTo(resp, from)
		}
	}
}

// stunAnswer returns the Binding success answer to req from src, appended
// to out, or nil if req is not a Binding request. It never panics.
func stunAnswer(req []byte, src netip.AddrPort, out []byte) []byte {
	if !stun.IsMessage(req) {
		return nil
	}
	var m stun.Message
	m.Raw = append(make([]byte, 0, len(req)), req...)
	if err := m.Decode(); err != nil || m.Type != stun.BindingRequest {
		return nil
	}
	resp := stun.Message{Raw: out}
	err := resp.Build(
		stun.NewTransactionIDSetter(m.TransactionID),
		stun.BindingSuccess,
		&stun.XORMappedAddress{IP: src.Addr().Unmap().AsSlice(), Port: int(src.Port())},
		stun.Fingerprint,
	)
	if err != nil {
		return nil
	}
	return resp.Raw
}
