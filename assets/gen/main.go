//go:build ignore

// Command gen synthesises the sound effects in ../sounds: 16-bit mono PCM
// WAV files at 44100 Hz, made from sine, triangle and noise generators with
// no recorded material. The output is deterministic (the noise comes from a
// PCG generator with a fixed seed), so running it again reproduces the
// committed files byte for byte.
//
// Run it from the repository root:
//
//	go run ./assets/gen/main.go
//
// or from assets/ with go generate.
package main

import (
	"bytes"
	"encoding/binary"
	"flag"
	"log"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
)

// rate is the sample rate of every file.
const rate = 44100

func main() {
	dir := flag.String("dir", "", "output directory (default: the sounds directory beside this generator)")
	flag.Parse()
	out := *dir
	if out == "" {
		out = "assets/sounds"
		if _, err := os.Stat("sounds"); err == nil {
			out = "sounds" // run from assets/ (go generate)
		}
	}
	sounds := []struct {
		name    string
		samples []float64
	}{
		{"derez.wav", derez()},
		{"turn.wav", turn()},
		{"beep.wav", tone(660, 0.14, 0.5)},
		{"go.wav", tone(1320, 0.32, 0.45)},
		{"win.wav", win()},
		{"select.wav", tone(990, 0.06, 0.3)},
	}
	for _, s := range sounds {
		path := filepath.Join(out, s.name)
		if err := os.WriteFile(path, encodeWAV(s.samples), 0o644); err != nil {
			log.Fatal(err)
		}
		log.Printf("wrote %s (%.2f s)", path, float64(len(s.samples))/rate)
	}
}

// samples returns a buffer for d seconds of sound.
func samples(d float64) []float64 { return make([]float64, int(d*rate)) }

// derez is the crash: a burst of noise that is low-passed more and more as
// it decays, over a falling square-ish sweep with a stutter (the bike
// breaking into pixels).
func derez() []float64 {
	s := samples(0.9)
	rng := rand.New(rand.NewPCG(0x1c, 0xde2e2))
	var lp, held float64
	phase := 0.0
	for i := range s {
		t := float64(i) / rate
		// Noise, sample-and-hold every few samples for a crunchy sound,
		// through a one-pole low-pass that closes as the burst decays.
		if i%3 == 0 {
			held = rng.Float64()*2 - 1
		}
		cut := 0.6*math.Exp(-t*4) + 0.03
		lp += cut * (held - lp)
		noise := lp * math.Exp(-t*5.5)
		// Falling sweep 900 Hz -> 60 Hz, softened square wave.
		f := 60 + 840*math.Exp(-t*6)
		phase += 2 * math.Pi * f / rate
		sq := math.Tanh(3 * math.Sin(phase))
		stutter := 1.0
		if int(t*40)%2 == 1 && t > 0.15 {
			stutter = 0.35
		}
		sweep := 0.5 * sq * math.Exp(-t*3.2) * stutter
		s[i] = 0.8*noise + sweep
	}
	fade(s, 0.002, 0.05)
	return s
}

// turn is a short soft tick.
func turn() []float64 {
	s := samples(0.045)
	for i := range s {
		t := float64(i) / rate
		s[i] = 0.35 * math.Sin(2*math.Pi*1500*t) * math.Exp(-t*90)
	}
	fade(s, 0.001, 0.01)
	return s
}

// tone is a sine at f Hz for d seconds, amplitude a, with a touch of the
// octave above.
func tone(f, d, a float64) []float64 {
	s := samples(d)
	for i := range s {
		t := float64(i) / rate
		s[i] = a * (0.85*math.Sin(2*math.Pi*f*t) + 0.15*math.Sin(4*math.Pi*f*t))
	}
	fade(s, 0.005, d/3)
	return s
}

// win is a rising arpeggio (C5 E5 G5 C6) on a triangle wave.
func win() []float64 {
	notes := []float64{523.25, 659.25, 783.99, 1046.5}
	const step = 0.11
	s := samples(step*float64(len(notes)-1) + 0.5)
	for n, f := range notes {
		start := int(float64(n) * step * rate)
		for i := start; i < len(s); i++ {
			t := float64(i-start) / rate
			s[i] += 0.3 * triangle(f*t) * math.Exp(-t*4)
		}
	}
	fade(s, 0.003, 0.1)
	return s
}

// triangle is a triangle wave of period 1 with values in [-1, 1].
func triangle(x float64) float64 {
	x -= math.Floor(x)
	return 4*math.Abs(x-0.5) - 1
}

// fade applies linear fades of in and out seconds to the ends of s.
func fade(s []float64, in, out float64) {
	ni, no := int(in*rate), int(out*rate)
	for i := 0; i < ni && i < len(s); i++ {
		s[i] *= float64(i) / float64(ni)
	}
	for i := 0; i < no && i < len(s); i++ {
		s[len(s)-1-i] *= float64(i) / float64(no)
	}
}

// encodeWAV returns s as a 16-bit mono PCM WAV file, clipping to [-1, 1].
func encodeWAV(s []float64) []byte {
	var b bytes.Buffer
	le := binary.LittleEndian
	data := uint32(2 * len(s))
	b.WriteString("RIFF")
	binary.Write(&b, le, 36+data)
	b.WriteString("WAVEfmt ")
	binary.Write(&b, le, uint32(16))   // fmt chunk size
	binary.Write(&b, le, uint16(1))    // PCM
	binary.Write(&b, le, uint16(1))    // mono
	binary.Write(&b, le, uint32(rate)) // sample rate
	binary.Write(&b, le, uint32(rate*2))
	binary.Write(&b, le, uint16(2))  // block align
	binary.Write(&b, le, uint16(16)) // bits per sample
	b.WriteString("data")
	binary.Write(&b, le, data)
	for _, v := range s {
		v = max(-1, min(1, v))
		binary.Write(&b, le, int16(math.Round(v*32767)))
	}
	return b.Bytes()
}
