// Package assets holds the fonts and sounds the examples embed. It only
// embeds files (go:embed) and exposes them as byte slices: it imports no
// graphics or audio library, so it lives in the core module, and an example
// decodes what it needs with its own engine (Ebitengine's text/v2 and
// audio/wav for lightcycle).
//
// LICENSES.md names each file's source and licence: the fonts are the Go
// fonts (BSD-style licence, copied from golang.org/x/image/font/gofont/ttfs)
// and the sounds are synthesised by gen/main.go, a deterministic generator
// that `go generate` reruns (it reproduces the committed files byte for
// byte).
//
// The slices are shared: callers must not modify them.
//
// A complete program that prints what is embedded:
//
//	package main
//
//	import (
//		"fmt"
//
//		"github.com/pumpnet/pumpnet/assets"
//	)
//
//	func main() {
//		fmt.Println("Go Regular:", len(assets.GoRegular), "bytes of TrueType")
//		for _, s := range assets.Sounds() {
//			fmt.Println(s.Name, len(s.WAV), "bytes of WAV")
//		}
//	}
package assets

//go:generate go run gen/main.go
