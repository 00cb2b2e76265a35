package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pumpnet/pumpnet/examples/whiteboard/board"
	"github.com/pumpnet/pumpnet/examples/whiteboard/room"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestServesWithoutADisplay runs the command and draws through it with a
// headless client.
func TestServesWithoutADisplay(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"-serve", "127.0.0.1:0"}, out, &bytes.Buffer{}) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	}()
	var cs string
	deadline := time.Now().Add(10 * time.Second)
	for cs == "" {
		if time.Now().After(deadline) {
			t.Fatalf("no connect string:\n%s", out.String())
		}
		for _, l := range strings.Split(out.String(), "\n") {
			if s, ok := strings.CutPrefix(l, "whiteboard: connect string "); ok {
				cs = s
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	c, err := room.Connect(cs, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.PenDown(board.Point{3, 4})
	for len(c.Board().Lines("1")) != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("line not relayed; status %q\n%s", c.Status(0), out.String())
		}
		c.Pump()
		time.Sleep(time.Millisecond)
	}
}

// TestDoesNotLinkEbitengine: importing Ebitengine panics without a display,
// so this command, the room and the board must not depend on it.
func TestDoesNotLinkEbitengine(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command")
	}
	cmd := exec.Command("go", "list", "-deps", ".", "../room", "../board", "../../overlay/history")
	b, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, b)
	}
	for _, dep := range strings.Fields(string(b)) {
		if strings.Contains(dep, "hajimehoshi/ebiten") {
			t.Fatalf("depends on %s", dep)
		}
	}
	if !strings.Contains(string(b), "examples/whiteboard/room") {
		t.Fatalf("go list did not list the room:\n%s", b)
	}
}

func TestUsage(t *testing.T) {
	var errOut bytes.Buffer
	if err := run(context.Background(), []string{"-h"}, &bytes.Buffer{}, &errOut); !errors.Is(err, flag.ErrHelp) || !strings.Contains(errOut.String(), "-serve") {
		t.Fatalf("-h: %v\n%s", err, errOut.String())
	}
	if err := run(context.Background(), []string{"stray"}, &bytes.Buffer{}, &errOut); err == nil {
		t.Fatal("a stray argument was accepted")
	}
}
