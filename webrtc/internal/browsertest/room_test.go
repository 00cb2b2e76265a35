package browsertest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/pumpnet/pumpnet/engine"
	"github.com/pumpnet/pumpnet/lobby"
	"github.com/pumpnet/pumpnet/rendezvous"
)

// roomResult mirrors roomclient.Result.
type roomResult struct {
	Error  string `json:"error"`
	ID     string `json:"id"`
	Added  string `json:"added"`
	PeerID string `json:"peerID"`
	Chat   string `json:"chat"`
	Reply  string `json:"reply"`
	Asked  bool   `json:"asked"`
}

// nativeMember is the native session's listener.
type nativeMember struct {
	s       *lobby.Session
	added   []*lobby.Peer
	removed []string
	chat    string
	reply   string
}

func (n *nativeMember) PeerAdded(p *lobby.Peer) {
	n.added = append(n.added, p)
	n.s.Send(engine.Msg{"action": "chat", "text": "hello from the native member"}, engine.To(p))
	p.Request(context.Background(), engine.Msg{"action": "ask", "text": "native question"}, func(m engine.Msg, err error) {
		if err != nil {
			n.reply = "error: " + err.Error()
			return
		}
		n.reply = fmt.Sprint(m["text"])
	}, engine.Timeout(30*time.Second))
}

func (n *nativeMember) PeerRemoved(p *lobby.Peer, reason error) {
	n.removed = append(n.removed, fmt.Sprintf("%s: %v", p.Name, reason))
}

func (n *nativeMember) Network_chat(p *lobby.Peer, m engine.Msg) { n.chat = fmt.Sprint(m["text"]) }

func (n *nativeMember) Network_ask(p *lobby.Peer, m engine.Msg) {
	p.Reply(engine.Msg{"action": "answer", "text": fmt.Sprintf("re: %v from the native member", m["text"])})
}

// TestBrowserInLobbyRoom: a lobby session in headless Chromium (wasm, the
// browser's RTCPeerConnection, a DTLS key the browser makes) joins a
// rendezvous room that a native session created, by its code: both add
// each other, each sees the other's identity (the browser's is the key it
// proved to the rendezvous, not its DTLS key), and a chat and a request
// travel each way. Everything is on loopback: the native side's ICE uses
// loopback addresses only, and Chromium is allowed loopback candidates.
func TestBrowserInLobbyRoom(t *testing.T) {
	chromium := findChromium()
	if chromium == "" {
		t.Skip("no Chromium found (chromium, chromium-browser, google-chrome, or $CHROMIUM): apt-get install chromium")
	}
	dir := t.TempDir()
	buildWasm(t, dir, "./roomclient")

	srv, err := rendezvous.NewServer(rendezvous.Config{})
	if err != nil {
		t.Fatal(err)
	}
	rdv := httptest.NewServer(srv)
	defer rdv.Close()
	defer srv.Close()

	lo, err := loopbackInterface()
	if err != nil {
		t.Skip(err)
	}
	native, err := lobby.Join(t.Context(), lobby.Config{DisplayName: "native", ServiceType: "test-game",
		Rendezvous: rdv.URL, CreateRoom: true, Interface: lo}) // ICE on loopback only
	if err != nil {
		t.Fatal(err)
	}
	defer native.Close()
	member := &nativeMember{s: native}
	if err := native.Register(member); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	loopDone := make(chan struct{})
	go func() {
		defer close(loopDone)
		for {
			select {
			case <-stop:
				return
			default:
			}
			native.PumpWait(context.Background(), 5*time.Millisecond)
		}
	}()

	base := servePage(t, dir, http.NotFoundHandler())
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	bctx := newBrowser(t, ctx, chromium,
		chromedp.Flag("allow-loopback-in-peer-connection", true),
		chromedp.Flag("disable-features", "WebRtcHideLocalIpsWithMdns"))
	pageURL := base + "/?" + url.Values{"rdv": {rdv.URL}, "room": {native.Room()}}.Encode()
	var text string
	err = chromedp.Do(bctx,
		chromedp.Navigate(pageURL),
		chromedp.WaitVisible(chromedp.CSS(`#result[data-done="1"]`)),
	)
	if err == nil {
		text, err = chromedp.Run(bctx, chromedp.Text(chromedp.CSS("#result")))
	}
	time.Sleep(time.Second) // the browser's last messages reach the native member
	close(stop)
	<-loopDone
	if err != nil {
		t.Fatalf("browser: %v", err)
	}
	var r roomResult
	if err := json.Unmarshal([]byte(text), &r); err != nil {
		t.Fatalf("page result %q: %v", text, err)
	}
	t.Logf("page: %+v", r)
	if r.Error != "" {
		t.Fatalf("page: %s", r.Error)
	}
	if r.Added != "native" || r.PeerID != native.ID().String() {
		t.Errorf("the browser added %q (%s), want the native member (%s)", r.Added, r.PeerID, native.ID())
	}
	if r.Chat != "hello from the native member" || r.Reply != "re: browser's question from the native member" || !r.Asked {
		t.Errorf("the browser got chat %q, reply %q, asked %v", r.Chat, r.Reply, r.Asked)
	}
	if len(member.added) != 1 || member.added[0].Name != "browser" || member.added[0].Fingerprint().String() != r.ID {
		t.Fatalf("the native member added %v, want the browser with its identity %s", member.added, r.ID)
	}
	if member.chat != "hello from the browser" || member.reply != "re: native question from the browser" {
		t.Errorf("the native member got chat %q, reply %q", member.chat, member.reply)
	}
	if len(member.removed) != 0 {
		t.Errorf("the native member removed %v", member.removed)
	}
}

// loopbackInterface returns the machine's loopback interface.
func loopbackInterface() (*net.Interface, error) {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil, err
	}
	for i := range ifs {
		if ifs[i].Flags&net.FlagLoopback != 0 {
			return &ifs[i], nil
		}
	}
	return nil, errors.New("no loopback interface")
}
