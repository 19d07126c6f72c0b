package evaluate

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/vaelab/vaelab/data"
	"github.com/vaelab/vaelab/experiments"
	"github.com/vaelab/vaelab/record"
	"github.com/vaelab/vaelab/vae"
)

// A Sink is where one evaluation of a run goes: its files and its record.
// The store behind it (runs) keeps artifacts under the run's evaluation hash.
type Sink interface {
	// Model is the sha256 of the final checkpoint the model was loaded from:
	// sampler fits are reused only for the same one.
	Model() string
	// StoredFits are the run's stored fit files of kind (FitKind(name)), newest first.
	StoredFits(ctx context.Context, kind string) ([][]byte, error)
	// Grid writes an image grid of cols columns as artifact kind.
	Grid(ctx context.Context, kind string, im data.Images, cols int) error
	// File writes bytes as artifact kind, in a file called name.
	File(ctx context.Context, kind, name string, b []byte) error
	// Event records an informational event of the run.
	Event(ctx context.Context, kind, msg string)
	// Put records the evaluation with its summaries, at once.
	Put(ctx context.Context, ev record.Evaluation, sums []record.Summary) error
}

// Grid shapes: columns of the sample and reconstruction grids, and steps of
// a latent traversal.
const (
	GridColumns    = 8
	TraversalSteps = 9
)

// Evaluate is the whole evaluation stage of a trained model: it fits the
// run's samplers (reusing stored fits), writes the image grids and fits,
// computes every metric and records the evaluation with its summaries in
// sink. refs holds what runs of one dataset share (real features, the face
// descriptor); its Turn keeps evaluations from running at once.
func Evaluate(ctx context.Context, m *vae.Model, ds *data.Dataset, cfg experiments.RunConfig, refs *ReferenceCache, sink Sink) error {
	done, err := refs.Turn(ctx, EvaluationBytes(cfg.Eval.WithDefaults().Samples, ds.Train.Dim()))
	if err != nil {
		return err
	}
	defer done()
	started := time.Now()
	var readErr error
	stored := func(name string) [][]byte {
		files, err := sink.StoredFits(ctx, FitKind(name))
		if err != nil {
			readErr = err
		}
		return files
	}
	fits, err := FitSamplers(ctx, m, ds.Train, cfg, sink.Model(), stored)
	if readErr != nil {
		return readErr
	}
	if err != nil {
		return err
	}
	hash := cfg.EvalHash()
	for _, f := range fits {
		if f.Reused && f.Name != "prior" {
			sink.Event(ctx, "sampler-fit", fmt.Sprintf("evaluation %s: the %s sampler's stored fit (%s) reused", hash, f.Name, f.Sampler.Key()))
		}
	}
	if err := writeGrids(ctx, m, ds, cfg, fits, sink); err != nil {
		return err
	}
	for _, f := range fits {
		if f.Name == "prior" { // nothing fitted to keep
			continue
		}
		if err := sink.File(ctx, FitKind(f.Name), "fit-"+f.Name+".json", f.File); err != nil {
			return fmt.Errorf("store the %s sampler's fit: %w", f.Name, err)
		}
	}
	sums, err := Run(ctx, m, ds, cfg, fits, refs)
	if err != nil {
		return fmt.Errorf("evaluate: %w", err)
	}
	secs := time.Since(started).Seconds()
	ev := record.Evaluation{Hash: hash, Config: string(cfg.EvalSettings()), Seconds: secs}
	return sink.Put(ctx, ev, append(sums, Seconds(secs)))
}

// writeGrids writes the evaluation's image grids: reconstructions of the
// first test images (rows of originals and their reconstructions), samples
// of every sampler (samples.png for the prior, samples_NAME.png for another)
// and latent traversals of the first test image.
func writeGrids(ctx context.Context, m *vae.Model, ds *data.Dataset, cfg experiments.RunConfig, fits []FittedSampler, sink Sink) error {
	n := cfg.Eval.GridImages
	pairs := max(GridColumns, min(n/2, ds.Test.N)/GridColumns*GridColumns)
	pairs = min(pairs, ds.Test.N)
	idx := make([]int, pairs)
	for i := range idx {
		idx[i] = i
	}
	orig := ds.Test.Subset(idx)
	recon, err := m.Reconstruct(ctx, orig, cfg.Eval.BatchSize)
	if err != nil {
		return fmt.Errorf("reconstruct: %w", err)
	}
	if err := sink.Grid(ctx, "reconstructions", interleaveRows(orig, recon, GridColumns), GridColumns); err != nil {
		return err
	}
	samples, err := m.Sample(ctx, n, ds.Test, vae.NewRand(cfg.Seed, vae.StreamSamples))
	if err != nil {
		return fmt.Errorf("sample: %w", err)
	}
	if err := sink.Grid(ctx, "samples", samples, GridColumns); err != nil {
		return err
	}
	for _, f := range fits {
		if f.Name == "prior" {
			continue
		}
		im, err := DrawImages(ctx, m, f.Sampler, n, ds.Test, vae.NewRand(cfg.Seed, vae.StreamSamples))
		if err != nil {
			return err
		}
		if err := sink.Grid(ctx, SampleKind(f.Name), im, GridColumns); err != nil {
			return err
		}
	}
	trav, err := m.Traverse(ctx, ds.Test.Subset([]int{0}), TraversalSteps)
	if err != nil {
		return fmt.Errorf("traverse: %w", err)
	}
	return sink.Grid(ctx, "traversals", trav, TraversalSteps)
}

// interleaveRows alternates rows of cols originals with rows of their reconstructions.
func interleaveRows(a, b data.Images, cols int) data.Images {
	out := data.Images{Height: a.Height, Width: a.Width, Channels: a.Channels}
	for start := 0; start < a.N; start += cols {
		end := min(start+cols, a.N)
		for _, im := range []data.Images{a, b} {
			for i := start; i < end; i++ {
				out.Pix = append(out.Pix, im.At(i)...)
			}
			out.N += end - start
		}
	}
	return out
}

// DrawImages decodes n draws of a fitted sampler into images shaped like like.
func DrawImages(ctx context.Context, m *vae.Model, s vae.Sampler, n int, like data.Images, rng *rand.Rand) (data.Images, error) {
	z, err := s.Draw(ctx, rng, n)
	if err != nil {
		return data.Images{}, err
	}
	return m.Decode(ctx, z, like)
}
