package netcode

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestKeyFileKeepsIdentity: an endpoint given Config.KeyFile has the same
// fingerprint after a restart (the file is created on the first run,
// readable by its owner only), so connect strings keep working.
func TestKeyFileKeepsIdentity(t *testing.T) {
	path := filepath.Join(t.TempDir(), "server.key")
	fingerprint := func() Fingerprint {
		ep, err := Listen("127.0.0.1:0", &Config{KeyFile: path})
		if err != nil {
			t.Fatal(err)
		}
		defer ep.Close()
		return ep.Fingerprint()
	}
	first := fingerprint()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatalf("key file not created: %v", err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, want 0600", st.Mode().Perm())
	}
	if again := fingerprint(); again != first {
		t.Fatalf("fingerprint changed across restarts: %s then %s", first, again)
	}
	// Without a key file, each endpoint is someone new.
	ep, err := Listen("127.0.0.1:0", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ep.Close()
	if ep.Fingerprint() == first {
		t.Fatal("a fresh endpoint has the key file's identity")
	}
	_, created, err := LoadKeyFile(path)
	if err != nil || created {
		t.Fatalf("LoadKeyFile of an existing file: created=%v err=%v", created, err)
	}
}

// TestKeyFileSEC1: a key written by openssl ecparam -genkey ("EC PRIVATE
// KEY") is read, and its fingerprint is the key's.
func TestKeyFileSEC1(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "ec.key")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	c1, _, err := LoadKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	c2, _, err := LoadKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f1, _ := certFingerprint(&c1)
	f2, _ := certFingerprint(&c2)
	if f1 != f2 || f1.IsZero() {
		t.Fatalf("fingerprints %s and %s", f1, f2)
	}
}

// TestKeyFileRefusesOthers: a file that is not an ECDSA key is an error
// naming the file, never replaced by a new key.
func TestKeyFileRefusesOthers(t *testing.T) {
	dir := t.TempDir()
	rsaKey, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	rsaDER, _ := x509.MarshalPKCS8PrivateKey(rsaKey)
	cases := map[string][]byte{
		"garbage": []byte("not a key\n"),
		"cert":    pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{1, 2, 3}}),
		"rsa":     pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: rsaDER}),
		"bad-der": pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte{0x30, 0x03, 1, 2, 3}}),
		"too-big": []byte(strings.Repeat("A", maxKeyFile+1)),
		"empty":   {},
	}
	for name, data := range cases {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		if _, _, err := LoadKeyFile(path); err == nil || !strings.Contains(err.Error(), "key file") {
			t.Errorf("%s: err %v, want a key file error", name, err)
		}
		if _, err := Listen("127.0.0.1:0", &Config{KeyFile: path}); err == nil {
			t.Errorf("%s: Listen with a bad key file succeeded", name)
		}
		if got, _ := os.ReadFile(path); string(got) != string(data) {
			t.Errorf("%s: the file was changed", name)
		}
	}
}
