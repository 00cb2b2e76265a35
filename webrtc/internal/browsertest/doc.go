// Package browsertest holds the webrtc package's test in a real browser:
// headless Chromium (Debian's chromium package), driven by chromedp, loads
// a page whose Go code (./wasmclient, built with GOOS=js GOARCH=wasm) dials
// a Go server through the browser's RTCPeerConnection. It is a package of
// its own so that the webrtc package's tests stay quick; it has no code
// outside its tests and wasmclient.
package browsertest
