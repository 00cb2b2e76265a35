package main

import (
	"bufio"
	"io"
	"os"

	"golang.org/x/term"
)

// console is where the client's text goes in and out. On a terminal it is
// a line editor (golang.org/x/term): what arrives is printed above the line
// being typed, which is redrawn, so the two never garble each other; a line
// you send disappears from the input line and comes back as "you: text"
// when the server relays it. Anywhere else (pipes, the tests) it is plain
// lines in, plain lines out.
type console struct {
	out     io.Writer
	lines   <-chan string
	restore func()
}

// submitKey stands for Enter on the way into the line editor: a control
// character that x/term passes to AutoCompleteCallback (it handles Enter
// itself, leaving the typed line on the screen above the next prompt).
const submitKey = 0x1e

// openConsole starts reading lines from stdin until it ends or stop is
// closed. Its reading goroutine cannot be interrupted in a Read: it ends at
// the next line or at the end of input (or with the process). Call restore
// before the program exits: it puts a terminal back as it was.
func openConsole(stdin io.Reader, stdout io.Writer, stop <-chan struct{}) *console {
	lines := make(chan string)
	in, inOK := stdin.(*os.File)
	out, outOK := stdout.(*os.File)
	if inOK && outOK && term.IsTerminal(int(in.Fd())) && term.IsTerminal(int(out.Fd())) {
		if old, err := term.MakeRaw(int(in.Fd())); err == nil {
			t := newLineEditor(in, out, lines, stop)
			go func() {
				defer close(lines)
				for {
					if _, err := t.ReadLine(); err != nil { // Ctrl-D or Ctrl-C: io.EOF
						return
					}
				}
			}()
			return &console{out: t, lines: lines, restore: func() { term.Restore(int(in.Fd()), old) }}
		}
	}
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdin)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-stop:
				return
			}
		}
	}()
	return &console{out: stdout, lines: lines, restore: func() {}}
}

// newLineEditor returns a line editor reading keys from in and drawing on
// out. Each line submitted with Enter goes to lines (or is dropped once stop
// is closed) and is cleared from the input line; the caller loops on
// ReadLine, which returns only at the end of input.
func newLineEditor(in io.Reader, out io.Writer, lines chan<- string, stop <-chan struct{}) *term.Terminal {
	t := term.NewTerminal(struct {
		io.Reader
		io.Writer
	}{submitReader{in}, out}, "> ")
	t.AutoCompleteCallback = func(line string, _ int, key rune) (string, int, bool) {
		if key != submitKey {
			return "", 0, false
		}
		if line != "" {
			t.History.Add(line) // runs on ReadLine's goroutine, as History requires
		}
		select {
		case lines <- line:
		case <-stop:
		}
		return "", 0, true // clears the input line
	}
	return t
}

// submitReader turns Enter (CR or LF) into submitKey.
type submitReader struct{ r io.Reader }

func (s submitReader) Read(b []byte) (int, error) {
	n, err := s.r.Read(b)
	for i, c := range b[:n] {
		if c == '\r' || c == '\n' {
			b[i] = submitKey
		}
	}
	return n, err
}
