package vae

import (
	"context"
	"math"
	"testing"

	"gonum.org/v1/gonum/stat"
)

// TestIWAEBoundsTheELBOAndTightens: on a trained model, averaged over repeated
// draws, IWAE with k = 1 equals the ELBO estimate, and the bound grows with k.
func TestIWAEBoundsTheELBOAndTightens(t *testing.T) {
	train, test := smallFaces(t)
	s := smallSetup(4)
	s.Train.Epochs = 4
	m, _, err := Train(context.Background(), s, train, test, &recording{})
	if err != nil {
		t.Fatal(err)
	}
	const repeats = 100
	mean := map[int]float64{}
	elbo := 0.0
	var diffs []float64 // IWAE(k=1) − ELBO per draw: zero in expectation
	for r := range repeats {
		for _, k := range []int{1, 4, 32} {
			v, err := m.IWAE(context.Background(), test, k, 17, NewRand(uint64(r), StreamEval))
			if err != nil {
				t.Fatal(err)
			}
			mean[k] += v / repeats
		}
		ev, err := m.Evaluate(context.Background(), test, ObjectiveConfig{Set: Values{"beta": 1.0}}, 17, NewRand(uint64(r), StreamEval))
		if err != nil {
			t.Fatal(err)
		}
		elbo += ev.ELBO / repeats
		one, _ := m.IWAE(context.Background(), test, 1, 17, NewRand(uint64(r), StreamEval))
		diffs = append(diffs, one-ev.ELBO)
	}
	meanDiff, sd := stat.MeanStdDev(diffs, nil)
	stderr := sd / math.Sqrt(repeats)
	t.Logf("ELBO %.3f; IWAE k=1 %.3f, k=4 %.3f, k=32 %.3f", elbo, mean[1], mean[4], mean[32])
	t.Logf("IWAE(k=1) − ELBO: %.3f ± %.3f (standard error)", meanDiff, stderr)
	if math.Abs(meanDiff) > 4*stderr {
		t.Errorf("IWAE with k=1 differs from the ELBO by %.3f, more than 4 standard errors (%.3f)", meanDiff, stderr)
	}
	if !(mean[4] > elbo && mean[4] > mean[1] && mean[32] > mean[4]) {
		t.Errorf("IWAE does not grow with k or stay above the ELBO %.3f: %v", elbo, mean)
	}
	mu, lv, err := m.Encode(context.Background(), test, 13)
	if err != nil || len(mu) != test.N*s.Model.Latent || len(lv) != len(mu) {
		t.Fatalf("encode: %v, %d values", err, len(mu))
	}
}
