// Package importcheck keeps a package's imports to a fixed list, for the
// examples' rules packages (lightcycle/sim, whiteboard/board), which must
// stay free of graphics, networking and clocks.
package importcheck

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// T is the part of *testing.T that Only uses.
type T interface {
	Helper()
	Errorf(format string, args ...any)
	Fatal(args ...any)
	Fatalf(format string, args ...any)
}

var _ T = (*testing.T)(nil)

// Only fails t for each import of a non-test Go file in dir that is not in
// allowed, and if dir has no such file at all.
func Only(t T, dir string, allowed ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	files := 0
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), filepath.Join(dir, name), nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		files++
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if !slices.Contains(allowed, path) {
				t.Errorf("%s imports %q: the package may import only %v", name, path, allowed)
			}
		}
	}
	if files == 0 {
		t.Fatalf("no Go source files in %s", dir)
	}
}
