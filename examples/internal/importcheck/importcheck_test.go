package importcheck

import (
	"os"
	"path/filepath"
	"testing"
)

func TestOnly(t *testing.T) {
	dir := t.TempDir()
	src := "package p\n\nimport (\n\t\"fmt\"\n\t\"net\"\n)\n\nvar _, _ = fmt.Sprint, net.IPv4len\n"
	if err := os.WriteFile(filepath.Join(dir, "p.go"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "p_test.go"), []byte("package p\n\nimport \"os\"\n\nvar _ = os.Args\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var ok, bad recorder
	Only(&ok, dir, "fmt", "net")
	if ok.failed {
		t.Error("allowed imports failed the check")
	}
	Only(&bad, dir, "fmt")
	if !bad.failed {
		t.Error("an import of net passed a list without it")
	}
}

// recorder is a T that only records whether it failed (the checks above
// never reach Fatal).
type recorder struct{ failed bool }

func (r *recorder) Helper()               {}
func (r *recorder) Errorf(string, ...any) { r.failed = true }
func (r *recorder) Fatal(...any)          { r.failed = true }
func (r *recorder) Fatalf(string, ...any) { r.failed = true }
