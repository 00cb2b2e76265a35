package ui

import (
	"errors"
	"testing"

	"github.com/pumpnet/pumpnet/examples/lightcycle/ui/view"
)

func TestSoundDeviceLikely(t *testing.T) {
	none := func(string) bool { return false }
	noenv := func(string) string { return "" }
	if !soundDeviceLikely("darwin", none, noenv) || !soundDeviceLikely("windows", none, noenv) {
		t.Error("non-Linux systems are assumed to have sound")
	}
	if soundDeviceLikely("linux", none, noenv) {
		t.Error("Linux with no device and no sound server: sound should be off")
	}
	alsa := func(p string) bool { return p == "/dev/snd/pcmC1D0p" }
	if !soundDeviceLikely("linux", alsa, noenv) {
		t.Error("an ALSA playback device was not found")
	}
	capture := func(p string) bool { return p == "/dev/snd/pcmC0D0c" }
	if soundDeviceLikely("linux", capture, noenv) {
		t.Error("a capture-only device counted as output")
	}
	env := map[string]string{"XDG_RUNTIME_DIR": "/run/user/1000"}
	pipewire := func(p string) bool { return p == "/run/user/1000/pipewire-0" }
	if !soundDeviceLikely("linux", pipewire, func(k string) string { return env[k] }) {
		t.Error("a PipeWire socket was not found")
	}
	if !soundDeviceLikely("linux", none, func(k string) string {
		if k == "PULSE_SERVER" {
			return "tcp:host"
		}
		return ""
	}) {
		t.Error("PULSE_SERVER was ignored")
	}
}

func TestSilentSoundsDoNothing(t *testing.T) {
	s := newSounds(true)
	if s.enabled() {
		t.Fatal("muted sounds set up an audio context")
	}
	s.play(sndDerez) // must not panic
	s.toggleMute()
	s.play(sndWin)
	var nilSounds *sounds
	nilSounds.play(sndBeep)
	nilSounds.toggleMute()
}

func TestIsAudioError(t *testing.T) {
	if !isAudioError(errors.New("oto: ALSA error at snd_pcm_open: \"default\": No such file or directory")) {
		t.Error("oto error not recognised")
	}
	if isAudioError(errors.New("lightcycle: host left")) {
		t.Error("a game error taken for an audio error")
	}
}

// TestKeyNamesAreEbitengineKeys: every key name package view maps is a key
// Ebitengine knows, so no binding is silently dead.
func TestKeyNamesAreEbitengineKeys(t *testing.T) {
	for _, name := range viewKeyNames() {
		found := false
		for k, b := range keyButtons {
			if k.String() == name && b != 0 {
				found = true
			}
		}
		if !found {
			t.Errorf("key %q is not an Ebitengine key", name)
		}
	}
}

func viewKeyNames() []string { return view.KeyNames() }

// TestSoundsDecode: every embedded sound decodes at the context's rate, to
// stereo float samples (8 bytes a frame) of a sensible length.
func TestSoundsDecode(t *testing.T) {
	pcm, err := decodeSounds()
	if err != nil {
		t.Fatal(err)
	}
	for i, b := range pcm {
		if len(b)%8 != 0 || len(b)/8 < sampleRate/50 || len(b)/8 > 2*sampleRate {
			t.Errorf("sound %d: %d bytes", i, len(b))
		}
	}
}
