package vae

import (
	"context"
	"math/rand/v2"
	"slices"
	"testing"

	"gorgonia.org/tensor"
)

// Every sampler's stored fit, restored into a new sampler, draws exactly the
// codes of the fit itself; a fit of other settings is refused or differs.
func TestSamplerFitsRoundTrip(t *testing.T) {
	cfg := ModelConfig{Architecture: "mlp", Hidden: []int{6}, Latent: 2, Activation: "relu", Likelihood: "bernoulli"}
	m, err := NewModel(cfg, Shape{4, 3, 1}, tensor.Float32, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	mu, _, _, _ := threeBlobs(300, rand.New(rand.NewPCG(3, 4)))
	logvar := make([]float64, len(mu))
	for i := range logvar {
		logvar[i] = -2 + 0.001*float64(i%7)
	}
	ev := EvalConfig{Set: Values{"gmm_components": 3, "two_stage_epochs": 3, "two_stage_hidden": 8}}
	for name := range samplers() {
		t.Run(name, func(t *testing.T) {
			s, _ := NewSampler(name, ev)
			if err := s.Fit(context.Background(), m, Codes{Mu: mu, LogVar: logvar}, rand.New(rand.NewPCG(5, 6))); err != nil {
				t.Fatal(err)
			}
			b, err := s.MarshalFit()
			if err != nil {
				t.Fatal(err)
			}
			r, _ := NewSampler(name, ev)
			if err := r.UnmarshalFit(m, b); err != nil {
				t.Fatal(err)
			}
			want, err1 := s.Draw(context.Background(), rand.New(rand.NewPCG(7, 8)), 50)
			got, err2 := r.Draw(context.Background(), rand.New(rand.NewPCG(7, 8)), 50)
			if err1 != nil || err2 != nil || !slices.Equal(got, want) {
				t.Fatalf("restored fit draws differ from the fit's (%v, %v)", err1, err2)
			}
			if err := r.UnmarshalFit(m, []byte("{not json")); err == nil {
				if name != "prior" {
					t.Error("a corrupt fit was accepted")
				}
			}
		})
	}
}
