package main

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/pumpnet/pumpnet/engine"
	"github.com/pumpnet/pumpnet/examples/chat/chatroom"
	"github.com/pumpnet/pumpnet/examples/whiteboard/room"
	"github.com/pumpnet/pumpnet/netcode"
	"github.com/pumpnet/pumpnet/webrtc"
)

// config is what start needs.
type config struct {
	game       string // a key of games
	httpAddr   string // page and signaling (TCP)
	nativeAddr string // native clients (UDP)
	rtcAddr    string // WebRTC connections (UDP)
	wasmDir    string // holds game.wasm and wasm_exec.js (buildWasm)
	log        io.Writer

	// rtc, if set, adjusts the WebRTC configuration (the tests keep ICE
	// on loopback).
	rtc func(*webrtc.Config)
}

// gameDef is how one game is served.
type gameDef struct {
	// pkg is the package built for the browser, relative to the examples
	// module.
	pkg string
	// body is the page's HTML inside <body>, before the scripts.
	body template.HTML
	// engine adjusts the engine server's configuration (a codec).
	engine func(*engine.ServerConfig)
	// attach installs the game's server on srv; tick, if not nil, is
	// called after every Pump.
	attach func(srv *engine.Server, log io.Writer) (tick func(time.Time), err error)
}

// games are the games web serves.
var games = map[string]gameDef{
	"chat": {
		pkg: "./web/chatclient",
		body: `<h1>pumpnet chat</h1>
<p>Your nickname is the page's <code>?nick=NAME</code> (default "browser"); type <code>/nick NAME</code> to rename.</p>
<p id="status">loading...</p>
<div id="log" aria-live="polite"></div>
<form id="chat"><input id="line" autocomplete="off" size="60" placeholder="type a line; /nick NAME renames" disabled> <button id="send" disabled>Send</button></form>`,
		engine: func(*engine.ServerConfig) {},
		attach: func(srv *engine.Server, log io.Writer) (func(time.Time), error) {
			r, err := chatroom.New(srv, log)
			if err != nil {
				return nil, err
			}
			return r.Tick, nil
		},
	},
	"whiteboard": {
		pkg:    "./whiteboard",
		body:   `<p id="status" style="position:absolute;left:8px;bottom:0;margin:0;font:12px sans-serif">loading the whiteboard...</p>`,
		engine: func(c *engine.ServerConfig) { c.Codec = room.Codec() },
		attach: func(srv *engine.Server, log io.Writer) (func(time.Time), error) {
			_, err := room.NewServer(srv, log)
			return nil, err
		},
	},
}

// pageTemplate is the index page: it sets pumpnetConnect, the signaling
// URL on the page's own origin with the server's fingerprint as fragment
// (what engine.Connect takes in a browser build), then runs game.wasm.
var pageTemplate = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>pumpnet {{.Game}}</title>
<style>body{margin:0;font-family:sans-serif} h1,p,#log,form{margin:8px} #log div{white-space:pre-wrap}</style>
</head><body>
{{.Body}}
<script src="wasm_exec.js"></script>
<script>
globalThis.pumpnetConnect = new URL("signal", location.href).href + "#" + {{.Fingerprint}};
const go = new Go();
WebAssembly.instantiateStreaming(fetch("game.wasm"), go.importObject)
  .then((r) => go.run(r.instance))
  .catch((e) => { const s = document.getElementById("status"); if (s) s.textContent = "could not start the game: " + e; });
</script>
</body></html>
`))

// examplesDir returns the examples module's directory, where this file's
// source lives (go run and go test build from it), or "" if it is not
// there (a binary moved elsewhere: then the go command runs in the
// current directory).
func examplesDir() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return ""
	}
	dir := filepath.Dir(filepath.Dir(file))
	if _, err := os.Stat(filepath.Join(dir, "go.mod")); err != nil {
		return ""
	}
	return dir
}

// buildWasm builds the game's browser client into dir/game.wasm with the
// go command (GOOS=js GOARCH=wasm), compresses it (game.wasm.gz), and copies the toolchain's
// wasm_exec.js beside it. It blocks for the build (tens of seconds for the
// whiteboard).
func buildWasm(ctx context.Context, game, dir string) error {
	g, ok := games[game]
	if !ok {
		return fmt.Errorf("unknown game %q", game)
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		return fmt.Errorf("the go command builds the game for the browser: %w", err)
	}
	cmd := exec.CommandContext(ctx, goBin, "build", "-o", filepath.Join(dir, "game.wasm"), g.pkg)
	cmd.Dir = examplesDir()
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm", "CGO_ENABLED=0", "GOFLAGS=")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("building %s for the browser (run from the repository, as go run ./examples/web): %v\n%s", g.pkg, err, out)
	}
	if err := gzipFile(filepath.Join(dir, "game.wasm")); err != nil {
		return err
	}
	out, err := exec.CommandContext(ctx, goBin, "env", "GOROOT").Output()
	if err != nil {
		return fmt.Errorf("go env GOROOT: %w", err)
	}
	goroot := strings.TrimSpace(string(out))
	var js []byte
	for _, p := range []string{"lib/wasm/wasm_exec.js", "misc/wasm/wasm_exec.js"} {
		if js, err = os.ReadFile(filepath.Join(goroot, p)); err == nil {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("wasm_exec.js is not in GOROOT %s: %w", goroot, err)
	}
	return os.WriteFile(filepath.Join(dir, "wasm_exec.js"), js, 0o644)
}

// gzipFile writes path.gz, path compressed (a wasm build shrinks to
// about a fifth), which the web server sends browsers that accept gzip.
func gzipFile(path string) (err error) {
	in, err := os.Open(path)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(path + ".gz")
	if err != nil {
		return err
	}
	defer func() {
		if cerr := out.Close(); err == nil {
			err = cerr
		}
	}()
	zw, err := gzip.NewWriterLevel(out, gzip.BestSpeed)
	if err != nil {
		return err
	}
	if _, err := io.Copy(zw, in); err != nil {
		return err
	}
	return zw.Close()
}

// site is a running game server with its WebRTC server and web server.
// Run pumps it; its other methods are safe for concurrent use.
type site struct {
	game string
	srv  *engine.Server
	wsrv *webrtc.Server
	hs   *http.Server
	ln   net.Listener
	tick func(time.Time)
	log  io.Writer
	page []byte
}

// start opens the game's server (native and WebRTC) and the web server,
// serving the page, c.wasmDir's files and signaling (/signal). It does not
// block; Run pumps the game until its ctx ends, then closes everything.
func start(c config) (_ *site, err error) {
	g, ok := games[c.game]
	if !ok {
		return nil, fmt.Errorf("unknown game %q", c.game)
	}
	if c.log == nil {
		c.log = io.Discard
	}
	// One identity for both transports: the connect string's fingerprint
	// is the one the page pins.
	cert, err := netcode.GenerateCertificate()
	if err != nil {
		return nil, err
	}
	var ecfg engine.ServerConfig
	ecfg.Net.Certificate = &cert
	g.engine(&ecfg)
	srv, err := engine.Listen(c.nativeAddr, &ecfg)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			srv.Close()
		}
	}()
	tick, err := g.attach(srv, c.log)
	if err != nil {
		return nil, err
	}
	udp, err := net.ListenPacket("udp", c.rtcAddr)
	if err != nil {
		return nil, fmt.Errorf("WebRTC socket: %w", err)
	}
	wcfg := webrtc.Config{Certificate: &cert}
	if c.rtc != nil {
		c.rtc(&wcfg)
	}
	wsrv, err := webrtc.NewServer(udp, &webrtc.ServerConfig{Config: webrtc.EngineConfig(wcfg)})
	if err != nil {
		udp.Close()
		return nil, err
	}
	if err := srv.Serve(wsrv); err != nil {
		wsrv.Close()
		return nil, err
	}
	var page strings.Builder
	if err := pageTemplate.Execute(&page, map[string]any{
		"Game": c.game, "Body": g.body, "Fingerprint": wsrv.Fingerprint().String(),
	}); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", c.httpAddr)
	if err != nil {
		return nil, err
	}
	s := &site{game: c.game, srv: srv, wsrv: wsrv, ln: ln, tick: tick, log: c.log, page: []byte(page.String())}
	mux := http.NewServeMux()
	mux.Handle("/signal", wsrv)
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.Write(s.page)
	})
	mux.HandleFunc("GET /wasm_exec.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		http.ServeFile(w, r, filepath.Join(c.wasmDir, "wasm_exec.js"))
	})
	mux.HandleFunc("GET /game.wasm", func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Cache-Control", "no-store")
		h.Set("Content-Type", "application/wasm")
		h.Add("Vary", "Accept-Encoding")
		path := filepath.Join(c.wasmDir, "game.wasm")
		if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			if _, err := os.Stat(path + ".gz"); err == nil {
				h.Set("Content-Encoding", "gzip")
				path += ".gz"
			}
		}
		http.ServeFile(w, r, path)
	})
	s.hs = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 30 * time.Second, IdleTimeout: time.Minute}
	go s.hs.Serve(ln)
	return s, nil
}

// PageURL returns the URL of the page ("http://localhost:port/" when the
// web server listens on every address).
func (s *site) PageURL() string {
	a := s.ln.Addr().(*net.TCPAddr)
	host := a.IP.String()
	if a.IP.IsUnspecified() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, fmt.Sprint(a.Port)) + "/"
}

// ConnectString returns what native clients pass to -connect.
func (s *site) ConnectString() string { return s.srv.ConnectString() }

// Run pumps the game until ctx ends, then tells every player the server
// is shutting down and closes the servers. It blocks.
func (s *site) Run(ctx context.Context) {
	for ctx.Err() == nil {
		s.srv.PumpWait(ctx, chatroom.NickGrace/4)
		if s.tick != nil {
			s.tick(time.Now())
		}
	}
	s.hs.Close()
	sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := s.srv.Shutdown(sctx, s.game+" server shutting down"); err != nil && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, net.ErrClosed) {
		fmt.Fprintf(s.log, "web: shutdown: %v\n", err)
	}
}
