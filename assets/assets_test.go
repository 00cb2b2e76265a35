package assets

import (
	"bytes"
	"encoding/binary"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// wavInfo parses the header of a canonical PCM WAV file.
type wavInfo struct {
	channels, rate, bits int
	samples              int
}

func parseWAV(b []byte) (wavInfo, bool) {
	le := binary.LittleEndian
	if len(b) < 44 || string(b[0:4]) != "RIFF" || string(b[8:16]) != "WAVEfmt " ||
		string(b[36:40]) != "data" || int(le.Uint32(b[4:8])) != len(b)-8 ||
		le.Uint16(b[20:22]) != 1 || int(le.Uint32(b[40:44])) != len(b)-44 {
		return wavInfo{}, false
	}
	w := wavInfo{
		channels: int(le.Uint16(b[22:24])),
		rate:     int(le.Uint32(b[24:28])),
		bits:     int(le.Uint16(b[34:36])),
	}
	if w.bits != 16 || w.channels != 1 {
		return w, false
	}
	w.samples = (len(b) - 44) / 2
	return w, true
}

func TestSoundsAreMonoPCM(t *testing.T) {
	for _, s := range Sounds() {
		w, ok := parseWAV(s.WAV)
		if !ok {
			t.Errorf("%s: not a 16-bit mono PCM WAV (%+v)", s.Name, w)
			continue
		}
		d := float64(w.samples) / float64(w.rate)
		if w.rate != 44100 || d < 0.02 || d > 2 {
			t.Errorf("%s: %d Hz, %.3f s; want 44100 Hz and 0.02..2 s", s.Name, w.rate, d)
		}
		// Not silent, and not clipped all the way.
		var peak int
		for i := 44; i+1 < len(s.WAV); i += 2 {
			v := int(int16(binary.LittleEndian.Uint16(s.WAV[i:])))
			peak = max(peak, v, -v)
		}
		if peak < 3000 || peak > 32767 {
			t.Errorf("%s: peak %d, want audible and within range", s.Name, peak)
		}
	}
}

func TestFontsAreTrueType(t *testing.T) {
	for name, b := range map[string][]byte{"GoRegular": GoRegular, "GoBold": GoBold, "GoMono": GoMono} {
		if len(b) < 1000 || !bytes.Equal(b[:4], []byte{0, 1, 0, 0}) {
			t.Errorf("%s: not a TrueType font (%d bytes)", name, len(b))
		}
	}
}

// TestEveryFileIsEmbeddedAndLicensed checks that every file under fonts/ and
// sounds/ is listed in LICENSES.md, and every sound is in Sounds.
func TestEveryFileIsEmbeddedAndLicensed(t *testing.T) {
	licences, err := os.ReadFile("LICENSES.md")
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	for _, s := range Sounds() {
		listed[s.Name] = true
	}
	for _, dir := range []string{"fonts", "sounds"} {
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			path := dir + "/" + e.Name()
			if !bytes.Contains(licences, []byte("`"+path+"`")) {
				t.Errorf("%s is not named in LICENSES.md", path)
			}
			if dir == "sounds" && !listed[e.Name()] {
				t.Errorf("%s is not in Sounds()", path)
			}
		}
	}
}

// TestImportsOnlyEmbed keeps the package free of any graphics or audio
// library: it lives in the core module, which must not depend on ebiten.
func TestImportsOnlyEmbed(t *testing.T) {
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			if p, _ := strconv.Unquote(imp.Path.Value); p != "embed" {
				t.Errorf("%s imports %q; package assets may import only embed", name, p)
			}
		}
	}
}

// TestGeneratorReproducesSounds reruns gen/main.go and compares its output
// with the committed sounds, so a sound edited by hand, or a generator
// changed without regenerating, is caught.
func TestGeneratorReproducesSounds(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command; skipped with -short")
	}
	dir := t.TempDir()
	cmd := exec.Command("go", "run", filepath.Join("gen", "main.go"), "-dir", dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go run gen/main.go: %v\n%s", err, out)
	}
	for _, s := range Sounds() {
		got, err := os.ReadFile(filepath.Join(dir, s.Name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, s.WAV) {
			t.Errorf("%s: committed file differs from the generator's output; run go generate ./assets", s.Name)
		}
	}
}
