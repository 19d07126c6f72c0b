package main

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/vaelab/vaelab/data"
	"github.com/vaelab/vaelab/evaluate"
	"github.com/vaelab/vaelab/runs"
)

func sampleCmd(s *settings, stdout io.Writer) *cobra.Command {
	var out string
	var req evaluate.SampleRequest
	cmd := &cobra.Command{
		Use:         "sample RUN",
		Annotations: map[string]string{needsBLAS: "yes"},
		Short:       "Write a PNG grid from a run's final checkpoint: samples (of the prior or a post-hoc sampler), reconstructions of test images, or latent traversals",
		Long: `With --sampler NAME (gmm, two_stage, ...), samples come from that post-hoc
sampler: its fit stored by the run's newest evaluation that used it is
reused (the same fit the metrics were computed with); a run never evaluated
with it is fitted now with the default settings, and the fit is not stored.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := evaluate.CheckSampleRequest(req); err != nil {
				return &exitError{exitUsage, err}
			}
			if err := s.checkOutput(cmd.Context(), "--output", out); err != nil {
				return err
			}
			return readStore(cmd, s, func(ctx context.Context, st *runs.Store) error {
				return runs.Sample(ctx, st, args[0], &data.Loader{DataDir: s.dataDir(), CacheDir: s.cacheDir()}, req, out, stdout)
			})
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "samples.png", "PNG file to write")
	cmd.Flags().StringVar(&req.Kind, "kind", "samples", "samples, reconstructions or traversals")
	cmd.Flags().IntVarP(&req.N, "n", "n", 64, fmt.Sprintf("number of samples or reconstructions (1 to %d)", evaluate.MaxSampleImages))
	cmd.Flags().Uint64Var(&req.Seed, "seed", 1, "seed of the samples")
	cmd.Flags().StringVar(&req.Sampler, "sampler", "prior", "with --kind samples: the sampler whose draws are decoded (prior, gmm, two_stage)")
	return cmd
}
