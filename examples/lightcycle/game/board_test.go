package game

import "testing"

// TestBoardShowsSessionRoundAndScores: every round runs a fresh sim.Game
// (round 1, scores 0), but the Board the screen draws says the session's
// round and the running scores, on the host and on the others, while the
// round runs and in its results.
func TestBoardShowsSessionRoundAndScores(t *testing.T) {
	h := newHarness(t)
	cfg := Config{Bots: 2, Countdown: 5, Seed: 3, Autopilot: true}
	p1, p2 := h.add("p1", cfg), h.add("p2", cfg)
	var want map[string]int // scores after the last round
	for round := 1; round <= 3; round++ {
		h.startRound(round, p1, p2)
		for _, g := range []*Game{p1, p2} {
			if got := g.Board().Round(); got != round {
				t.Fatalf("round %d: %s's board says round %d", round, g.Self().ID, got)
			}
			for _, p := range g.Board().Players() {
				if p.Score != want[p.ID] {
					t.Fatalf("round %d under way: %s's board gives %s %d, want the score so far %d", round, g.Self().ID, p.ID, p.Score, want[p.ID])
				}
			}
		}
		h.run(40000, "round over", h.allIn(SceneResults, round))
		res := sameResults(t, p1, p2)
		want = map[string]int{}
		total := 0
		for _, s := range res.Scores {
			want[s.ID] = s.Score
			total += s.Score
		}
		for _, g := range []*Game{p1, p2} {
			for _, p := range g.Board().Players() {
				if p.Score != want[p.ID] {
					t.Fatalf("results of round %d: %s's board gives %s %d, the result %d", round, g.Self().ID, p.ID, p.Score, want[p.ID])
				}
			}
		}
		t.Logf("after round %d: %v", round, want)
		if round == 3 && total < 2 {
			t.Fatalf("only %d wins in 3 rounds: the scores do not run on (%v)", total, want)
		}
	}
}
