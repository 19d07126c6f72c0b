package vae

import (
	"context"
	"math"
	"testing"
)

func betaSeries(t *testing.T, obj ObjectiveConfig) (*recording, int) {
	t.Helper()
	train, test := smallFaces(t)
	s := smallSetup(3)
	s.Objective = obj
	rec := &recording{}
	if _, _, err := Train(context.Background(), s, train, test, rec); err != nil {
		t.Fatal(err)
	}
	return rec, len(rec.steps)
}

func metric(vals []Metric, key string) float64 {
	for _, m := range vals {
		if m.Key == key {
			return m.Value
		}
	}
	return math.NaN()
}

// TestKLSchedules checks the KL weight used at every step against its definition.
func TestKLSchedules(t *testing.T) {
	for _, tc := range []struct {
		name string
		obj  ObjectiveConfig
		want func(step, total int) float64
	}{
		{"constant", ObjectiveConfig{Set: Values{"beta": 2.0}}, func(int, int) float64 { return 2 }},
		{"warm-up over 10 steps", ObjectiveConfig{Set: Values{"beta": 2.0, "warmup_steps": 10}}, func(s, _ int) float64 { return 2 * math.Min(1, float64(s)/10) }},
		{"2 cycles, rising over half", ObjectiveConfig{Set: Values{"beta": 1.0, "cycles": 2}}, func(s, total int) float64 {
			period := float64(total) / 2
			return math.Min(1, math.Mod(float64(s-1), period)/period/0.5)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec, total := betaSeries(t, tc.obj)
			for i, vals := range rec.steps {
				if got, want := metric(vals, KeyBeta), tc.want(i+1, total); math.Abs(got-want) > 1e-12 {
					t.Fatalf("step %d of %d: β = %v, want %v", i+1, total, got, want)
				}
			}
			if tc.obj.Has("cycles") {
				if b := metric(rec.steps[total/2][:], KeyBeta); b != 0 {
					t.Fatalf("the second cycle does not restart at β = 0: %v", b)
				}
			}
		})
	}
}

// TestFreeBitsFloorTheKLInTheLoss: with a floor of λ nats per dimension, the
// KL part of the loss is never below β·L·λ, while the reported KL is the true
// one and may be lower.
func TestFreeBitsFloorTheKLInTheLoss(t *testing.T) {
	const lambda, beta = 2.0, 1.0
	rec, _ := betaSeries(t, ObjectiveConfig{Set: Values{"beta": beta, "free_bits": lambda}})
	latent := smallSetup(3).Model.Latent
	below := false
	for i, vals := range rec.steps {
		klPart := metric(vals, KeyLoss) - metric(vals, KeyRecon)
		if klPart < beta*float64(latent)*lambda-1e-3 {
			t.Fatalf("step %d: KL part of the loss %.4f is below the floor %.1f", i+1, klPart, beta*float64(latent)*lambda)
		}
		below = below || metric(vals, KeyKL) < float64(latent)*lambda
	}
	if !below {
		t.Fatal("the true KL never went below the floor: the test does not exercise free bits")
	}
}
