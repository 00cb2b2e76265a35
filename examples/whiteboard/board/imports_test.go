package board

import (
	"go/parser"
	"go/token"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestImportsArePureState keeps the package free of graphics, networking
// and clocks, so the server, headless clients and the window all share it.
func TestImportsArePureState(t *testing.T) {
	allowed := map[string]bool{"cmp": true, "slices": true}
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	files := 0
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		files++
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if !allowed[path] {
				t.Errorf("%s imports %q: the board may import only %v", name, path, allowed)
			}
		}
	}
	if files == 0 {
		t.Fatal("no source files found")
	}
}
