package assets

import _ "embed" // go:embed

// Fonts: the Go fonts by Bigelow & Holmes, TrueType.
var (
	// GoRegular is Go Regular (Go-Regular.ttf).
	//go:embed fonts/Go-Regular.ttf
	GoRegular []byte
	// GoBold is Go Bold (Go-Bold.ttf).
	//go:embed fonts/Go-Bold.ttf
	GoBold []byte
	// GoMono is Go Mono (Go-Mono.ttf), a fixed-width face for numbers and
	// tables.
	//go:embed fonts/Go-Mono.ttf
	GoMono []byte
)

// Sound effects: 16-bit mono PCM WAV at 44100 Hz, made by gen/main.go.
var (
	// Derez is played when a bike crashes (0.9 s).
	//go:embed sounds/derez.wav
	Derez []byte
	// TurnClick is a short tick played when the local bike turns.
	//go:embed sounds/turn.wav
	TurnClick []byte
	// Beep is a countdown beep.
	//go:embed sounds/beep.wav
	Beep []byte
	// Go is the higher beep that starts a round.
	//go:embed sounds/go.wav
	Go []byte
	// Win is a rising arpeggio for the end of a round.
	//go:embed sounds/win.wav
	Win []byte
	// Select is a short blip for menu choices.
	//go:embed sounds/select.wav
	Select []byte
)

// Sound is one embedded sound effect.
type Sound struct {
	// Name is the file name under sounds/, e.g. "derez.wav".
	Name string
	// WAV is the file's content.
	WAV []byte
}

// Sounds lists every embedded sound effect in a fixed order. It returns a
// new slice on each call; the WAV bytes are shared.
func Sounds() []Sound {
	return []Sound{
		{"derez.wav", Derez},
		{"turn.wav", TurnClick},
		{"beep.wav", Beep},
		{"go.wav", Go},
		{"win.wav", Win},
		{"select.wav", Select},
	}
}
