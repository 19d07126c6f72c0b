package evaluate

import (
	"context"
	"slices"
	"testing"

	"gorgonia.org/tensor"

	"github.com/vaelab/vaelab/data"
	"github.com/vaelab/vaelab/experiments"
	"github.com/vaelab/vaelab/record"
	"github.com/vaelab/vaelab/vae"
)

// memSink keeps what an evaluation writes, in memory.
type memSink struct {
	grids  map[string]data.Images
	files  map[string][]byte
	events []string
	evals  []record.Evaluation
	sums   [][]record.Summary
}

func newMemSink() *memSink {
	return &memSink{grids: map[string]data.Images{}, files: map[string][]byte{}}
}

func (s *memSink) Model() string { return "sha-of-the-checkpoint" }
func (s *memSink) StoredFits(_ context.Context, kind string) ([][]byte, error) {
	if b, ok := s.files[kind]; ok {
		return [][]byte{b}, nil
	}
	return nil, nil
}
func (s *memSink) Grid(_ context.Context, kind string, im data.Images, _ int) error {
	if _, dup := s.grids[kind]; dup {
		panic("grid " + kind + " written twice")
	}
	s.grids[kind] = im
	return nil
}
func (s *memSink) File(_ context.Context, kind, _ string, b []byte) error {
	s.files[kind] = b
	return nil
}
func (s *memSink) Event(_ context.Context, kind, msg string) {
	s.events = append(s.events, kind+": "+msg)
}
func (s *memSink) Put(_ context.Context, ev record.Evaluation, sums []record.Summary) error {
	s.evals, s.sums = append(s.evals, ev), append(s.sums, sums)
	return nil
}

// The evaluation stage, whole and without a store: it writes every grid
// (reconstructions, the prior's and the gmm sampler's samples, traversals)
// once, keeps the gmm fit, and records one evaluation under the config's
// evaluation hash. Evaluated again with that fit stored, it reuses it (and
// says so) and stores the very same summaries.
func TestEvaluateWritesGridsFitsAndOneRecord(t *testing.T) {
	ctx := context.Background()
	cfg := experiments.DefaultRunConfig()
	cfg.Dataset = data.Config{Name: "synthetic", Size: 16, Count: 300, TestFraction: 0.3, Seed: 1}
	cfg.Model.Hidden, cfg.Model.Latent = []int{16}, 3
	cfg.Eval.Samples, cfg.Eval.Samplers, cfg.Eval.GridImages = 40, []string{"prior", "gmm"}, 16
	cfg.Eval = cfg.Eval.With("gmm_components", 2)
	ds, err := data.Load(ctx, cfg.Dataset, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	m, err := vae.NewModel(cfg.Model, vae.ShapeOf(ds.Train), tensor.Float32, vae.NewRand(3, vae.StreamInit))
	if err != nil {
		t.Fatal(err)
	}
	refs := &ReferenceCache{}
	first := newMemSink()
	if err := Evaluate(ctx, m, ds, cfg, refs, first); err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{"reconstructions", "samples", SampleKind("gmm"), "traversals"} {
		if im, ok := first.grids[kind]; !ok || im.N == 0 {
			t.Errorf("grid %s not written", kind)
		}
	}
	if first.grids["samples"].N != 16 || first.grids["traversals"].N != TraversalSteps*cfg.Model.Latent {
		t.Errorf("samples grid of %d images, traversals of %d; want 16 and %d", first.grids["samples"].N, first.grids["traversals"].N, TraversalSteps*cfg.Model.Latent)
	}
	if _, ok := first.files[FitKind("gmm")]; !ok || len(first.files) != 1 {
		t.Errorf("fits kept: %v; want the gmm sampler's only (the prior has nothing fitted)", len(first.files))
	}
	if len(first.evals) != 1 || first.evals[0].Hash != cfg.EvalHash() || string(cfg.EvalSettings()) != first.evals[0].Config {
		t.Fatalf("evaluations recorded: %+v", first.evals)
	}
	keys := map[string]float64{}
	for _, s := range first.sums[0] {
		keys[s.Key] = s.Value
	}
	for _, k := range []string{"test/iwae", "samples/fd_randconv1", SamplerKey("gmm", "samples/fd_randconv1"), KeyEvalSeconds} {
		if _, ok := keys[k]; !ok {
			t.Errorf("summary %s not recorded", k)
		}
	}

	again := newMemSink()
	again.files[FitKind("gmm")] = first.files[FitKind("gmm")]
	if err := Evaluate(ctx, m, ds, cfg, refs, again); err != nil {
		t.Fatal(err)
	}
	if len(again.events) != 1 || !slices.ContainsFunc(again.events, func(e string) bool { return len(e) > 12 && e[:12] == "sampler-fit:" }) {
		t.Errorf("events %q; want one saying the stored gmm fit was reused", again.events)
	}
	for _, s := range again.sums[0] {
		if s.Key != KeyEvalSeconds && keys[s.Key] != s.Value {
			t.Errorf("%s: %v with the stored fit, %v when fitted", s.Key, s.Value, keys[s.Key])
		}
	}
}
