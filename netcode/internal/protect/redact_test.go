package protect

import (
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
)

// forbidden returns renderings of b that must never appear in printed output.
func forbidden(b []byte) []string {
	b = b[:6]
	dec := strings.Trim(fmt.Sprint(b), "[]")
	goSyn := strings.TrimSuffix(strings.TrimPrefix(fmt.Sprintf("%#v", b), "[]byte{"), "}")
	return []string{
		hex.EncodeToString(b),
		strings.ToUpper(hex.EncodeToString(b)),
		string(b),
		dec,
		goSyn,
		fmt.Sprintf("% x", b),
		strings.Trim(fmt.Sprintf("%q", string(b)), `"`),
	}
}

var verbs = []string{"%v", "%+v", "%#v", "%s", "%x", "%X", "% x", "%q", "%d", "%T %v"}

func checkRedacted(t *testing.T, name string, v any, secrets ...[]byte) {
	t.Helper()
	for _, verb := range verbs {
		out := fmt.Sprintf(verb, v)
		for _, s := range secrets {
			for _, f := range forbidden(s) {
				if strings.Contains(out, f) {
					t.Errorf("%s printed with %s leaks key material %q: %s", name, verb, f, out)
				}
			}
		}
	}
	for _, out := range []string{fmt.Sprint(v), fmt.Sprintln(v)} {
		if !strings.Contains(out, "REDACTED") {
			t.Errorf("%s: output %q is not the redacted form", name, out)
		}
	}
}

func TestNoKeysInFmt(t *testing.T) {
	for _, suite := range suites {
		sec := testSecret(9)
		k := independentKeys(t, suite, sec)
		k1 := independentKeys(t, suite, k.next)
		key := expandXCrypto(t, sec, "pumpnet key", suite.keyLen())
		key1 := expandXCrypto(t, k.next, "pumpnet key", suite.keyLen())
		all := [][]byte{sec, k.iv, k.next, key, k1.iv, k1.next, key1}

		s, err := newSealer(suite, sec, 2)
		if err != nil {
			t.Fatal(err)
		}
		o, err := NewOpener(suite, sec, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range sealN(t, s, 3, 20) { // s now holds the next secret
			mustOpen(t, o, p) // o rotated and holds the secret after next
		}
		checkRedacted(t, "*Sealer", s, all...)
		checkRedacted(t, "Sealer", *s, all...)
		checkRedacted(t, "*Opener", o, all...)
		checkRedacted(t, "Opener", *o, all...)
		checkRedacted(t, "struct holding *Sealer", struct{ S *Sealer }{s}, all...)

		m := make([]byte, ExporterLength)
		copy(m, sec)
		copy(m[32:], k.next)
		e, err := SplitExported(m)
		if err != nil {
			t.Fatal(err)
		}
		checkRedacted(t, "Exported", e, sec, k.next)
		checkRedacted(t, "*Exported", &e, sec, k.next)
	}
}
