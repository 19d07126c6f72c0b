package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/vaelab/vaelab/data"
	"github.com/vaelab/vaelab/experiments"
	"github.com/vaelab/vaelab/internal/atomicfile"
	"github.com/vaelab/vaelab/runs"
	"github.com/vaelab/vaelab/vae"
)

func sampleCmd(s *settings, stdout io.Writer) *cobra.Command {
	var out, kind string
	var n int
	var seed uint64
	cmd := &cobra.Command{
		Use:         "sample RUN",
		Annotations: map[string]string{needsBLAS: "yes"},
		Short:       "Write a PNG grid from a run's final checkpoint: prior samples, reconstructions of test images, or latent traversals",
		Args:        cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkSampleFlags(kind, n); err != nil {
				return &exitError{exitUsage, err}
			}
			return withRun(cmd, s, args[0], func(ctx context.Context, st *runs.Store, r runs.RunInfo) error {
				im, cols, err := sampleRun(ctx, s, st, r, kind, n, seed)
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
	cmd.Flags().Uint64Var(&seed, "seed", 1, "seed of the prior samples")
	return cmd
}

// maxSampleImages bounds a grid: 4096 images of 1024×1024×3 are already 12 GB.
const maxSampleImages = 4096

// checkSampleFlags refuses impossible flags before anything is loaded.
func checkSampleFlags(kind string, n int) error {
	switch kind {
	case "samples", "reconstructions", "traversals":
	default:
		return fmt.Errorf("--kind %q: want samples, reconstructions or traversals", kind)
	}
	if n < 1 || n > maxSampleImages {
		return fmt.Errorf("-n %d: the number of images must be between 1 and %d", n, maxSampleImages)
	}
	return nil
}

// sampleRun rebuilds the run's model from its checkpoint, loaded as the
// scheduler loads it (checked against the store's record), and draws the grid.
func sampleRun(ctx context.Context, s *settings, st *runs.Store, r runs.RunInfo, kind string, n int, seed uint64) (data.Images, int, error) {
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
	switch kind {
	case "samples":
		im, err := m.Sample(ctx, n, ds.Test, vae.NewRand(seed, vae.StreamSamples))
		return im, 8, err
	case "reconstructions":
		im, err := m.Reconstruct(ctx, ds.Test.First(n), batch)
		return im, 8, err
	case "traversals":
		im, err := m.Traverse(ctx, ds.Test.First(1), 9)
		return im, 9, err
	}
	return data.Images{}, 0, fmt.Errorf("unknown kind %q (samples, reconstructions, traversals)", kind)
}
