package rendezvous

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/pumpnet/pumpnet/netcode"
)

// fakeClock is a settable clock for Server.now.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// newTestServer starts s on a real 127.0.0.1 listener.
func newTestServer(t *testing.T, cfg Config) (*Server, *httptest.Server) {
	t.Helper()
	s, err := NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s)
	t.Cleanup(func() { s.Close(); hs.Close() })
	return s, hs
}

func newCert(t testing.TB) tls.Certificate {
	t.Helper()
	c, err := netcode.GenerateCertificate()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func fingerprint(t testing.TB, c tls.Certificate) string {
	t.Helper()
	fp, err := netcode.FingerprintOf(c.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	return fp.String()
}

// httpFrom returns an http.Client whose connections come from local IP ip
// (a 127.0.0.0/8 alias: a distinct source for the server).
func httpFrom(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	return &http.Client{Transport: &http.Transport{DialContext: d.DialContext, MaxIdleConnsPerHost: 64}}
}

func newClient(t testing.TB, url string, hc *http.Client) *Client {
	t.Helper()
	c, err := NewClient(url, newCert(t), hc)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// post sends a raw body and returns the status and decoded error code.
func post(t testing.TB, hc *http.Client, url string, body []byte) (int, string, []byte) {
	t.Helper()
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var e errorResponse
	json.Unmarshal(data, &e)
	return resp.StatusCode, e.Code, data
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func wantErr(t testing.TB, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("err = %v, want %v", err, want)
	}
}

// nonceFor fetches a nonce with a raw request.
func nonceFor(t testing.TB, url string) string {
	t.Helper()
	code, _, data := post(t, nil, url+"/v1/nonce", []byte("{}"))
	if code != 200 {
		t.Fatalf("nonce: HTTP %d %s", code, data)
	}
	var n nonceResponse
	if err := json.Unmarshal(data, &n); err != nil {
		t.Fatal(err)
	}
	return n.Nonce
}

func hashToken(tok string) [32]byte { return sha256.Sum256([]byte(tok)) }

func errorsIs(err, target error) bool { return errors.Is(err, target) }

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }

func jsonUnmarshal(data []byte, v any) error { return json.Unmarshal(data, v) }
