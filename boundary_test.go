package pumpnet

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// forbiddenImport is the prefix no core package may depend on (DESIGN.md
// decision 5): ebiten panics at init without a display and needs cgo.
const forbiddenImport = "github.com/hajimehoshi/ebiten"

// depViolations reads `go list -deps -f '{{.ImportPath}} {{.Standard}} {{len .CgoFiles}}'`
// output and returns the lines that break the core's boundary: any ebiten
// package, and any non-standard package with cgo files.
func depViolations(listing []byte) []string {
	var bad []string
	for _, line := range strings.Split(string(listing), "\n") {
		f := strings.Fields(line)
		if len(f) != 3 {
			continue
		}
		path, std, cgo := f[0], f[1] == "true", f[2] != "0"
		switch {
		case strings.HasPrefix(path, forbiddenImport):
			bad = append(bad, path+": ebiten is confined to the examples module")
		case cgo && !std:
			bad = append(bad, path+": needs cgo")
		}
	}
	return bad
}

func TestDepViolationsDetects(t *testing.T) {
	listing := []byte("github.com/pumpnet/pumpnet/codec false 0\n" +
		"runtime/cgo true 1\n" +
		"github.com/hajimehoshi/ebiten/v2 false 0\n" +
		"github.com/example/sqlite false 2\n")
	got := depViolations(listing)
	if len(got) != 2 || !strings.HasPrefix(got[0], forbiddenImport) ||
		!strings.HasPrefix(got[1], "github.com/example/sqlite") {
		t.Fatalf("depViolations = %q, want the ebiten and the cgo package", got)
	}
}

func goCmd(t *testing.T, env []string, args ...string) []byte {
	t.Helper()
	if testing.Short() {
		t.Skip("runs the go command; skipped with -short")
	}
	cmd := exec.Command("go", args...)
	// GOWORK=off: the examples module (which may require ebiten) is not
	// part of what the core builds against.
	cmd.Env = append(append(os.Environ(), "GOWORK=off"), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, stderr.Bytes())
	}
	return out
}

// TestCoreHasNoEbitenAndNoCgo fails if any package of the core module
// depends, directly or not, on ebiten or on a non-standard cgo package.
func TestCoreHasNoEbitenAndNoCgo(t *testing.T) {
	listing := goCmd(t, []string{"CGO_ENABLED=1"}, "list", "-deps", "-test",
		"-f", "{{.ImportPath}} {{.Standard}} {{len .CgoFiles}}", "./...")
	if len(bytes.TrimSpace(listing)) == 0 {
		t.Fatal("go list printed nothing")
	}
	if bad := depViolations(listing); len(bad) > 0 {
		t.Fatalf("core module boundary broken:\n%s", strings.Join(bad, "\n"))
	}
}

// TestCoreBuildsWithoutCgo is `CGO_ENABLED=0 go build ./...` for the core.
func TestCoreBuildsWithoutCgo(t *testing.T) {
	goCmd(t, []string{"CGO_ENABLED=0"}, "build", "./...")
}

// TestNativeEngineLeavesWebRTCOut: a native game or headless server that
// imports engine does not carry the WebRTC stack; only browser builds
// (GOOS=js), whose Connect dials signaling URLs, and programs that import
// the webrtc package themselves (or lobby, whose internet sessions
// connect over WebRTC: issue 15) do.
func TestNativeEngineLeavesWebRTCOut(t *testing.T) {
	const stack = "github.com/pion/webrtc/"
	native := goCmd(t, nil, "list", "-deps", "-f", "{{.ImportPath}}", "./engine")
	if bytes.Contains(native, []byte(stack)) {
		t.Fatalf("a native build of engine imports %s", stack)
	}
	browser := goCmd(t, []string{"GOOS=js", "GOARCH=wasm"}, "list", "-deps", "-f", "{{.ImportPath}}", "./engine")
	if !bytes.Contains(browser, []byte(stack)) {
		t.Fatalf("the browser build of engine does not import %s: Connect could not dial a signaling URL", stack)
	}
}
