//go:build !js

package webrtc

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
)

// offerSDP makes a real offer (a data channel section, this machine's
// loopback candidates) from a peer connection that is closed at once: a
// client that will never do ICE or DTLS.
func offerSDP(t testing.TB) string {
	t.Helper()
	c, err := (&Config{IPFilter: loopbackOnly}).resolve()
	if err != nil {
		t.Fatal(err)
	}
	pc, err := newAPI(c).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	if _, err := pc.CreateDataChannel("x", nil); err != nil {
		t.Fatal(err)
	}
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	done := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	<-done
	return pc.LocalDescription().SDP
}

func offerBody(t testing.TB, sdp string, channels []DeliveryMode) []byte {
	b, err := json.Marshal(offerMessage{Version: signalVersion, SDP: sdp, Channels: channels})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func post(s http.Handler, body []byte) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
	s.ServeHTTP(rec, req)
	return rec
}

func TestSignalHostileInput(t *testing.T) {
	s := listen(t, nil)
	sdp := offerSDP(t)
	audio := strings.Replace(sdp, "m=application", "m=audio", 1)
	cases := []struct {
		name   string
		body   []byte
		status int
	}{
		{"oversize", bytes.Repeat([]byte("a"), DefaultMaxOfferBytes+1), http.StatusRequestEntityTooLarge},
		{"not json", []byte("v=0\r\n"), http.StatusBadRequest},
		{"empty", nil, http.StatusBadRequest},
		{"wrong version", []byte(`{"v":2,"sdp":"v=0"}`), http.StatusBadRequest},
		{"garbage sdp", offerBody(t, "v=0\r\nm=nonsense\r\n", allModes), http.StatusBadRequest},
		{"audio", offerBody(t, audio, allModes), http.StatusBadRequest},
		{"no fingerprint", offerBody(t, strings.ReplaceAll(sdp, "a=fingerprint:", "a=fingerprintx:"), allModes), http.StatusBadRequest},
		{"too many channels", offerBody(t, sdp, make([]DeliveryMode, MaxChannels+1)), http.StatusBadRequest},
		{"other channels", offerBody(t, sdp, []DeliveryMode{ReliableOrdered}), http.StatusConflict},
		{"valid", offerBody(t, sdp, allModes), http.StatusOK},
	}
	for _, tc := range cases {
		rec := post(s, tc.body)
		if rec.Code != tc.status {
			t.Errorf("%s: status %d (%s), want %d", tc.name, rec.Code, strings.TrimSpace(rec.Body.String()), tc.status)
		}
	}
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("GET: status %d, want 405", rec.Code)
	}
}

// TestHandshakeDeadlineFreesPeer: offers answered but never followed by
// ICE/DTLS hold a pending slot and a peer connection only until
// HandshakeTimeout; meanwhile offers beyond MaxPendingHandshakes are
// refused with 503.
func TestHandshakeDeadlineFreesPeer(t *testing.T) {
	sdp := offerSDP(t)
	baseGoroutines := runtime.NumGoroutine()
	basePCs := openPeerConnections()
	cfg := testConfig()
	cfg.HandshakeTimeout = time.Second
	s := listen(t, &ServerConfig{Config: cfg, MaxPendingHandshakes: 3, MaxHandshakesPerIP: 4})
	body := offerBody(t, sdp, allModes)
	start := time.Now()
	var wg sync.WaitGroup
	codes := make([]int, 3)
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i] = post(s, body).Code
		}()
	}
	wg.Wait()
	for i, c := range codes {
		if c != http.StatusOK {
			t.Fatalf("offer %d: status %d, want 200", i, c)
		}
	}
	if got := post(s, body).Code; got != http.StatusServiceUnavailable {
		t.Fatalf("fourth concurrent offer: status %d, want 503", got)
	}
	if n := openPeerConnections() - basePCs; n != 3 {
		t.Fatalf("%d peer connections pending, want 3", n)
	}
	if !waitFor(10*time.Second, func() bool { return openPeerConnections() == basePCs }) {
		t.Fatalf("%d peer connections still open %v after the offers", openPeerConnections()-basePCs, time.Since(start))
	}
	freed := time.Since(start)
	if freed < 900*time.Millisecond {
		t.Fatalf("freed after %v, before the 1 s deadline", freed)
	}
	t.Logf("3 stalled handshakes freed %v after their offers (deadline 1 s)", freed)
	if got := post(s, body).Code; got != http.StatusOK {
		t.Fatalf("offer after the deadline freed the slots: status %d, want 200", got)
	}
	s.Close()
	if !waitFor(10*time.Second, func() bool { return runtime.NumGoroutine() <= baseGoroutines+2 }) {
		buf := make([]byte, 1<<20)
		t.Fatalf("%d goroutines after Close, %d before:\n%s", runtime.NumGoroutine(), baseGoroutines, buf[:runtime.Stack(buf, true)])
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if _, err := s.Accept(ctx); err != ErrServerClosed {
		t.Fatalf("Accept after Close: %v", err)
	}
}

// FuzzSignal feeds signaling bodies to a live server's handler: it must
// answer with one of its statuses and never panic.
func FuzzSignal(f *testing.F) {
	sdp := offerSDP(f)
	f.Add(offerBody(f, sdp, allModes))
	f.Add(offerBody(f, strings.Replace(sdp, "m=application", "m=video", 1), allModes))
	f.Add(offerBody(f, "v=0\r\no=- 0 0 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=fingerprint:sha-256 00\r\n", allModes))
	f.Add([]byte(`{"v":1,"sdp":"","channels":[0,1,2,3]}`))
	f.Add([]byte(`{"v":1,"channels":[255]}`))
	cfg := testConfig()
	cfg.HandshakeTimeout = 200 * time.Millisecond
	s, err := Listen("127.0.0.1:0", &ServerConfig{Config: cfg, MaxPendingHandshakes: 1000})
	if err != nil {
		f.Fatal(err)
	}
	defer s.Close()
	f.Fuzz(func(t *testing.T, body []byte) {
		switch code := post(s, body).Code; code {
		case http.StatusOK, http.StatusBadRequest, http.StatusConflict, http.StatusRequestEntityTooLarge, http.StatusTooManyRequests, http.StatusServiceUnavailable:
		default:
			t.Fatalf("status %d", code)
		}
	})
}
