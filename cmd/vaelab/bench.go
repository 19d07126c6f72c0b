package main

import (
	"io"
	"path/filepath"

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
		Args:        cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if child != "" {
				return bench.Child(stdout, child, opt.MLPSteps, opt.ConvSteps)
			}
			opt.DlibDir = filepath.Join(s.dataDir(), data.DlibFaceDir)
			return bench.Run(cmd.Context(), stdout, opt)
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
