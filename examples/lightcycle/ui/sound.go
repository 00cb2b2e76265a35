package ui

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/hajimehoshi/ebiten/v2/audio"
	"github.com/hajimehoshi/ebiten/v2/audio/wav"

	"github.com/pumpnet/pumpnet/assets"
)

// The sound effects.
const (
	sndDerez = iota
	sndTurn
	sndBeep
	sndGo
	sndWin
	sndSelect
	numSounds
)

// sampleRate is the audio context's rate, the rate of the embedded WAVs.
const sampleRate = 44100

// sounds plays the embedded sound effects. A nil *sounds, or one without a
// context, is silent.
type sounds struct {
	ctx   *audio.Context
	pcm   [numSounds][]byte // 32-bit float stereo
	muted bool
}

// newSounds prepares the sound effects, or returns a silent player if mute
// is set or there is no sound device.
func newSounds(mute bool) *sounds {
	s := &sounds{muted: mute}
	if mute || !soundDeviceLikely(runtime.GOOS, exists, os.Getenv) {
		return s
	}
	pcm, err := decodeSounds()
	if err != nil {
		return s // cannot happen: the assets' and this package's tests decode them
	}
	s.pcm = pcm
	s.ctx = audio.CurrentContext()
	if s.ctx == nil {
		s.ctx = audio.NewContext(sampleRate)
	}
	return s
}

// decodeSounds decodes the embedded WAV files to 32-bit float stereo PCM
// at sampleRate.
func decodeSounds() (pcm [numSounds][]byte, err error) {
	src := [numSounds][]byte{assets.Derez, assets.TurnClick, assets.Beep, assets.Go, assets.Win, assets.Select}
	for i, b := range src {
		st, err := wav.DecodeF32(bytes.NewReader(b))
		if err != nil {
			return pcm, err
		}
		if st.SampleRate() != sampleRate {
			return pcm, fmt.Errorf("ui: sound %d is %d Hz, want %d", i, st.SampleRate(), sampleRate)
		}
		if pcm[i], err = io.ReadAll(st); err != nil {
			return pcm, err
		}
	}
	return pcm, nil
}

// enabled reports whether sound was set up (it may be muted for now).
func (s *sounds) enabled() bool { return s != nil && s.ctx != nil }

// play starts effect i; effects overlap.
func (s *sounds) play(i int) {
	if !s.enabled() || s.muted {
		return
	}
	s.ctx.NewPlayerF32FromBytes(s.pcm[i]).Play()
}

// toggleMute mutes or unmutes. Without a sound device it stays silent.
func (s *sounds) toggleMute() {
	if s != nil {
		s.muted = !s.muted
	}
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// soundDeviceLikely reports whether a sound output probably exists. On
// Linux, Ebitengine opens ALSA when its audio context starts and, if that
// fails, ends the game with the error, so the screen looks first: an ALSA
// playback device (/dev/snd/pcm*p), a PulseAudio or PipeWire socket, or
// PULSE_SERVER. Elsewhere it assumes there is one.
func soundDeviceLikely(goos string, exists func(string) bool, getenv func(string) string) bool {
	if goos != "linux" {
		return true
	}
	if getenv("PULSE_SERVER") != "" {
		return true
	}
	if dir := getenv("XDG_RUNTIME_DIR"); dir != "" {
		for _, sock := range []string{"pulse/native", "pipewire-0"} {
			if exists(filepath.Join(dir, sock)) {
				return true
			}
		}
	}
	for card := range 8 {
		for dev := range 8 {
			if exists("/dev/snd/pcmC" + string(rune('0'+card)) + "D" + string(rune('0'+dev)) + "p") {
				return true
			}
		}
	}
	return false
}

// isAudioError reports whether err came from the audio output (Ebitengine
// returns the driver's error from RunGame).
func isAudioError(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "oto:") || strings.Contains(msg, "audio:")
}
