package discovery

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

var (
	idA = strings.Repeat("0123456789abcdef", 4)
	idB = strings.Repeat("fedcba9876543210", 4)
	idC = strings.Repeat("c", 64)
)

// checkTXTShape fails unless txt is small and free of anything a DNS
// library would escape.
func checkTXTShape(t *testing.T, txt []string) {
	t.Helper()
	if n := txtLen(txt); n >= MaxTXTLen {
		t.Errorf("TXT takes %d bytes, want < %d", n, MaxTXTLen)
	}
	for _, s := range txt {
		for i := 0; i < len(s); i++ {
			if !txtByte(s[i]) {
				t.Errorf("TXT string %q has byte %#02x", s, s[i])
			}
		}
	}
}

func sameRecord(a, b Record) bool { return equalRecords([]Record{a}, []Record{b}) }

func txtFields(r Record) Record {
	return Record{ID: r.ID, Version: r.Version, Seats: r.Seats, Players: r.Players, Name: r.Name}
}

func TestTXTRoundTrip(t *testing.T) {
	for _, r := range []Record{
		{ID: idA},
		{ID: idB, Version: 1, Seats: 3, Name: "ann"},
		{ID: idA, Version: 65535, Seats: 255, Players: 255, Name: "Zoë"},
		{ID: idA, Version: 7, Seats: 1, Players: 4, Name: "日本語のゲーム"},
		{ID: idA, Name: "🏍️ cycles 🇫🇷"},
		{ID: idA, Name: `100% "quoted" \back\slash a=b`},
		{ID: idA, Name: " leading and trailing "},
		{ID: idA, Name: strings.Repeat("x", MaxNameLen)},
		{ID: idA, Name: strings.Repeat("日", MaxNameLen/3)},
		{ID: idA, Name: "Ω\u200f\u2028"}, // format and separator characters are not controls
	} {
		txt, err := r.TXT()
		if err != nil {
			t.Fatalf("TXT(%+v): %v", r, err)
		}
		checkTXTShape(t, txt)
		got, err := ParseTXT(txt)
		if err != nil {
			t.Fatalf("ParseTXT(%q): %v", txt, err)
		}
		if !sameRecord(got, txtFields(r)) {
			t.Errorf("round trip of %+v gave %+v (TXT %q)", r, got, txt)
		}
	}
}

func TestTXTKeysAndOmissions(t *testing.T) {
	txt, err := Record{ID: idA, Version: 2, Seats: 5}.TXT()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"id=" + idA, "v=2", "s=5"}
	if !slices.Equal(txt, want) {
		t.Errorf("TXT = %q, want %q (no p when 0, no n when empty)", txt, want)
	}
	txt, err = Record{ID: idA, Players: 2, Name: "a b=%"}.TXT()
	if err != nil {
		t.Fatal(err)
	}
	want = []string{"id=" + idA, "v=0", "s=0", "p=2", "n=a b%3D%25"}
	if !slices.Equal(txt, want) {
		t.Errorf("TXT = %q, want %q", txt, want)
	}
}

func TestTXTMaximumLength(t *testing.T) {
	// Every byte of the longest name needs escaping: the largest TXT.
	r := Record{ID: idA, Version: 65535, Seats: 255, Players: 255, Name: strings.Repeat("é", MaxNameLen/2) + "%"}
	txt, err := r.TXT()
	if err != nil {
		t.Fatal(err)
	}
	if n := txtLen(txt); n != 280 {
		t.Errorf("largest TXT takes %d bytes, documented as 280", n)
	}
	checkTXTShape(t, txt)
}

func TestTXTTruncatesNameAtRuneBoundary(t *testing.T) {
	for _, tc := range []struct{ name, want string }{
		{strings.Repeat("a", 63), strings.Repeat("a", 63)},
		{strings.Repeat("a", 64), strings.Repeat("a", 63)},
		{strings.Repeat("a", 62) + "é", strings.Repeat("a", 62)},       // 64 bytes, é would straddle
		{strings.Repeat("日", 22), strings.Repeat("日", 21)},             // 66 → 63
		{strings.Repeat("a", 61) + "😀", strings.Repeat("a", 61)},       // 4-byte rune cut whole
		{strings.Repeat("ab", 500), strings.Repeat("ab", 31) + "a"},    // long
		{"x" + strings.Repeat("€", 30), "x" + strings.Repeat("€", 20)}, // 1+90 → 61
	} {
		txt, err := Record{ID: idA, Name: tc.name}.TXT()
		if err != nil {
			t.Fatalf("TXT with %d-byte name: %v", len(tc.name), err)
		}
		got, err := ParseTXT(txt)
		if err != nil {
			t.Fatal(err)
		}
		if got.Name != tc.want || !utf8.ValidString(got.Name) || len(got.Name) > MaxNameLen {
			t.Errorf("name of %d bytes became %q (%d bytes), want %q", len(tc.name), got.Name, len(got.Name), tc.want)
		}
	}
}

func TestTXTRejects(t *testing.T) {
	for _, tc := range []struct {
		what string
		r    Record
	}{
		{"empty id", Record{}},
		{"short id", Record{ID: idA[:63]}},
		{"long id", Record{ID: idA + "0"}},
		{"upper-case id", Record{ID: strings.ToUpper(idA)}},
		{"non-hex id", Record{ID: strings.Repeat("g", 64)}},
		{"negative version", Record{ID: idA, Version: -1}},
		{"version too big", Record{ID: idA, Version: 65536}},
		{"negative seats", Record{ID: idA, Seats: -1}},
		{"seats too big", Record{ID: idA, Seats: 256}},
		{"players too big", Record{ID: idA, Players: 256}},
		{"invalid UTF-8 name", Record{ID: idA, Name: "a\xffb"}},
		{"newline in name", Record{ID: idA, Name: "a\nb"}},
		{"NUL in name", Record{ID: idA, Name: "a\x00"}},
		{"DEL in name", Record{ID: idA, Name: "a\x7f"}},
		{"C1 control in name", Record{ID: idA, Name: "a\u0085"}},
	} {
		_, err := tc.r.TXT()
		if !errors.Is(err, ErrInvalidRecord) || !strings.HasPrefix(err.Error(), "discovery: ") {
			t.Errorf("%s: TXT error = %v, want ErrInvalidRecord", tc.what, err)
		}
	}
}

func TestParseTXTAccepts(t *testing.T) {
	for _, tc := range []struct {
		what string
		txt  []string
		want Record
	}{
		{"minimal", []string{"id=" + idA, "v=0"}, Record{ID: idA}},
		{"order free, unknown keys ignored", []string{"zz=1", "s=4", "flag", "v=3", "id=" + idA, "x="},
			Record{ID: idA, Version: 3, Seats: 4}},
		{"empty strings skipped", []string{"", "id=" + idA, "", "v=1"}, Record{ID: idA, Version: 1}},
		{"keys case-insensitive", []string{"ID=" + idA, "V=9", "S=1", "P=2", "N=x"},
			Record{ID: idA, Version: 9, Seats: 1, Players: 2, Name: "x"}},
		{"lower-case escapes", []string{"id=" + idA, "v=1", "n=Zo%c3%ab"}, Record{ID: idA, Version: 1, Name: "Zoë"}},
		{"needless escapes", []string{"id=" + idA, "v=1", "n=%61b"}, Record{ID: idA, Version: 1, Name: "ab"}},
		{"empty name", []string{"id=" + idA, "v=1", "n="}, Record{ID: idA, Version: 1}},
		{"maximum numbers", []string{"id=" + idA, "v=65535", "s=255", "p=255"},
			Record{ID: idA, Version: 65535, Seats: 255, Players: 255}},
		{"63-byte name", []string{"id=" + idA, "v=0", "n=" + strings.Repeat("%E6%97%A5", 21)},
			Record{ID: idA, Name: strings.Repeat("日", 21)}},
	} {
		got, err := ParseTXT(tc.txt)
		if err != nil || !sameRecord(got, tc.want) {
			t.Errorf("%s: ParseTXT(%q) = %+v, %v; want %+v", tc.what, tc.txt, got, err, tc.want)
		}
	}
}

func TestParseTXTHostile(t *testing.T) {
	id, v := "id="+idA, "v=1"
	for _, tc := range []struct {
		what string
		txt  []string
	}{
		{"nil", nil},
		{"missing id", []string{v}},
		{"missing v", []string{id}},
		{"duplicate id", []string{id, v, id}},
		{"duplicate id, other case", []string{id, v, "ID=" + idB}},
		{"duplicate v", []string{id, v, "v=2"}},
		{"duplicate name", []string{id, v, "n=a", "n=b"}},
		{"duplicate unknown key", []string{id, v, "x=1", "X=2"}},
		{"id without value", []string{"id", v}},
		{"v without value", []string{id, "v"}},
		{"empty key", []string{id, v, "=x"}},
		{"short id", []string{"id=" + idA[:63], v}},
		{"upper-case id", []string{"id=" + strings.ToUpper(idA), v}},
		{"non-hex id", []string{"id=" + strings.Repeat("z", 64), v}},
		{"empty number", []string{id, "v="}},
		{"negative", []string{id, "v=-1"}},
		{"plus sign", []string{id, "v=+1"}},
		{"leading zero", []string{id, "v=01"}},
		{"hex number", []string{id, "v=0x1"}},
		{"exponent", []string{id, v, "p=1e2"}},
		{"space in number", []string{id, "v= 1"}},
		{"version too big", []string{id, "v=65536"}},
		{"version far too big", []string{id, "v=99999999999999999999"}},
		{"seats too big", []string{id, v, "s=256"}},
		{"players too big", []string{id, v, "p=300"}},
		{"lone percent", []string{id, v, "n=%"}},
		{"truncated escape", []string{id, v, "n=ab%4"}},
		{"bad escape", []string{id, v, "n=%ZZ"}},
		{"escape of invalid UTF-8", []string{id, v, "n=%FF"}},
		{"truncated rune", []string{id, v, "n=%C3"}},
		{"escaped newline", []string{id, v, "n=a%0Ab"}},
		{"escaped NUL", []string{id, v, "n=%00"}},
		{"escaped C1 control", []string{id, v, "n=%C2%85"}},
		{"literal = in name", []string{id, v, "n=a=b"}},
		{"literal percent-free backslash", []string{id, v, `n=a\b`}},
		{"miekg escape of a quote", []string{id, v, `n=\"`}},
		{"miekg escape of a byte", []string{id, v, `n=\195\169`}},
		{"raw non-ASCII", []string{id, v, "n=é"}},
		{"raw control in unknown key", []string{id, v, "x=\x01"}},
		{"raw DEL", []string{id, v, "x\x7f"}},
		{"NUL", []string{id + "\x00", v}},
		{"decoded name too long", []string{id, v, "n=" + strings.Repeat("a", 64)}},
		{"encoded name too long", []string{id, v, "n=" + strings.Repeat("%61", 64)}},
		{"400 bytes", []string{id, v, "x=" + strings.Repeat("a", MaxTXTLen-75)}},
		{"many empty strings", make([]string, 1000)},
	} {
		got, err := ParseTXT(tc.txt)
		if !errors.Is(err, ErrInvalidRecord) || !strings.HasPrefix(err.Error(), "discovery: ") {
			t.Errorf("%s: ParseTXT(%q) = %+v, %v; want ErrInvalidRecord", tc.what, tc.txt, got, err)
		}
		if err != nil && (!sameRecord(got, Record{}) || got.Addrs != nil) {
			t.Errorf("%s: ParseTXT returned %+v with its error", tc.what, got)
		}
	}
	// Just below the limit is fine.
	ok := []string{"id=" + idA, "v=1", "x=" + strings.Repeat("a", MaxTXTLen-76)}
	if txtLen(ok) != MaxTXTLen-1 {
		t.Fatalf("test TXT takes %d bytes", txtLen(ok))
	}
	if _, err := ParseTXT(ok); err != nil {
		t.Errorf("ParseTXT of %d bytes: %v", txtLen(ok), err)
	}
}

// checkParsed fails unless a record that ParseTXT accepted is one TXT can
// encode and that survives another round trip unchanged.
func checkParsed(t *testing.T, r Record) {
	t.Helper()
	if r.Instance != "" || r.Addrs != nil || r.Port != 0 {
		t.Fatalf("ParseTXT filled fields outside TXT: %+v", r)
	}
	if len(r.Name) > MaxNameLen || !utf8.ValidString(r.Name) {
		t.Fatalf("ParseTXT returned bad name %q", r.Name)
	}
	txt, err := r.TXT()
	if err != nil {
		t.Fatalf("accepted %+v, but TXT refuses it: %v", r, err)
	}
	checkTXTShape(t, txt)
	again, err := ParseTXT(txt)
	if err != nil || !sameRecord(again, r) {
		t.Fatalf("re-encoded %+v as %q, parsed back %+v, %v", r, txt, again, err)
	}
}

// TestParseTXTTruncation cuts every string of a full record at every byte
// and drops trailing strings: no panic, and whatever is accepted is valid.
func TestParseTXTTruncation(t *testing.T) {
	full, err := Record{ID: idA, Version: 300, Seats: 12, Players: 200, Name: "Zoë's 100% game"}.TXT()
	if err != nil {
		t.Fatal(err)
	}
	for i := range full {
		for cut := 0; cut < len(full[i]); cut++ {
			txt := slices.Clone(full)
			txt[i] = txt[i][:cut]
			r, err := ParseTXT(txt)
			if i == 0 && err == nil {
				t.Errorf("id cut to %q accepted", txt[0])
			}
			if err == nil {
				checkParsed(t, r)
			}
		}
		if r, err := ParseTXT(full[:i]); err == nil {
			checkParsed(t, r)
		}
	}
	// Cuts inside a %-escape of the name are errors.
	name := full[len(full)-1]
	for cut := 0; cut < len(name); cut++ {
		if j := strings.LastIndexByte(name[:cut], '%'); j >= 0 && cut-j < 3 {
			txt := slices.Clone(full)
			txt[len(txt)-1] = name[:cut]
			if _, err := ParseTXT(txt); err == nil {
				t.Errorf("name cut inside an escape (%q) accepted", txt[len(txt)-1])
			}
		}
	}
}

func FuzzParseTXT(f *testing.F) {
	for _, r := range []Record{
		{ID: idA, Version: 1, Seats: 3, Name: "ann"},
		{ID: idB, Version: 65535, Seats: 255, Players: 255, Name: "Zoë 日本 %=\\\""},
	} {
		txt, _ := r.TXT()
		f.Add(strings.Join(txt, "\x00"))
	}
	for _, s := range []string{
		"", "\x00\x00", "id=\x00v=1", "id=" + idA + "\x00v=01", "ID=" + idA + "\x00id=" + idA,
		"id=" + idA + "\x00v=1\x00n=%C3", "id=" + idA + "\x00v=1\x00n=%c3%a9", "id=" + idA + "\x00v=1\x00n=\\195",
		"id=" + idA + "\x00v=1\x00x\x00X", "=\x00=", "n=%%%",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseTXT(strings.Split(s, "\x00"))
		if err != nil {
			if !errors.Is(err, ErrInvalidRecord) {
				t.Fatalf("error %v does not wrap ErrInvalidRecord", err)
			}
			return
		}
		checkParsed(t, r)
	})
}

func TestServiceName(t *testing.T) {
	for _, tc := range []struct {
		in, want string
	}{
		{"lightcycle", "_lightcycle._udp"},
		{"a", "_a._udp"},
		{"chat-2", "_chat-2._udp"},
		{"2d-tanks", "_2d-tanks._udp"},
		{"abcdefghijklmno", "_abcdefghijklmno._udp"},
		{"a-b-c", "_a-b-c._udp"},
	} {
		got, err := ServiceName(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ServiceName(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
		if err := checkService(got); err != nil {
			t.Errorf("checkService(%q): %v", got, err)
		}
	}
	for _, in := range []string{
		"", "abcdefghijklmnop", "-game", "game-", "a--b", "123", "-", "Game", "light_cycle",
		"light.cycle", "lïght", "a b", "_game", "game\x00",
	} {
		if got, err := ServiceName(in); !errors.Is(err, ErrInvalidService) || got != "" {
			t.Errorf("ServiceName(%q) = %q, %v; want ErrInvalidService", in, got, err)
		}
	}
	for _, in := range []string{"lightcycle", "_lightcycle._tcp", "_lightcycle._udp.", "_lightcycle._udp.local.", "__udp", "_Light._udp", "._udp"} {
		if err := checkService(in); !errors.Is(err, ErrInvalidService) {
			t.Errorf("checkService(%q) = %v, want ErrInvalidService", in, err)
		}
	}
}

func TestCheckInstance(t *testing.T) {
	for _, ok := range []string{"a", "0123456789abcdef", "Ann_s-game", strings.Repeat("x", 63)} {
		if err := checkInstance(ok); err != nil {
			t.Errorf("checkInstance(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{"", strings.Repeat("x", 64), "a.b", `a\.b`, "a b", "é", "a\x00"} {
		if err := checkInstance(bad); !errors.Is(err, ErrInvalidRecord) {
			t.Errorf("checkInstance(%q) = %v, want ErrInvalidRecord", bad, err)
		}
	}
}

func FuzzServiceName(f *testing.F) {
	for _, s := range []string{"lightcycle", "a-b", "-a", "a--b", "123", "_x._udp", "_lightcycle._udp", "__udp", "Ab", "é"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		name, err := ServiceName(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidService) || name != "" {
				t.Fatalf("ServiceName(%q) = %q, %v", s, name, err)
			}
		} else if name != "_"+s+"._udp" || checkService(name) != nil || len(s) > 15 {
			t.Fatalf("ServiceName(%q) = %q, checkService: %v", s, name, checkService(name))
		}
		if err := checkService(s); err == nil {
			inner := s[1 : len(s)-len("._udp")]
			if again, err := ServiceName(inner); err != nil || again != s {
				t.Fatalf("checkService accepts %q but ServiceName(%q) = %q, %v", s, inner, again, err)
			}
		} else if !errors.Is(err, ErrInvalidService) {
			t.Fatalf("checkService(%q) = %v", s, err)
		}
	})
}
