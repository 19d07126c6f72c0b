package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

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
			return withRun(cmd, s, args[0], func(ctx context.Context, _ *runs.Store, r runs.RunInfo) error {
				im, cols, err := sampleRun(ctx, s, r, kind, n, seed)
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
	cmd.Flags().IntVarP(&n, "n", "n", 64, "number of samples or reconstructions")
	cmd.Flags().Uint64Var(&seed, "seed", 1, "seed of the prior samples")
	return cmd
}

// sampleRun rebuilds the run's model from its checkpoint and draws the grid.
func sampleRun(ctx context.Context, s *settings, r runs.RunInfo, kind string, n int, seed uint64) (data.Images, int, error) {
	var cfg experiments.RunConfig
	if err := json.Unmarshal([]byte(r.Config), &cfg); err != nil {
		return data.Images{}, 0, fmt.Errorf("stored config: %w", err)
	}
	path := filepath.Join(r.Dir, "checkpoint.vck")
	f, err := os.Open(path)
	if err != nil {
		return data.Images{}, 0, fmt.Errorf("no checkpoint (%w); only runs trained with checkpoints can be sampled", err)
	}
	c, err := vae.ReadCheckpoint(f)
	f.Close()
	if err != nil {
		return data.Images{}, 0, fmt.Errorf("checkpoint %s: %w", path, err)
	}
	ds, err := (&data.Loader{DataDir: s.dataDir(), CacheDir: s.cacheDir()}).Load(ctx, cfg.Dataset)
	if err != nil {
		return data.Images{}, 0, err
	}
	m, err := vae.LoadModel(cfg.Model, vae.ShapeOf(ds.Test), c)
	if err != nil {
		return data.Images{}, 0, err
	}
	switch kind {
	case "samples":
		im, err := m.Sample(ctx, n, ds.Test, vae.NewRand(seed, vae.StreamSamples))
		return im, 8, err
	case "reconstructions":
		im, err := m.Reconstruct(ctx, ds.Test.First(n), cfg.Eval.BatchSize)
		return im, 8, err
	case "traversals":
		im, err := m.Traverse(ctx, ds.Test.First(1), 9, -3, 3)
		return im, 9, err
	}
	return data.Images{}, 0, fmt.Errorf("unknown kind %q (samples, reconstructions, traversals)", kind)
}
