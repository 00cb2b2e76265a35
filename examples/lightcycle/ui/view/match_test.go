package view

import "testing"

func TestStateLooksUpSeats(t *testing.T) {
	s := State{Seats: []Seat{{ID: "a1", Name: "ann"}, {ID: "b2", Local: true}}}
	if s.Name("a1") != "ann" || s.Name("b2") != "b2" || s.Name("zz") != "zz" {
		t.Errorf("Name: %q %q %q", s.Name("a1"), s.Name("b2"), s.Name("zz"))
	}
	if st, ok := s.LocalSeat(); !ok || st.ID != "b2" {
		t.Errorf("LocalSeat = %+v, %v", st, ok)
	}
	if _, ok := s.Seat("zz"); ok {
		t.Error("Seat(zz) found")
	}
	for sc, want := range map[Scene]string{SceneLobby: "lobby", ScenePlay: "play", SceneResults: "results", 9: "scene(invalid)"} {
		if sc.String() != want {
			t.Errorf("Scene(%d) = %q", sc, sc.String())
		}
	}
}
