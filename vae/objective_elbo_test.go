package vae

import (
	"slices"
	"strings"
	"testing"
)

func TestObjectiveTable(t *testing.T) {
	for _, tc := range []struct{ name, wantErr string }{
		{"", ""}, {"elbo", ""}, {"iwea", `objective.type: "iwea" is not supported (supported: `},
	} {
		err := ObjectiveConfig{Type: tc.name, Set: Values{"beta": 1.0}}.Validate()
		if (err == nil) != (tc.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("objective.type %q: %v, want %q", tc.name, err, tc.wantErr)
		}
	}
}

// TestELBOScalars: the elbo feeds and records β(t) under train/beta, its
// schedule at each step, and evaluates with the final β.
func TestELBOScalars(t *testing.T) {
	c := ObjectiveConfig{Set: Values{"beta": 2.0, "warmup_steps": 4}}
	e := elbo{}
	if !slices.Equal(e.Scalars(), []string{KeyBeta}) {
		t.Fatalf("scalars %v", e.Scalars())
	}
	for step, want := range map[int]float64{1: 0.5, 2: 1, 4: 2, 9: 2} {
		if got := e.at(c, step, 10); !slices.Equal(got, []float64{want}) {
			t.Errorf("step %d: β %v, want %v", step, got, want)
		}
	}
	if got := e.evalLoss(c, e.final(c), 10, 3); got != 10+2*3 {
		t.Errorf("evaluation loss %v, want recon + β·KL = 16", got)
	}
}
