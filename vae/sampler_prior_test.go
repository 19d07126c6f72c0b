package vae

import (
	"context"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/vaelab/vaelab/data"
)

// TestPriorSamplerIsTheModelsSample: decoding the prior sampler's draws gives
// exactly Model.Sample's images for the same generator.
func TestPriorSamplerIsTheModelsSample(t *testing.T) {
	cfg := ModelConfig{Architecture: "mlp", Hidden: []int{6}, Latent: 2, Activation: "relu", Likelihood: "bernoulli"}
	m, err := NewModel(cfg, Shape{4, 3, 1}, tensor.Float32, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	like := data.Images{N: 1, Height: 4, Width: 3, Channels: 1, Pix: make([]float32, 12)}
	s, err := NewSampler("prior", EvalConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if s.NeedsLatents() {
		t.Error("the prior sampler asks for latents it does not use")
	}
	if err := s.Fit(context.Background(), m, Codes{}, nil); err != nil {
		t.Fatal(err)
	}
	z, err := s.Draw(context.Background(), NewRand(5, StreamSamples), 7)
	if err != nil {
		t.Fatal(err)
	}
	a, err := m.Decode(context.Background(), z, like)
	if err != nil {
		t.Fatal(err)
	}
	b, err := m.Sample(context.Background(), 7, like, NewRand(5, StreamSamples))
	if err != nil || a.N != 7 || !slices.Equal(a.Pix, b.Pix) {
		t.Fatalf("prior sampler %d images, Sample %d (%v); they differ", a.N, b.N, err)
	}
	if _, err := m.Decode(context.Background(), []float64{1, 2, 3}, like); err == nil {
		t.Error("Decode took 3 values for codes of 2 dimensions")
	}
}

func TestSamplerSettings(t *testing.T) {
	for _, tc := range []struct {
		samplers []string
		wantErr  string
	}{
		{nil, ""}, {[]string{"prior"}, ""},
		{[]string{"gmm_typo"}, `eval.samplers: "gmm_typo" is not supported (supported: aggregate, gmm, prior, `},
		{[]string{"prior", "prior"}, `eval.samplers[1]: "prior" appears twice`},
	} {
		c := DefaultEvalConfig()
		c.Samplers = tc.samplers
		err := c.Validate()
		if (err == nil) != (tc.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("samplers %v: %v, want %q", tc.samplers, err, tc.wantErr)
		}
	}
	if got := DefaultEvalConfig().WithDefaults().Samplers; !slices.Equal(got, []string{"prior"}) {
		t.Errorf("default samplers %v, want [prior]", got)
	}
}
