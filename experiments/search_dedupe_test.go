package experiments

import (
	"strings"
	"testing"
)

// Defect 9 of issue 28: the random search said it "drew the same values
// twice" when two different draws only rounded to the same 4 significant
// digits. Such trials train the same run, which is kept once (the first
// trial); a true repeat (the same choice) is still refused.
func TestRoundedDrawsAreDedupedNotRefused(t *testing.T) {
	const spec = "name: x\nseeds: [1]\nsweep:\n  random: {trials: 3, seed: 1, params: {objective.beta: {uniform: [1, 1.00001]}}}\n"
	s, err := Parse([]byte(spec), "s.yaml")
	if err != nil {
		t.Fatal(err)
	}
	rs, err := s.Expand()
	if err != nil {
		t.Fatalf("close draws refused: %v", err)
	}
	if len(rs) != 1 || rs[0].Trial != 1 {
		t.Fatalf("%d runs (first trial %d), want the one run trained once, under trial 1", len(rs), rs[0].Trial)
	}
	s, err = Parse([]byte("name: x\nsweep:\n  random: {trials: 5, params: {model.latent: {choice: [2, 4]}}}\n"), "s.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Expand(); err == nil || !strings.Contains(err.Error(), "drew the same values twice") {
		t.Errorf("a repeated choice: %v", err)
	}
}
