package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/vaelab/vaelab/experiments"
)

// specCmd documents spec keys from the members that declare them.
func specCmd(stdout io.Writer) *cobra.Command {
	var key string
	cmd := &cobra.Command{
		Use:   "spec --explain KEY",
		Short: "Explain a spec key of a plug-in member (objective, objective.kappa, eval.samplers, ...): its type, default and meaning",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if err := experiments.Explain(stdout, key); err != nil {
				return &exitError{exitUsage, fmt.Errorf("--explain: %w", err)}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&key, "explain", "", "the key to explain")
	return cmd
}
