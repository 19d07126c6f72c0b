package main

import (
	"io"

	"github.com/spf13/cobra"

	"github.com/vaelab/vaelab/internal/progress"
	"github.com/vaelab/vaelab/runs"
)

func evaluateCmd(s *settings, stdout, stderr io.Writer) *cobra.Command {
	var reportPath string
	cmd := &cobra.Command{
		Use:         "evaluate SPEC|EXPERIMENT",
		Annotations: map[string]string{needsBLAS: "yes"},
		Short:       "Score the finished runs of a spec or stored experiment again from their final checkpoints, without training",
		Args:        cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o := runs.SweepOptions{Log: stdout, Progress: stderr, Terminal: progress.IsTerminal(stderr)}
			if err := s.sweep(cmd.Context(), &o, reportPath, args[0], stdout); err != nil {
				return err
			}
			return runs.Evaluate(cmd.Context(), args[0], o)
		},
	}
	cmd.Flags().StringVar(&reportPath, "report", "", "write the experiment's HTML report to this file when evaluation ends")
	return cmd
}
