package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"

	"github.com/spf13/cobra"

	"github.com/vaelab/vaelab/data"
	"github.com/vaelab/vaelab/experiments"
	"github.com/vaelab/vaelab/internal/atomicfile"
	"github.com/vaelab/vaelab/runs"
	"github.com/vaelab/vaelab/vae"
)

func sampleCmd(s *settings, stdout io.Writer) *cobra.Command {
	var out, kind, sampler string
	var n int
	var seed uint64
	cmd := &cobra.Command{
		Use:         "sample RUN",
		Annotations: map[string]string{needsBLAS: "yes"},
		Short:       "Write a PNG grid from a run's final checkpoint: samples (of the prior or a post-hoc sampler), reconstructions of test images, or latent traversals",
		Long: `Sample writes a PNG grid from a run's final checkpoint.

With --sampler NAME (gmm, two_stage, ...), samples come from that post-hoc
sampler: its fit stored by the run's newest evaluation that used it is
reused (the same fit the metrics were computed with); a run never evaluated
with it is fitted now with the default settings, and the fit is not stored.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkSampleFlags(kind, n, sampler); err != nil {
				return &exitError{exitUsage, err}
			}
			if err := checkOutput(cmd.Context(), s, "--output", out); err != nil {
				return err
			}
			return withRun(cmd, s, args[0], func(ctx context.Context, st *runs.Store, r runs.RunInfo) error {
				im, cols, err := sampleRun(ctx, s, st, r, sampleRequest{kind, sampler, n, seed}, stdout)
				if err != nil {
					return &exitError{exitFailure, fmt.Errorf("sample run %s: %w", r.ID, err)}
				}
				if _, _, err := atomicfile.WriteTarget(out, func(w io.Writer) error { return data.WriteGridPNG(w, im, cols, 2) }); err != nil {
					return &exitError{exitFailure, err}
				}
				fmt.Fprintf(stdout, "%s of run %s (%s): %s\n", kind, r.ID, r.Label, out)
				return nil
			})
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "samples.png", "PNG file to write")
	cmd.Flags().StringVar(&kind, "kind", "samples", "samples, reconstructions or traversals")
	cmd.Flags().IntVarP(&n, "n", "n", 64, fmt.Sprintf("number of samples or reconstructions (1 to %d)", maxSampleImages))
	cmd.Flags().Uint64Var(&seed, "seed", 1, "seed of the samples")
	cmd.Flags().StringVar(&sampler, "sampler", "prior", "with --kind samples: the sampler whose draws are decoded (prior, gmm, two_stage)")
	return cmd
}

// maxSampleImages bounds a grid: 4096 images of 1024×1024×3 are already 12 GB.
const maxSampleImages = 4096

// checkSampleFlags refuses impossible flags before anything is loaded.
func checkSampleFlags(kind string, n int, sampler string) error {
	switch kind {
	case "samples", "reconstructions", "traversals":
	default:
		return fmt.Errorf("--kind %q: want samples, reconstructions or traversals", kind)
	}
	if n < 1 || n > maxSampleImages {
		return fmt.Errorf("-n %d: the number of images must be between 1 and %d", n, maxSampleImages)
	}
	if _, err := vae.NewSampler(sampler, vae.EvalConfig{}); err != nil {
		return fmt.Errorf("--sampler: %w", err)
	}
	if sampler != "prior" && kind != "samples" {
		return fmt.Errorf("--sampler %s: only --kind samples draws from a sampler", sampler)
	}
	return nil
}

// sampleRequest is what sample draws.
type sampleRequest struct {
	kind, sampler string
	n             int
	seed          uint64
}

// sampleRun rebuilds the run's model from its checkpoint, loaded as the
// scheduler loads it (checked against the store's record), and draws the grid.
func sampleRun(ctx context.Context, s *settings, st *runs.Store, r runs.RunInfo, req sampleRequest, stdout io.Writer) (data.Images, int, error) {
	kind, n, seed := req.kind, req.n, req.seed
	var cfg experiments.RunConfig
	if err := json.Unmarshal([]byte(r.Config), &cfg); err != nil {
		return data.Images{}, 0, fmt.Errorf("stored config: %w", err)
	}
	m, ds, err := runs.LoadTrained(ctx, st, r, cfg, &data.Loader{DataDir: s.dataDir(), CacheDir: s.cacheDir()})
	if err != nil {
		return data.Images{}, 0, err
	}
	// The stored config is the training's; evaluation settings belong to
	// the spec, so the batch is the default.
	batch := vae.DefaultEvalConfig().BatchSize
	switch {
	case kind == "samples" && req.sampler != "prior":
		im, err := samplerImages(ctx, st, r, cfg, m, ds, req, stdout)
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

// samplerImages decodes n draws of the run's fitted sampler req.sampler,
// with the settings of the newest evaluation that used it (its stored fit
// is then reused), or the defaults.
func samplerImages(ctx context.Context, st *runs.Store, r runs.RunInfo, cfg experiments.RunConfig, m *vae.Model, ds *data.Dataset, req sampleRequest, stdout io.Writer) (data.Images, error) {
	evals, err := st.Evaluations(ctx, r.ID)
	if err != nil {
		return data.Images{}, err
	}
	cfg.Eval = vae.DefaultEvalConfig()
	for _, e := range evals {
		var ev vae.EvalConfig
		if json.Unmarshal([]byte(e.Config), &ev) == nil && slices.Contains(ev.Samplers, req.sampler) {
			cfg.Eval = ev
			cfg.Eval.BatchSize = vae.DefaultEvalConfig().BatchSize // not part of the settings: it changes speed only
			break
		}
	}
	cfg.Eval.Samplers = []string{req.sampler}
	fits, err := runs.FitSamplers(ctx, st, r.ID, cfg, m, ds.Train)
	if err != nil {
		return data.Images{}, err
	}
	if !fits[0].Reused {
		fmt.Fprintf(stdout, "no stored %s fit for these settings: fitted it now (%s)\n", req.sampler, fits[0].Sampler.Key())
	}
	return runs.DrawImages(ctx, m, fits[0].Sampler, req.n, ds.Test, vae.NewRand(req.seed, vae.StreamSamples))
}
