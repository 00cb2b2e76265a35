package main

import (
	"io"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestLineEditor types into the client's line editor through a pipe while
// chat arrives, and reads the screen through a small terminal model:
// arriving lines go above the line being typed, which is redrawn whole
// (no "hello this is a half-typed libob: hi ann"); a sent line leaves the
// input line (the server's echo "ann: ..." is its only copy on screen).
func TestLineEditor(t *testing.T) {
	inR, inW := io.Pipe()
	scr := newScreen()
	lines := make(chan string)
	stop := make(chan struct{})
	defer close(stop)
	ed := newLineEditor(inR, scr, lines, stop)
	ended := make(chan error, 1)
	go func() {
		for {
			if _, err := ed.ReadLine(); err != nil {
				ended <- err
				return
			}
		}
	}()

	type_ := func(s string) {
		t.Helper()
		if _, err := inW.Write([]byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	type_("hello this is a half-typ")
	scr.waitFor(t, "> hello this is a half-typ")
	ed.Write([]byte("bob: hi ann\n"))
	scr.waitFor(t, "bob: hi ann\n> hello this is a half-typ")
	type_("ed line\r")
	select {
	case got := <-lines:
		if got != "hello this is a half-typed line" {
			t.Fatalf("sent %q, want the whole line", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no line sent after Enter")
	}
	scr.waitFor(t, "bob: hi ann\n>")
	ed.Write([]byte("ann: hello this is a half-typed line\n"))
	scr.waitFor(t, "bob: hi ann\nann: hello this is a half-typed line\n>")

	type_("\x04") // Ctrl-D on an empty line: end of input
	select {
	case err := <-ended:
		if err != io.EOF {
			t.Fatalf("ReadLine ended with %v, want io.EOF", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Ctrl-D did not end input")
	}
}

// screen is a terminal model good enough for x/term's output: printable
// runes, CR, LF, and CSI n A/B/C/D (cursor moves) and K (clear to the end
// of the line).
type screen struct {
	mu       sync.Mutex
	rows     [][]rune
	row, col int
	esc      []byte
}

func newScreen() *screen { return &screen{rows: [][]rune{nil}} }

func (s *screen) Write(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range string(b) {
		switch {
		case len(s.esc) > 0:
			s.esc = append(s.esc, byte(r))
			if r >= '@' && r <= '~' && len(s.esc) > 2 {
				s.csi(s.esc)
				s.esc = nil
			}
		case r == 0x1b:
			s.esc = []byte{0x1b}
		case r == '\r':
			s.col = 0
		case r == '\n':
			s.row++
			for len(s.rows) <= s.row {
				s.rows = append(s.rows, nil)
			}
		default:
			line := s.rows[s.row]
			for len(line) <= s.col {
				line = append(line, ' ')
			}
			line[s.col] = r
			s.rows[s.row] = line
			s.col++
		}
	}
	return len(b), nil
}

func (s *screen) csi(seq []byte) {
	n, err := strconv.Atoi(string(seq[2 : len(seq)-1]))
	if err != nil {
		n = 1
	}
	switch seq[len(seq)-1] {
	case 'A':
		s.row = max(0, s.row-n)
	case 'B':
		s.row += n
		for len(s.rows) <= s.row {
			s.rows = append(s.rows, nil)
		}
	case 'C':
		s.col += n
	case 'D':
		s.col = max(0, s.col-n)
	case 'K':
		if s.col < len(s.rows[s.row]) {
			s.rows[s.row] = s.rows[s.row][:s.col]
		}
	}
}

// text is the screen's rows, trailing spaces and empty last rows removed.
func (s *screen) text() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var rows []string
	for _, r := range s.rows {
		rows = append(rows, strings.TrimRight(string(r), " "))
	}
	return strings.TrimRight(strings.Join(rows, "\n"), "\n ")
}

func (s *screen) waitFor(t *testing.T, want string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for s.text() != want {
		if time.Now().After(deadline) {
			t.Fatalf("screen:\n%s\nwant:\n%s", s.text(), want)
		}
		time.Sleep(time.Millisecond)
	}
}
