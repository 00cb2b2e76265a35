package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseList(t *testing.T) {
	out := "TestA\nFuzzParseHeader\nFuzzParseFrame\nExampleX\nok  \tgithub.com/pumpnet/pumpnet/netcode/internal/wire\t0.01s\n"
	got := strings.Join(parseList([]byte(out)), ",")
	if got != "FuzzParseHeader,FuzzParseFrame" {
		t.Fatalf("got %q", got)
	}
}

func TestParseRun(t *testing.T) {
	ok := parseRun([]byte("fuzz: elapsed: 3s, execs: 1000 (333/sec), new interesting: 1 (total: 5)\n" +
		"fuzz: elapsed: 10s, execs: 4242 (424/sec), new interesting: 1 (total: 5)\nPASS\n"))
	if ok.execs != 4242 || ok.crasher != "" || ok.summary != "" {
		t.Fatalf("passing run parsed as %+v", ok)
	}
	bad := parseRun([]byte("fuzz: elapsed: 2s, execs: 77 (38/sec)\n--- FAIL: FuzzX (2.01s)\n" +
		"    --- FAIL: FuzzX (0.00s)\n        x_test.go:9: boom\n\n" +
		"    Failing input written to testdata/fuzz/FuzzX/0123abcd\n    To re-run:\nFAIL\n"))
	if bad.execs != 77 || bad.crasher != "testdata/fuzz/FuzzX/0123abcd" || !strings.Contains(bad.summary, "boom") {
		t.Fatalf("failing run parsed as %+v", bad)
	}
}

func TestIsDeadlineRace(t *testing.T) {
	race := "fuzz: elapsed: 30s, execs: 101343 (2865/sec), new interesting: 36 (total: 36)\n" +
		"fuzz: elapsed: 31s, execs: 101343 (0/sec), new interesting: 36 (total: 36)\n" +
		"--- FAIL: FuzzOpen (31.00s)\n    context deadline exceeded\nFAIL\nexit status 1\n" +
		"FAIL\tgithub.com/pumpnet/pumpnet/netcode\t31.021s\n"
	if !isDeadlineRace([]byte(race), "FuzzOpen") {
		t.Error("the coordinator's bare deadline error was not recognised")
	}
	for name, out := range map[string]string{
		"other target": race,
		"real failure": "--- FAIL: FuzzOpen (2.01s)\n    --- FAIL: FuzzOpen (0.00s)\n        open_test.go:9: boom\n" +
			"    Failing input written to testdata/fuzz/FuzzOpen/0123abcd\nFAIL\n",
		"deadline plus more": "--- FAIL: FuzzOpen (31.00s)\n    context deadline exceeded\n    panic: x\nFAIL\n",
		"no FAIL line":       "context deadline exceeded\n",
	} {
		target := "FuzzOpen"
		if name == "other target" {
			target = "FuzzOpenX"
		}
		if isDeadlineRace([]byte(out), target) {
			t.Errorf("%s: taken for the coordinator race", name)
		}
	}
}

func TestGrew(t *testing.T) {
	before := map[string]bool{"seed1": true}
	if grew(before, map[string]bool{"seed1": true}) {
		t.Error("same corpus reported as grown")
	}
	if !grew(before, map[string]bool{"seed1": true, "abc123": true}) {
		t.Error("a new file was not noticed")
	}
}

func TestDeclaresFuzz(t *testing.T) {
	dir := t.TempDir()
	write := func(name, src string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a_test.go", "package a\n\nfunc TestX(t *testing.T) {}\n// func FuzzNot(f *testing.F) in a comment\n")
	write("b_test.go", "package a\n\nfunc FuzzParse(f *testing.F) {\n}\n")
	if declaresFuzz(dir, []string{"a_test.go"}) {
		t.Error("a file without a fuzz target was taken for one")
	}
	if !declaresFuzz(dir, []string{"a_test.go", "b_test.go"}) {
		t.Error("FuzzParse was not found")
	}
	if declaresFuzz(dir, []string{"missing_test.go"}) {
		t.Error("a missing file declared a target")
	}
}
