package browsertest

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/pumpnet/pumpnet/engine"
	"github.com/pumpnet/pumpnet/webrtc"
)

// line mirrors engineclient.Line.
type line struct {
	Action string `msgpack:"action"`
	Text   string `msgpack:"text"`
}

// engineResult mirrors engineclient.Result.
type engineResult struct {
	Error      string   `json:"error"`
	Reliable   []string `json:"reliable"`
	Unreliable int      `json:"unreliable"`
	RTTMillis  float64  `json:"rttMillis"`
}

// engineN is engineclient.N.
const engineN = 20

// TestBrowserEngineClient: an engine.Client in headless Chromium (wasm,
// engine.Connect with a signaling URL, on the browser's RTCPeerConnection)
// and a native engine.Client play through one engine.Server, which serves
// both (Server.Serve) and relays each one's lines to the other in the mode
// they came in: reliable lines arrive all and in order, unreliable ones
// arrive; both sides check.
func TestBrowserEngineClient(t *testing.T) {
	chromium := findChromium()
	if chromium == "" {
		t.Skip("no Chromium found (chromium, chromium-browser, google-chrome, or $CHROMIUM): apt-get install chromium")
	}
	dir := t.TempDir()
	buildWasm(t, dir, "./engineclient")

	srv, err := engine.Listen("127.0.0.1:0", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	udp, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	wsrv, err := webrtc.NewServer(udp, &webrtc.ServerConfig{Config: webrtc.EngineConfig(webrtc.Config{})})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Serve(wsrv); err != nil {
		t.Fatal(err)
	}
	browserPeers := 0
	srv.OnConnect(func(p *engine.Peer) {
		if _, ok := p.Conn().(*webrtc.Conn); ok {
			browserPeers++
		}
	})
	engine.HandleFunc(srv, "line", func(p *engine.Peer, m line) {
		mode := engine.ReliableOrdered
		if strings.Contains(m.Text, "-unrel-") {
			mode = engine.Unreliable
		}
		if err := srv.Send(&m, engine.Except(p), mode); err != nil {
			t.Errorf("relay: %v", err)
		}
	})

	base := servePage(t, dir, wsrv)

	// The native player and the server run on this goroutine's loop,
	// in a goroutine, until the page is done.
	native, err := engine.Connect(srv.ConnectString(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer native.Close()
	var mu sync.Mutex
	var fromBrowser []string
	unrelFromBrowser := 0
	engine.HandleFunc(native, "line", func(_ *engine.Client, m line) {
		mu.Lock()
		defer mu.Unlock()
		if strings.HasPrefix(m.Text, "browser-rel-") {
			fromBrowser = append(fromBrowser, m.Text)
		} else if strings.HasPrefix(m.Text, "browser-unrel-") {
			unrelFromBrowser++
		}
	})
	stop := make(chan struct{})
	loopDone := make(chan struct{})
	go func() {
		defer close(loopDone)
		sentRel := false
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			srv.Pump()
			native.Pump()
			if native.Connected() && browserPeers > 0 {
				if !sentRel {
					for k := range engineN {
						native.Send(&line{Action: "line", Text: fmt.Sprintf("native-rel-%d", k)})
					}
					sentRel = true
				}
				if i%20 == 0 {
					native.Send(&line{Action: "line", Text: fmt.Sprintf("native-unrel-%d", i)}, engine.Unreliable)
				}
			}
			time.Sleep(2 * time.Millisecond)
		}
	}()

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	bctx := newBrowser(t, ctx, chromium)
	pageURL := base + "/?" + url.Values{"signal": {base + "/signal"}, "fp": {wsrv.Fingerprint().String()}}.Encode()
	var text string
	err = chromedp.Do(bctx,
		chromedp.Navigate(pageURL),
		chromedp.WaitVisible(chromedp.CSS(`#result[data-done="1"]`)),
	)
	if err == nil {
		text, err = chromedp.Run(bctx, chromedp.Text(chromedp.CSS("#result")))
	}
	if err != nil {
		close(stop)
		<-loopDone
		t.Fatalf("browser: %v", err)
	}
	time.Sleep(500 * time.Millisecond) // the browser's last lines reach the native player
	close(stop)
	<-loopDone
	var r engineResult
	if err := json.Unmarshal([]byte(text), &r); err != nil {
		t.Fatalf("page result %q: %v", text, err)
	}
	mu.Lock()
	defer mu.Unlock()
	t.Logf("page: %d reliable, %d unreliable native lines, RTT %.2f ms; native: %d reliable, %d unreliable browser lines",
		len(r.Reliable), r.Unreliable, r.RTTMillis, len(fromBrowser), unrelFromBrowser)
	if r.Error != "" {
		t.Fatalf("page: %s", r.Error)
	}
	want := func(who string) []string {
		var w []string
		for k := range engineN {
			w = append(w, fmt.Sprintf("%s-rel-%d", who, k))
		}
		return w
	}
	if !slices.Equal(r.Reliable, want("native")) {
		t.Errorf("the browser got the native reliable lines %q, want all %d in order", r.Reliable, engineN)
	}
	if !slices.Equal(fromBrowser, want("browser")) {
		t.Errorf("the native player got the browser's reliable lines %q, want all %d in order", fromBrowser, engineN)
	}
	if r.Unreliable == 0 || unrelFromBrowser == 0 {
		t.Errorf("unreliable lines: the browser got %d, the native player %d; want some each way", r.Unreliable, unrelFromBrowser)
	}
	if r.RTTMillis <= 0 {
		t.Errorf("the browser client measured no RTT")
	}
	if browserPeers != 1 {
		t.Errorf("the server saw %d browser peers, want 1", browserPeers)
	}
}
