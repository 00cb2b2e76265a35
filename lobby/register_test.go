package lobby

import (
	"errors"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/pumpnet/pumpnet/engine"
	"github.com/pumpnet/pumpnet/netcode"
)

type wrongRemoved struct{}

// PeerRemoved lacks the reason: the session would never call it.
func (wrongRemoved) PeerRemoved(p *Peer) {}

type wrongHost struct{}

func (wrongHost) HostChanged(id string) {}

type nothingHere struct{}

type goodListener struct{}

func (goodListener) PeerAdded(*Peer)                     {}
func (goodListener) PeerRemoved(*Peer, error)            {}
func (goodListener) PeerRefused(*Peer, error)            {}
func (goodListener) HostChanged(netcode.Fingerprint)     {}
func (goodListener) Network_chat(p *Peer, m engine.Msg)  {}
func (*goodListener) Network_move(p *Peer, m engine.Msg) {}

// TestRegisterChecksListeners: what Register cannot call is an error at
// Register (it used to be accepted and silently never called), naming the
// method and the signature wanted; a correct listener registers.
func TestRegisterChecksListeners(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newLAN(t).join("ann")
		before := len(s.listeners)
		var nilPtr *goodListener
		for _, tc := range []struct {
			obj  any
			want error
			text string
		}{
			{nil, engine.ErrBadHandler, "Register(nil)"},
			{nilPtr, engine.ErrBadHandler, "Register(nil *lobby.goodListener)"},
			{wrongRemoved{}, engine.ErrBadHandler, "PeerRemoved has signature func(*engine.Peer), want func(*engine.Peer, error)"},
			{wrongHost{}, engine.ErrBadHandler, "HostChanged has signature func(string)"},
			{nothingHere{}, engine.ErrNoHandlers, "has no PeerAdded"},
		} {
			err := s.Register(tc.obj)
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.text) {
				t.Errorf("Register(%T): %v; want %v saying %q", tc.obj, err, tc.want, tc.text)
			}
		}
		if n := len(s.listeners) - before; n != 0 {
			t.Fatalf("%d listeners registered by failed calls", n)
		}
		if err := s.Register(&goodListener{}); err != nil {
			t.Fatalf("a correct listener: %v", err)
		}
		s.Close()
	})
}
