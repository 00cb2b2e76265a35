// Package assets will own the fonts, images and sounds the examples embed
// (go:embed only, no ebiten import), with LICENSES.md naming each file's
// source and licence.
//
// Nothing is embedded yet; see issue "games" in the project tracker.
package assets
