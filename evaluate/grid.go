package evaluate

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"

	"github.com/vaelab/vaelab/data"
	"github.com/vaelab/vaelab/experiments"
	"github.com/vaelab/vaelab/internal/fault"
	"github.com/vaelab/vaelab/record"
	"github.com/vaelab/vaelab/vae"
)

// MaxSampleImages bounds a grid: 4096 images of 1024×1024×3 are already 12 GB.
const MaxSampleImages = 4096

// CheckSampleRequest refuses an impossible request before anything is
// loaded: the user's error (a flag to change).
func CheckSampleRequest(req SampleRequest) error {
	kind, n, sampler := req.Kind, req.N, req.Sampler
	switch kind {
	case "samples", "reconstructions", "traversals":
	default:
		return fault.User(fmt.Errorf("--kind %q: want samples, reconstructions or traversals", kind))
	}
	if n < 1 || n > MaxSampleImages {
		return fault.User(fmt.Errorf("-n %d: the number of images must be between 1 and %d", n, MaxSampleImages))
	}
	if _, err := vae.NewSampler(sampler, vae.EvalConfig{}); err != nil {
		return fault.User(fmt.Errorf("--sampler: %w", err))
	}
	if sampler != "prior" && kind != "samples" {
		return fault.User(fmt.Errorf("--sampler %s: only --kind samples draws from a sampler", sampler))
	}
	return nil
}

// SampleRequest is what `vaelab sample` draws from a run.
type SampleRequest struct {
	Kind    string // samples, reconstructions or traversals
	Sampler string // with samples: prior or a post-hoc sampler's name
	N       int
	Seed    uint64
}

// sampleRun rebuilds the run's model from its checkpoint, loaded as the
// scheduler loads it (checked against the store's record), and draws the grid.
func DrawGrid(ctx context.Context, m *vae.Model, ds *data.Dataset, cfg experiments.RunConfig, evals []record.Evaluation, fits Sink, req SampleRequest, log io.Writer) (data.Images, int, error) {
	kind, n, seed := req.Kind, req.N, req.Seed
	// The stored config is the training's; evaluation settings belong to
	// the spec, so the batch is the default.
	batch := vae.DefaultEvalConfig().BatchSize
	switch {
	case kind == "samples" && req.Sampler != "prior":
		im, err := samplerImages(ctx, cfg, m, ds, evals, fits, req, log)
		return im, 8, err
	case kind == "samples":
		im, err := m.Sample(ctx, n, ds.Test, vae.NewRand(seed, vae.StreamSamples))
		return im, 8, err
	case kind == "reconstructions":
		im, err := m.Reconstruct(ctx, ds.Test.First(n), batch)
		return im, 8, err
	case kind == "traversals":
		im, err := m.Traverse(ctx, ds.Test.First(1), 9)
		return im, 9, err
	}
	return data.Images{}, 0, fmt.Errorf("unknown kind %q (samples, reconstructions, traversals)", kind)
}

// samplerImages decodes n draws of the run's fitted sampler req.Sampler,
// with the settings of the newest evaluation that used it (its stored fit
// is then reused), or the defaults.
func samplerImages(ctx context.Context, cfg experiments.RunConfig, m *vae.Model, ds *data.Dataset, evals []record.Evaluation, sink Sink, req SampleRequest, log io.Writer) (data.Images, error) {
	cfg.Eval = vae.DefaultEvalConfig()
	for _, e := range evals {
		var ev vae.EvalConfig
		if json.Unmarshal([]byte(e.Config), &ev) == nil && slices.Contains(ev.Samplers, req.Sampler) {
			cfg.Eval = ev
			cfg.Eval.BatchSize = vae.DefaultEvalConfig().BatchSize // not part of the settings: it changes speed only
			break
		}
	}
	cfg.Eval.Samplers = []string{req.Sampler}
	var readErr error
	stored := func(name string) [][]byte {
		files, err := sink.StoredFits(ctx, FitKind(name))
		readErr = cmp.Or(readErr, err)
		return files
	}
	fits, err := FitSamplers(ctx, m, ds.Train, cfg, sink.Model(), stored)
	if err = cmp.Or(readErr, err); err != nil {
		return data.Images{}, err
	}
	if !fits[0].Reused {
		fmt.Fprintf(log, "no stored %s fit for these settings: fitted it now (%s)\n", req.Sampler, fits[0].Sampler.Key())
	}
	return DrawImages(ctx, m, fits[0].Sampler, req.N, ds.Test, vae.NewRand(req.Seed, vae.StreamSamples))
}
