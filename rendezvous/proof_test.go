package rendezvous

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func hostOf(t *testing.T, u string) string {
	t.Helper()
	p, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	return p.Host
}

// selfSigned makes a certificate for key (any crypto.Signer type).
func selfSigned(t *testing.T, pub, priv any) tls.Certificate {
	t.Helper()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "x"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, priv)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: priv}
}

func createBody(t *testing.T, p proof, rec Record) []byte {
	return mustJSON(createRequest{Service: "game", Record: rec, Proof: p})
}

// TestProofForged: a certificate of someone else's key with a signature by
// one's own key does not prove the other's identity.
func TestProofForged(t *testing.T) {
	_, hs := newTestServer(t, Config{})
	host := hostOf(t, hs.URL)
	victim, attacker := newCert(t), newCert(t)
	p, err := makeProof(attacker, host, nonceFor(t, hs.URL))
	if err != nil {
		t.Fatal(err)
	}
	p.Cert = victim.Certificate[0] // claim the victim's certificate
	code, name, body := post(t, nil, hs.URL+"/v1/create", createBody(t, p, Record{}))
	if code != http.StatusForbidden || name != "proof" {
		t.Fatalf("forged proof: HTTP %d %s", code, body)
	}
	// A signature over another nonce does not count either.
	p, _ = makeProof(victim, host, nonceFor(t, hs.URL))
	p2, _ := makeProof(victim, host, nonceFor(t, hs.URL))
	p.Sig = p2.Sig
	if code, name, body := post(t, nil, hs.URL+"/v1/create", createBody(t, p, Record{})); code != 403 || name != "proof" {
		t.Fatalf("signature over another nonce: HTTP %d %s", code, body)
	}
	// Nor a garbage signature of the right length.
	p, _ = makeProof(victim, host, nonceFor(t, hs.URL))
	p.Sig = make([]byte, 64)
	if code, name, body := post(t, nil, hs.URL+"/v1/create", createBody(t, p, Record{})); code != 403 || name != "proof" {
		t.Fatalf("zero signature: HTTP %d %s", code, body)
	}
}

// TestProofReplayed: a proof works once; captured and sent again, or sent
// after the nonce expired, it is refused.
func TestProofReplayed(t *testing.T) {
	s, hs := newTestServer(t, Config{NonceTTL: 30 * time.Second})
	clock := &fakeClock{t: time.Now()}
	s.now = clock.now
	host := hostOf(t, hs.URL)
	victim := newCert(t)
	p, _ := makeProof(victim, host, nonceFor(t, hs.URL))
	code, _, data := post(t, nil, hs.URL+"/v1/create", createBody(t, p, Record{}))
	if code != 200 {
		t.Fatalf("first use: HTTP %d %s", code, data)
	}
	var jr joinResponse
	json.Unmarshal(data, &jr)
	// The attacker captured the create body and replays the proof to join.
	join := mustJSON(joinRequest{Code: jr.Code, Proof: p})
	if code, name, data := post(t, nil, hs.URL+"/v1/join", join); code != 403 || name != "proof" {
		t.Fatalf("replayed proof: HTTP %d %s", code, data)
	}
	// A failed attempt also uses the nonce up.
	p, _ = makeProof(victim, host, nonceFor(t, hs.URL))
	bad := p
	bad.Sig = append([]byte(nil), p.Sig...)
	bad.Sig[len(bad.Sig)-1] ^= 1
	post(t, nil, hs.URL+"/v1/join", mustJSON(joinRequest{Code: jr.Code, Proof: bad}))
	if code, name, data := post(t, nil, hs.URL+"/v1/join", mustJSON(joinRequest{Code: jr.Code, Proof: p})); code != 403 || name != "proof" {
		t.Fatalf("nonce reused after a failed attempt: HTTP %d %s", code, data)
	}
	// Expired.
	p, _ = makeProof(victim, host, nonceFor(t, hs.URL))
	clock.add(31 * time.Second)
	if code, name, data := post(t, nil, hs.URL+"/v1/join", mustJSON(joinRequest{Code: jr.Code, Proof: p})); code != 403 || name != "proof" {
		t.Fatalf("expired nonce: HTTP %d %s", code, data)
	}
	// A nonce the server never issued.
	p, _ = makeProof(victim, host, strings.Repeat("A", nonceLen))
	if code, name, data := post(t, nil, hs.URL+"/v1/join", mustJSON(joinRequest{Code: jr.Code, Proof: p})); code != 403 || name != "proof" {
		t.Fatalf("made-up nonce: HTTP %d %s", code, data)
	}
}

// TestProofWrongKey: a record claiming another key, a proof made for
// another server, and keys that are not ECDSA P-256 are refused.
func TestProofWrongKey(t *testing.T) {
	_, hs := newTestServer(t, Config{})
	host := hostOf(t, hs.URL)
	me, victim := newCert(t), newCert(t)

	p, _ := makeProof(me, host, nonceFor(t, hs.URL))
	rec := Record{ID: fingerprint(t, victim)}
	if code, name, data := post(t, nil, hs.URL+"/v1/create", createBody(t, p, rec)); code != 403 || name != "proof" {
		t.Fatalf("record with another's ID: HTTP %d %s", code, data)
	}
	// Through the Client too.
	c, _ := NewClient(hs.URL, me, nil)
	_, err := c.Create(ctxT(t), "game", true, rec)
	wantErr(t, err, ErrProof)

	p, _ = makeProof(me, "rendezvous.example:443", nonceFor(t, hs.URL))
	if code, name, data := post(t, nil, hs.URL+"/v1/create", createBody(t, p, Record{})); code != 403 || name != "proof" {
		t.Fatalf("proof for another host: HTTP %d %s", code, data)
	}

	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	for name, cert := range map[string]tls.Certificate{
		"RSA":   selfSigned(t, &rsaKey.PublicKey, rsaKey),
		"P-384": selfSigned(t, &p384.PublicKey, p384),
	} {
		p, err := makeProof(cert, host, nonceFor(t, hs.URL))
		if err != nil {
			t.Fatal(err)
		}
		if code, ename, data := post(t, nil, hs.URL+"/v1/create", createBody(t, p, Record{})); code != 403 || ename != "proof" {
			t.Fatalf("%s key: HTTP %d %s", name, code, data)
		}
	}
	// The proven ID is the owner's: the right record works.
	p, _ = makeProof(me, host, nonceFor(t, hs.URL))
	if code, _, data := post(t, nil, hs.URL+"/v1/create", createBody(t, p, Record{ID: fingerprint(t, me)})); code != 200 {
		t.Fatalf("own ID: HTTP %d %s", code, data)
	}
}

// TestProofWebCryptoSignature: the 64-byte r||s form browsers make is
// accepted.
func TestProofWebCryptoSignature(t *testing.T) {
	_, hs := newTestServer(t, Config{})
	me := newCert(t)
	n := nonceFor(t, hs.URL)
	key := me.PrivateKey.(*ecdsa.PrivateKey)
	r, s, err := ecdsa.Sign(rand.Reader, key, proofDigest(hostOf(t, hs.URL), n))
	if err != nil {
		t.Fatal(err)
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	p := proof{Nonce: n, Cert: me.Certificate[0], Sig: sig}
	if code, _, data := post(t, nil, hs.URL+"/v1/create", createBody(t, p, Record{})); code != 200 {
		t.Fatalf("r||s signature: HTTP %d %s", code, data)
	}
}

// TestSignalSenderProven: the sender of a signal is the token's member;
// a body naming a sender is refused, and a member cannot change its
// record's ID.
func TestSignalSenderProven(t *testing.T) {
	_, hs := newTestServer(t, Config{})
	ctx := ctxT(t)
	a, b, m := newClient(t, hs.URL, nil), newClient(t, hs.URL, nil), newClient(t, hs.URL, nil)
	ra, _ := a.Create(ctx, "game", false, Record{})
	rb, _ := b.Join(ctx, ra.Code, Record{})
	rm, err := m.Join(ctx, ra.Code, Record{})
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"token":"` + rm.token + `","to":"` + rb.ID + `","from":"` + ra.ID + `","data":"aGk="}`)
	if code, name, data := post(t, nil, hs.URL+"/v1/signal", body); code != 400 || name != "bad_request" {
		t.Fatalf("signal naming a sender: HTTP %d %s", code, data)
	}
	if err := rm.Signal(ctx, rb.ID, []byte("hi")); err != nil {
		t.Fatal(err)
	}
	ev, err := rb.Poll(ctx)
	if err != nil || len(ev.Signals) != 1 || ev.Signals[0].From != rm.ID || ev.Signals[0].From == ra.ID {
		t.Fatalf("b got %+v %v", ev.Signals, err)
	}
	err = rm.Update(ctx, Record{ID: ra.ID})
	wantErr(t, err, ErrProof)
	// A made-up token is no member.
	fake := &Room{c: m, token: strings.Repeat("x", tokenLen)}
	wantErr(t, fake.Signal(ctx, rb.ID, []byte("x")), ErrNotMember)
}
