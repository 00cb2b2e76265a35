//go:build !js

package webrtc

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/pumpnet/pumpnet/netcode"
)

// chanSignaler is one end of an in-memory signaling pipe.
type chanSignaler struct {
	in  <-chan []byte
	out chan<- []byte
}

func (s chanSignaler) Send(ctx context.Context, msg []byte) error {
	select {
	case s.out <- append([]byte(nil), msg...):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s chanSignaler) Receive(ctx context.Context) ([]byte, error) {
	select {
	case m := <-s.in:
		return m, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// signalPipe returns two connected Signalers.
func signalPipe() (Signaler, Signaler) {
	a, b := make(chan []byte, 4), make(chan []byte, 4)
	return chanSignaler{in: a, out: b}, chanSignaler{in: b, out: a}
}

func newIdentity(t *testing.T) (*tls.Certificate, Fingerprint) {
	t.Helper()
	cert, err := netcode.GenerateCertificate()
	if err != nil {
		t.Fatal(err)
	}
	fp, err := FingerprintOf(cert.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	return &cert, fp
}

type peerResult struct {
	c   *Conn
	err error
}

// expectFreed makes the test's cleanup wait until every peer connection
// made since (closed, or failed inside ConnectPeer) is torn down, and fail
// if one is not within 10 s. (Later tests count peer connections.)
func expectFreed(t *testing.T) {
	base := openPeerConnections()
	t.Cleanup(func() {
		if !waitFor(10*time.Second, func() bool { return openPeerConnections() <= base }) {
			t.Errorf("%d peer connections still open 10 s after the test", openPeerConnections()-base)
		}
	})
}

// connectPeers runs ConnectPeer on both sides of a pipe at once.
func connectPeers(t *testing.T, ca, cb Config, oa, ob PeerOptions) (a, b peerResult) {
	t.Helper()
	expectFreed(t)
	sa, sb := signalPipe()
	oa.Signaler, oa.Offerer = sa, true
	ob.Signaler = sb
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	done := make(chan peerResult)
	go func() {
		c, err := ConnectPeer(ctx, &cb, ob)
		done <- peerResult{c, err}
	}()
	a.c, a.err = ConnectPeer(ctx, &ca, oa)
	b = <-done
	for _, r := range []peerResult{a, b} {
		if r.c != nil {
			t.Cleanup(func() { r.c.Close() })
		}
	}
	return a, b
}

// TestConnectPeerLoopback: two full ICE agents meet over a Signaler, each
// pinning the other's key, and talk both ways.
func TestConnectPeerLoopback(t *testing.T) {
	certA, fpA := newIdentity(t)
	certB, fpB := newIdentity(t)
	ca, cb := testConfig(), testConfig()
	ca.Certificate, cb.Certificate = certA, certB
	a, b := connectPeers(t, ca, cb, PeerOptions{Fingerprint: fpB}, PeerOptions{Fingerprint: fpA})
	if a.err != nil || b.err != nil {
		t.Fatalf("offerer: %v; answerer: %v", a.err, b.err)
	}
	if a.c.PeerFingerprint() != fpB || b.c.PeerFingerprint() != fpA {
		t.Fatalf("fingerprints: offerer sees %s (want %s), answerer sees %s (want %s)", a.c.PeerFingerprint(), fpB, b.c.PeerFingerprint(), fpA)
	}
	for _, dir := range []struct {
		from, to *Conn
		msg      string
	}{{a.c, b.c, "from the offerer"}, {b.c, a.c, "from the answerer"}} {
		if err := dir.from.Send(3, []byte(dir.msg)); err != nil {
			t.Fatal(err)
		}
		m, ok := recv(t, dir.to, 10*time.Second)
		if !ok || m.Channel != 3 || !bytes.Equal(m.Data, []byte(dir.msg)) {
			t.Fatalf("got %v %q (%v), want channel 3 %q", ok, m.Data, m.Channel, dir.msg)
		}
	}
}

// TestConnectPeerRefusals: a wrong pin, another channel list, an
// oversized or garbled signal, a missing pin, and bad ICE server URLs.
func TestConnectPeerRefusals(t *testing.T) {
	certA, _ := newIdentity(t)
	certB, _ := newIdentity(t)
	_, fpOther := newIdentity(t)
	ca, cb := testConfig(), testConfig()
	ca.Certificate, cb.Certificate = certA, certB

	t.Run("wrong pin", func(t *testing.T) {
		a, b := connectPeers(t, ca, cb, PeerOptions{Fingerprint: fpOther}, PeerOptions{InsecureAcceptAnyPeer: true})
		if !errors.Is(a.err, ErrFingerprintMismatch) {
			t.Errorf("offerer pinning another key: %v, want ErrFingerprintMismatch (the answerer: %v)", a.err, b.err)
		}
	})
	t.Run("channels", func(t *testing.T) {
		other := cb
		other.Channels = []DeliveryMode{ReliableOrdered}
		a, b := connectPeers(t, ca, other, PeerOptions{InsecureAcceptAnyPeer: true}, PeerOptions{InsecureAcceptAnyPeer: true})
		if !errors.Is(b.err, ErrRefused) {
			t.Errorf("answerer with another channel list: %v, want ErrRefused", b.err)
		}
		if !errors.Is(a.err, ErrRefused) {
			t.Errorf("offerer refused for another channel list: %v, want ErrRefused", a.err)
		}
	})
	for name, msg := range map[string][]byte{
		"oversized": bytes.Repeat([]byte("x"), MaxSignalBytes+1),
		"garbled":   []byte(`{"v":1,"sdp":"v=0\r\nnot sdp"}`),
		"json":      []byte(`]`),
	} {
		t.Run(name, func(t *testing.T) {
			sa, sb := signalPipe()
			if err := sa.Send(context.Background(), msg); err != nil {
				t.Fatal(err)
			}
			expectFreed(t)
			cfg := cb
			cfg.HandshakeTimeout = 5 * time.Second
			c, err := ConnectPeer(context.Background(), &cfg, PeerOptions{Signaler: sb, InsecureAcceptAnyPeer: true})
			if err == nil {
				c.Close()
				t.Fatal("connected on a bad offer")
			}
			if !errors.Is(err, ErrHandshake) {
				t.Errorf("%v, want ErrHandshake", err)
			}
		})
	}
	t.Run("no pin", func(t *testing.T) {
		sa, _ := signalPipe()
		if _, err := ConnectPeer(context.Background(), &ca, PeerOptions{Signaler: sa, Offerer: true}); err == nil || !strings.Contains(err.Error(), "nothing verifies") {
			t.Errorf("no pin, not insecure: %v", err)
		}
	})
	t.Run("ice server urls", func(t *testing.T) {
		sa, _ := signalPipe()
		for _, servers := range [][]ICEServer{
			{{URLs: []string{"http://example.invalid"}}},
			{{}},
			make([]ICEServer, MaxICEServers+1),
		} {
			cfg := ca
			cfg.ICEServers = servers
			if _, err := ConnectPeer(context.Background(), &cfg, PeerOptions{Signaler: sa, Offerer: true, InsecureAcceptAnyPeer: true}); err == nil {
				t.Errorf("ICE servers %v accepted", servers)
			}
		}
	})
}

// FuzzConnectPeer feeds a signaling message from a hostile peer to either
// side of ConnectPeer (the answerer gets it as the offer, the offerer as
// the answer): it must fail with an error, never panic or hang past the
// handshake timeout.
func FuzzConnectPeer(f *testing.F) {
	sdp := offerSDP(f)
	f.Add(false, offerBody(f, sdp, allModes))
	f.Add(true, []byte(`{"v":1,"sdp":"`+strings.ReplaceAll(strings.ReplaceAll(sdp, "\r", `\r`), "\n", `\n`)+`"}`))
	f.Add(true, []byte(`{"v":1,"refused":"no"}`))
	f.Add(false, []byte(`{"v":1,"sdp":"","channels":[0,1,2,3]}`))
	f.Add(true, []byte(`{"v":2}`))
	cfg := testConfig()
	cfg.HandshakeTimeout = 300 * time.Millisecond
	f.Fuzz(func(t *testing.T, offerer bool, msg []byte) {
		sa, sb := signalPipe()
		go func() {
			// The hostile peer: its one message, and it reads whatever
			// comes (the offer) so that Send never waits.
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			sa.Send(ctx, msg)
			sa.Receive(ctx)
		}()
		start := time.Now()
		c, err := ConnectPeer(context.Background(), &cfg, PeerOptions{Signaler: sb, Offerer: offerer, InsecureAcceptAnyPeer: true})
		if err == nil {
			c.Close()
			t.Fatalf("connected to a peer that sent only %q", msg)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("failed after %v, with a handshake timeout of %v", d, cfg.HandshakeTimeout)
		}
	})
}
