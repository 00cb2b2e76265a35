package main

import (
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
