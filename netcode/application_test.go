package netcode

import (
	"errors"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

// Issue 12, strict connections (netcode part): two endpoints that name
// different application protocols (Config.Application) are closed with
// CodeConfigMismatch before either is established, on both sides, with a
// reason naming both protocols by role; an endpoint naming none (as an
// older pumpnet, parameters version 0) meets one naming one with the same
// clear close, not a hang; equal protocols connect.
func TestApplicationProtocolAgreement(t *testing.T) {
	cases := []struct {
		name, srv, cli string
		want           []string // in the reason, on both sides; nil: connects
	}{
		{"client msgpack, server json", "app codec json", "app codec msgpack",
			[]string{`client "app codec msgpack"`, `server "app codec json"`}},
		{"client json, server msgpack", "app codec msgpack", "app codec json",
			[]string{`client "app codec json"`, `server "app codec msgpack"`}},
		{"client names none", "app codec msgpack", "",
			[]string{`client none`, `server "app codec msgpack"`}},
		{"server names none", "", "app codec msgpack",
			[]string{`client "app codec msgpack"`, `server none`}},
		{"same", "app codec msgpack", "app codec msgpack", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p := newFakePair(t, &Config{Application: tc.srv}, &Config{Application: tc.cli})
				accepted := make(chan *Conn, 1)
				go func() {
					c, err := p.srv.Accept(t.Context())
					if err == nil {
						accepted <- c
					}
				}()
				conn, err := p.cli.Dial(t.Context(), srvAddr, DialOptions{Fingerprint: p.srv.Fingerprint()})
				if tc.want == nil {
					if err != nil {
						t.Fatalf("Dial with equal application protocols: %v", err)
					}
					select {
					case <-accepted:
					case <-time.After(5 * time.Second):
						t.Fatal("the server did not accept")
					}
					conn.Close()
					return
				}
				var ce *CloseError
				if !errors.As(err, &ce) || ce.Code != CodeConfigMismatch {
					t.Fatalf("Dial = %v, want a CloseError with CodeConfigMismatch", err)
				}
				for _, w := range tc.want {
					if !strings.Contains(ce.Reason, w) {
						t.Errorf("client's reason %q does not contain %q", ce.Reason, w)
					}
				}
				// The server's side closed too, with the same reason, and
				// never offered the connection to Accept.
				synctest.Wait()
				select {
				case c := <-accepted:
					t.Fatalf("the server accepted a mismatched connection (%v)", c.Err())
				default:
				}
				if got := p.srv.Stats().HandshakesFailed; got == 0 {
					t.Errorf("server HandshakesFailed = 0, want the mismatch counted")
				}
			})
		})
	}
}

func TestApplicationTooLongIsAConfigError(t *testing.T) {
	if _, err := Listen("127.0.0.1:0", &Config{Application: strings.Repeat("x", MaxApplicationLen+1)}); err == nil {
		t.Fatal("Listen accepted a 65-byte Application")
	}
}

// parseParams and the reasons built from peer bytes never panic and stay
// bounded, whatever the peer sent.
func FuzzParams(f *testing.F) {
	c, err := (&Config{Application: "app codec msgpack", Channels: []DeliveryMode{ReliableOrdered, Unreliable}}).resolve()
	if err != nil {
		f.Fatal(err)
	}
	v1 := c.channelParams()
	c0, _ := (&Config{}).resolve()
	v0 := c0.channelParams()
	f.Add(v1)
	f.Add(v0)
	f.Add([]byte{1, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Add(append(append([]byte(nil), v0...), 200))
	f.Fuzz(func(t *testing.T, b []byte) {
		if p, ok := parseParams(b); ok && len(p.app) > MaxApplicationLen {
			t.Fatalf("application of %d bytes accepted", len(p.app))
		}
		p, ok := parseParams(b)
		q, _ := parseParams(v1)
		for _, server := range []bool{false, true} {
			r := mismatchReason(v1, b, server)
			if ok && string(p.core) == string(q.core) && len(r) > 256 {
				// The peer must see the whole reason (a CLOSE carries 256 bytes).
				t.Fatalf("application mismatch reason of %d bytes: %q", len(r), r)
			}
		}
	})
}

func TestParamsVersions(t *testing.T) {
	c0, _ := (&Config{}).resolve()
	if b := c0.channelParams(); b[0] != 0 {
		t.Fatalf("no Application: parameters version %d, want 0 (what older pumpnet sends)", b[0])
	}
	c1, _ := (&Config{Application: "x"}).resolve()
	b := c1.channelParams()
	p, ok := parseParams(b)
	if b[0] != 1 || !ok || p.app != "x" || !p.hasApp {
		t.Fatalf("Application x: %x parses as %+v, %v", b, p, ok)
	}
}

// Issue 12, accept/deny hook (netcode part): CodeRefused, an application's
// refusal, matches ErrRefused and carries its reason.
func TestCodeRefusedMatchesErrRefused(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newFakePair(t, nil, nil)
		srv, cli := p.connect(t)
		if err := srv.CloseWithReason(CodeRefused, "banned"); err != nil {
			t.Fatal(err)
		}
		select {
		case <-cli.Done():
		case <-time.After(30 * time.Second):
			t.Fatal("the client was not told")
		}
		err := cli.Err()
		var ce *CloseError
		if !errors.Is(err, ErrRefused) || !errors.As(err, &ce) || ce.Code != CodeRefused || ce.Reason != "banned" || !ce.Remote {
			t.Fatalf("client: %v, want a remote CloseError with CodeRefused, reason banned, matching ErrRefused", err)
		}
		if !strings.Contains(err.Error(), "(refused): banned") {
			t.Fatalf("client error %q does not read as a refusal", err)
		}
	})
}
