package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/vaelab/vaelab/bench"
	"github.com/vaelab/vaelab/data"
)

func benchCmd(s *settings, stdout io.Writer) *cobra.Command {
	var child string
	var opt bench.Options
	cmd := &cobra.Command{
		Use:         "bench",
		Annotations: map[string]string{needsBLAS: "yes"},
		Short:       "Measure training speed against PyTorch, sweep scaling, logging and evaluation costs",
		Long: `Bench prints, for the two reference models (an MLP 560-400-20 at batch 100 and a
conv VAE 64x64x3 with 32-64-128-256 4x4 stride-2 convolutions at batch 64, both
float32), images per second, GFLOP/s, heap allocations per step and peak memory,
each model in its own process, beside the same figures from PyTorch running
bench/torch_vae.py with one thread, and their ratio: the median of --rounds
measurements of each, taken alternately. Then: the wall time of 4
equal runs with 1 and with 2 workers (the best of --rounds each), the cost of recording metrics in the
store against discarding them, the FD-proxy's cost on 10,000 images, and
dlib's face descriptor in images per second on 64x64 grey faces beside the
same network in PyTorch (bench/torch_dlib.py, random weights, two threads).
The machine is shared and noisy: compare figures from one invocation.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if child != "" {
				return bench.Child(stdout, child, opt.MLPSteps, opt.ConvSteps)
			}
			if opt.Rounds < 1 {
				return &exitError{exitUsage, fmt.Errorf("--rounds: %d must be at least 1", opt.Rounds)}
			}
			for _, sec := range opt.Sections {
				if !slices.Contains(bench.Sections(), sec) {
					return &exitError{exitUsage, fmt.Errorf("--sections: unknown section %q (%v)", sec, bench.Sections())}
				}
			}
			self, err := os.Executable()
			if err != nil {
				return err
			}
			opt.Executable, opt.DlibDir = self, filepath.Join(s.dataDir(), data.DlibFaceDir)
			opt.ChildArgs = func(model string) []string {
				return []string{"bench", "--child", model, "--mlp-steps", strconv.Itoa(opt.MLPSteps), "--conv-steps", strconv.Itoa(opt.ConvSteps)}
			}
			return failure(bench.Run(cmd.Context(), stdout, opt))
		},
	}
	f := cmd.Flags()
	f.StringVar(&opt.Python, "python", "/usr/bin/python3", "the Python with torch that runs bench/torch_vae.py (\"\" to skip PyTorch)")
	f.IntVar(&opt.MLPSteps, "mlp-steps", 200, "training steps of the MLP")
	f.IntVar(&opt.ConvSteps, "conv-steps", 10, "training steps of the conv VAE")
	f.IntVar(&opt.Rounds, "rounds", 3, "measurements of each model and its PyTorch peer, and of each sweep, alternating")
	f.StringSliceVar(&opt.Sections, "sections", bench.Sections(), "what to measure")
	f.StringVar(&child, "child", "", "internal: measure one model in this process and print it as JSON")
	f.MarkHidden("child")
	return cmd
}
