package experiments

import (
	"slices"
	"strings"
	"testing"
)

const searchSpec = `name: s
train: {epochs: 6}
seeds: [1, 2]
sweep:
  variants:
    - {name: a, set: {model.hidden: [32]}}
    - {name: b, set: {model.hidden: [64]}}
  random:
    trials: TRIALS
    seed: 3
    method: METHOD
    params:
      objective.beta: {log_uniform: [0.1, 10]}
      train.learning_rate: {uniform: [0.0001, 0.001]}
      model.latent: {int: [2, 9]}
      model.activation: {choice: [relu, tanh]}
`

func expandSearch(t *testing.T, trials, method string) []Run {
	t.Helper()
	s := mustParse(t, strings.NewReplacer("TRIALS", trials, "METHOD", method).Replace(searchSpec))
	rs, err := s.Expand()
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// A search is variants × trials × seeds; the same spec gives the same
// trials and ids; raising trials keeps the first ones; each draw lies in its
// range, and the methods and seeds give different draws.
func TestSearchTrialsAreStable(t *testing.T) {
	for _, method := range []string{"random", "sobol"} {
		t.Run(method, func(t *testing.T) {
			five, again, eight := expandSearch(t, "5", method), expandSearch(t, "5", method), expandSearch(t, "8", method)
			if len(five) != 2*5*2 || len(eight) != 2*8*2 {
				t.Fatalf("%d and %d runs, want 20 and 32", len(five), len(eight))
			}
			ids := func(rs []Run, variant string, trials int) []string {
				var out []string
				for _, r := range rs {
					if r.Variant == variant && r.Trial <= trials {
						out = append(out, r.ID)
					}
				}
				return out
			}
			for _, v := range []string{"a", "b"} {
				if !slices.Equal(ids(five, v, 5), ids(again, v, 5)) || !slices.Equal(ids(five, v, 5), ids(eight, v, 5)) {
					t.Errorf("variant %s: the first 5 trials' ids change with the expansion or with trials: 8", v)
				}
			}
			for _, r := range eight {
				c := r.Config
				if c.Objective.Float("beta") < 0.1 || c.Objective.Float("beta") > 10 || c.Train.LearningRate < 0.0001 || c.Train.LearningRate > 0.001 ||
					c.Model.Latent < 2 || c.Model.Latent > 9 || (c.Model.Activation != "relu" && c.Model.Activation != "tanh") {
					t.Fatalf("%s: a draw outside its range: %+v %+v", r.Label(), c.Objective, c.Model)
				}
				if !strings.HasPrefix(r.Label(), r.Variant+" trial=") || r.Varying()["trial"] == "" {
					t.Fatalf("label %q, varying %v", r.Label(), r.Varying())
				}
			}
		})
	}
	if expandSearch(t, "3", "random")[0].ID == expandSearch(t, "3", "sobol")[0].ID {
		t.Error("random and sobol drew the same first trial")
	}
}

// Sobol's first 2^k trials stratify every parameter: each of 2^k equal
// slices of its range (on its scale) holds one trial.
func TestSobolSearchStratifies(t *testing.T) {
	s := mustParse(t, "name: s\nsweep:\n  random:\n    trials: 8\n    method: sobol\n    params:\n      objective.beta: {uniform: [0, 8]}\n      train.learning_rate: {log_uniform: [0.0001, 0.0256]}\n")
	beta, lr := map[int]bool{}, map[int]bool{}
	for i := range 8 {
		set := s.Random.Trial(i)
		b, _ := number(set[0].Value.node)
		l, _ := number(set[1].Value.node)
		beta[int(b)] = true
		// 0.0001·2^(8u): the slice is the whole power of two.
		for k := range 8 {
			if l >= 0.0001*float64(int(1)<<k)*0.9999 && l < 0.0001*float64(int(1)<<(k+1))*0.9999 {
				lr[k] = true
			}
		}
	}
	if len(beta) != 8 || len(lr) != 8 {
		t.Errorf("8 sobol trials fill %d of 8 β slices and %d of 8 learning-rate slices", len(beta), len(lr))
	}
}
