//go:build !js

package webrtc

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// hostileSDPs are offers that stress the SDP parser and pion's
// SetRemoteDescription: huge lines, many candidates, many media sections,
// and mangled versions of a real offer.
func hostileSDPs(real string) []string {
	head, _, _ := strings.Cut(real, "m=")
	media := real[len(head):]
	var manyCands strings.Builder
	manyCands.WriteString(strings.TrimRight(real, "\r\n"))
	for i := range 800 {
		fmt.Fprintf(&manyCands, "\r\na=candidate:%d 1 udp 2130706431 127.0.0.%d %d typ host", i, 1+i%250, 1024+i)
	}
	manyCands.WriteString("\r\n")
	return []string{
		real,
		head + strings.Repeat(media, 200), // 200 m= sections
		manyCands.String(),                // 800 candidates
		strings.Replace(real, "s=-", "s="+strings.Repeat("x", 60<<10), 1), // one 60 KiB line
		strings.Replace(real, "a=ice-ufrag:", "a=ice-ufrag:"+strings.Repeat("u", 30<<10), 1),
		strings.Replace(real, "a=fingerprint:sha-256 ", "a=fingerprint:sha-256 "+strings.Repeat("AB:", 10000), 1),
		strings.Replace(real, "a=max-message-size:", "a=max-message-size:99999999999999999999", 1),
		strings.Replace(real, "a=sctp-port:", "a=sctp-port:-1", 1),
		strings.ReplaceAll(real, "\r\n", "\n"),
		strings.Replace(real, "c=IN IP4", "c=IN IP6", 1),
		strings.Replace(real, "UDP/DTLS/SCTP", "UDP/DTLS/SCTP/"+strings.Repeat("X/", 1000), 1),
		strings.Replace(real, "a=candidate:", "a=candidate:x y z\r\na=candidate:1 1 tcp -1 ::ffff:0.0.0.0 0 typ relay raddr 0.0.0.0 rport 99999\r\na=candidate:", 1),
		real[:len(real)/2],
		"v=0\r\nm=application 0 UDP/DTLS/SCTP webrtc-datachannel\r\na=fingerprint:sha-256 00\r\n",
		"",
	}
}

// FuzzSignalHTTP drives the signaling handler at the HTTP level: any
// method, content type, declared length and body. It must never panic;
// a method other than POST gets 405, a declared length above
// MaxOfferBytes 413 before the body is read, every other request one of
// the handler's statuses, and a 200 a well-formed answer.
func FuzzSignalHTTP(f *testing.F) {
	real := offerSDP(f)
	for _, sdp := range hostileSDPs(real) {
		f.Add("POST", "application/json", int64(-1), offerBody(f, sdp, allModes))
	}
	f.Add("GET", "", int64(0), []byte(nil))
	f.Add("PUT", "text/plain", int64(5), []byte("v=0\r\n"))
	f.Add("POST", "multipart/form-data; boundary=x", int64(1<<40), offerBody(f, real, allModes))
	f.Add("POST", "", int64(3), offerBody(f, real, allModes))
	f.Add("POST", "application/json", int64(-1), bytes.Repeat([]byte("["), 70<<10))
	f.Add("POST", "application/json", int64(-1), []byte(`{"v":1,"sdp":"`+strings.Repeat(`\u0000`, 10000)+`"}`))
	cfg := testConfig()
	cfg.HandshakeTimeout = 200 * time.Millisecond
	s, err := Listen("127.0.0.1:0", &ServerConfig{Config: cfg, MaxPendingHandshakes: 1000})
	if err != nil {
		f.Fatal(err)
	}
	defer s.Close()
	f.Fuzz(func(t *testing.T, method, contentType string, declared int64, body []byte) {
		if !validMethod(method) {
			return // httptest.NewRequest panics on these; net/http refuses them before any handler
		}
		req := httptest.NewRequest(method, "/", bytes.NewReader(body))
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		req.ContentLength = declared
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		code := rec.Code
		switch {
		case method != http.MethodPost:
			if code != http.StatusMethodNotAllowed {
				t.Fatalf("%s: status %d, want 405", method, code)
			}
		case declared > int64(s.scfg.MaxOfferBytes):
			if code != http.StatusRequestEntityTooLarge {
				t.Fatalf("Content-Length %d: status %d, want 413", declared, code)
			}
		case code == http.StatusOK:
			var ans answerMessage
			if err := json.Unmarshal(rec.Body.Bytes(), &ans); err != nil || ans.Version != signalVersion || ans.SDP == "" || ans.Fingerprint != s.Fingerprint().String() {
				t.Fatalf("200 with a malformed answer (%v): %.200q", err, rec.Body.String())
			}
		case code == http.StatusBadRequest, code == http.StatusConflict, code == http.StatusRequestEntityTooLarge,
			code == http.StatusTooManyRequests, code == http.StatusServiceUnavailable:
		default:
			t.Fatalf("status %d: %.200q", code, rec.Body.String())
		}
	})
}

// FuzzSignalSDP mutates the SDP of an offer (wrapped in a valid JSON
// message, so the mutations reach the SDP parser and pion rather than the
// JSON decoder) and posts it to the handler: no panic, one of the
// handler's statuses.
func FuzzSignalSDP(f *testing.F) {
	for _, sdp := range hostileSDPs(offerSDP(f)) {
		f.Add(sdp)
	}
	cfg := testConfig()
	cfg.HandshakeTimeout = 200 * time.Millisecond
	s, err := Listen("127.0.0.1:0", &ServerConfig{Config: cfg, MaxPendingHandshakes: 1000})
	if err != nil {
		f.Fatal(err)
	}
	defer s.Close()
	f.Fuzz(func(t *testing.T, sdp string) {
		body, err := json.Marshal(offerMessage{Version: signalVersion, SDP: sdp, Channels: allModes})
		if err != nil {
			return
		}
		switch code := post(s, body).Code; code {
		case http.StatusOK, http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusTooManyRequests, http.StatusServiceUnavailable:
		default:
			t.Fatalf("status %d", code)
		}
	})
}

// validMethod reports whether m is an HTTP token (what a request line can
// carry).
func validMethod(m string) bool {
	if m == "" {
		return false
	}
	for i := 0; i < len(m); i++ {
		c := m[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte("()<>@,;:\\\"/[]?={}", c) >= 0 {
			return false
		}
	}
	return true
}
