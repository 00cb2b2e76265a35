package main

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pumpnet/pumpnet/lobby"
)

// TestFirstServer checks how a -lan client picks its server: the first
// server of the first list that is not empty, or errNoServer when the time
// is up.
func TestFirstServer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := lobby.ServerInfo{Name: "a", Addr: netip.MustParseAddrPort("10.0.0.2:31425")}
		b := lobby.ServerInfo{Name: "b", Addr: netip.MustParseAddrPort("10.0.0.1:31425")}
		list := make(chan []lobby.ServerInfo, 1)
		go func() {
			list <- []lobby.ServerInfo{} // the first poll found nothing
			time.Sleep(time.Second)
			list <- []lobby.ServerInfo{a, b}
		}()
		ctx, cancel := context.WithTimeout(t.Context(), lanFindTimeout)
		defer cancel()
		got, err := firstServer(ctx, list)
		if err != nil || got != a {
			t.Fatalf("firstServer: %+v, %v; want %+v", got, err, a)
		}

		start := time.Now()
		list = make(chan []lobby.ServerInfo, 1)
		list <- []lobby.ServerInfo{}
		ctx, cancel = context.WithTimeout(t.Context(), lanFindTimeout)
		defer cancel()
		go func() { <-ctx.Done(); close(list) }() // as Browse does
		_, err = firstServer(ctx, list)
		if !errors.Is(err, errNoServer) || !errors.Is(err, context.DeadlineExceeded) || time.Since(start) != lanFindTimeout {
			t.Fatalf("no server: %v after %v", err, time.Since(start))
		}
	})
}

func TestLANName(t *testing.T) {
	for host, want := range map[string]string{
		"":                       "chat",
		"box":                    "chat on box",
		"evil\x1b]0;x\x07":       "chat on evil]0;x",
		strings.Repeat("é", 40):  "chat on " + strings.Repeat("é", 27),
		strings.Repeat("x", 100): "chat on " + strings.Repeat("x", 55),
	} {
		got := lanName(host)
		if got != want || lobby.ValidateDisplayName(got) != nil {
			t.Errorf("lanName(%q) = %q, want %q", host, got, want)
		}
	}
}
