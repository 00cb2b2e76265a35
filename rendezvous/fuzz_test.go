package rendezvous

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"
)

var fuzzProof = `"proof":{"nonce":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","cert":"AQ==","sig":"AQ=="}`

func FuzzParseCreate(f *testing.F) {
	f.Add([]byte(`{"service":"game","public":true,"record":{"v":1,"seats":2,"name":"Ann"},` + fuzzProof + `}`))
	f.Add([]byte(`{"service":"game","record":{"id":"` + strings.Repeat("a", 64) + `"},` + fuzzProof + `} {}`))
	f.Add([]byte(`{"service":"` + strings.Repeat("s", 64) + `"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := parseCreate(body)
		if err != nil {
			return
		}
		if checkService(r.Service) != nil || checkRecord(r.Record) != nil || checkProofShape(r.Proof) != nil {
			t.Fatalf("accepted an invalid request %+v", r)
		}
		if len(r.Record.Name) > MaxNameLen || !utf8.ValidString(r.Record.Name) {
			t.Fatalf("name %q accepted", r.Record.Name)
		}
	})
}

func FuzzParseJoin(f *testing.F) {
	f.Add([]byte(`{"code":"abc-def",` + fuzzProof + `}`))
	f.Add([]byte(`{"code":"ABCDEF","record":{"seats":300},` + fuzzProof + `}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := parseJoin(body)
		if err != nil {
			return
		}
		if c, err := ParseCode(r.Code); err != nil || c != r.Code {
			t.Fatalf("code %q not canonical", r.Code)
		}
	})
}

func FuzzParseSignal(f *testing.F) {
	tok := strings.Repeat("t", tokenLen)
	f.Add([]byte(`{"token":"` + tok + `","to":"` + strings.Repeat("0", 64) + `","data":"aGk="}`))
	f.Add([]byte(`{"token":"` + tok + `","to":"` + strings.Repeat("0", 64) + `","from":"x","data":"aGk="}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := parseSignal(body, 1024)
		if err != nil {
			return
		}
		if len(r.Data) == 0 || len(r.Data) > 1024 || checkID(r.To) != nil || checkToken(r.Token) != nil {
			t.Fatalf("accepted %+v", r)
		}
	})
}

func FuzzParseUpdate(f *testing.F) {
	f.Add([]byte(`{"token":"` + strings.Repeat("t", tokenLen) + `","record":{"v":2,"seats":1,"players":3,"name":"x"}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := parseUpdate(body)
		if err == nil && checkRecord(r.Record) != nil {
			t.Fatalf("accepted %+v", r)
		}
	})
}

func FuzzParsePoll(f *testing.F) {
	f.Add([]byte(`{"token":"` + strings.Repeat("t", tokenLen) + `","roster":3,"ack":18446744073709551615}`))
	f.Add([]byte(`{"token":"` + strings.Repeat("t", tokenLen) + `","roster":-1}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := parsePoll(body)
		if err == nil && checkToken(r.Token) != nil {
			t.Fatalf("accepted %+v", r)
		}
		parseLeave(body)
	})
}

func FuzzParseCode(f *testing.F) {
	for _, s := range []string{"ABCDEF", "abc-def", "oil 123", "ABCDEFG", "ÄBCDEF", "", "------------------"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseCode(s)
		if err != nil {
			return
		}
		if len(c) != CodeLen {
			t.Fatalf("%q -> %q", s, c)
		}
		for i := 0; i < len(c); i++ {
			if !strings.ContainsRune(CodeAlphabet, rune(c[i])) {
				t.Fatalf("%q -> %q", s, c)
			}
		}
		if c2, err := ParseCode(c); err != nil || c2 != c {
			t.Fatalf("not idempotent: %q -> %q -> %q %v", s, c, c2, err)
		}
	})
}

func FuzzVerifySignature(f *testing.F) {
	cert := newCert(f)
	p, err := makeProof(cert, "h", strings.Repeat("n", nonceLen))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(p.Cert, p.Sig)
	f.Add(p.Cert, make([]byte, 64))
	f.Fuzz(func(t *testing.T, der, sig []byte) {
		id, err := verifySignature(proof{Nonce: strings.Repeat("n", nonceLen), Cert: der, Sig: sig}, "h")
		if err == nil && checkID(id) != nil {
			t.Fatalf("id %q", id)
		}
	})
}

// FuzzServeHTTP sends arbitrary paths and bodies through the handler: it
// never panics and always answers JSON with a known status.
func FuzzServeHTTP(f *testing.F) {
	s, err := NewServer(Config{PollTimeout: 1, RequestRate: 1e9, RequestBurst: 1 << 30, MissesPerMinute: 1e9, MissBurst: 1 << 30, GlobalMissesPerMinute: 1e12})
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range []string{"/v1/nonce", "/v1/create", "/v1/join", "/v1/signal", "/v1/update", "/v1/poll", "/v1/leave", "/v1/rooms?service=game", "/x"} {
		f.Add("POST", p, []byte(`{}`))
	}
	f.Add("GET", "/v1/rooms?service=g%00", []byte(nil))
	f.Add("POST", "/v1/join", []byte(`{"code":"ABCDEF",`+fuzzProof+`}`))
	f.Fuzz(func(t *testing.T, method, path string, body []byte) {
		if method != "GET" && method != "POST" && method != "OPTIONS" {
			method = "POST"
		}
		req, err := http.NewRequest(method, "http://h", bytes.NewReader(body))
		if err != nil {
			return
		}
		req.URL.RawQuery = ""
		if i := strings.IndexByte(path, '?'); i >= 0 {
			path, req.URL.RawQuery = path[:i], path[i+1:]
		}
		req.URL.Path = path
		req.RemoteAddr = "192.0.2.1:1234"
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		switch w.Code {
		case 200, 204, 400, 403, 404, 405, 409, 410, 413, 429, 503:
		default:
			t.Fatalf("%s %s: HTTP %d", method, path, w.Code)
		}
	})
}
