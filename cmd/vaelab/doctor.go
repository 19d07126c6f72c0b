package main

import (
	"io"

	"github.com/spf13/cobra"

	"github.com/vaelab/vaelab/internal/blaslib"
	"github.com/vaelab/vaelab/runs"
)

func doctorCmd(s *settings, stdout io.Writer) *cobra.Command {
	var repair bool
	cmd := &cobra.Command{
		Use:         "doctor",
		Annotations: map[string]string{needsBLAS: "yes"},
		Short:       "Check the workspace: database integrity, orphaned runs, changed or missing files; --repair fixes what is safe",
		Args:        cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runs.DoctorWorkspace(cmd.Context(), s.db(), repair, blaslib.Current(), stdout)
		},
	}
	cmd.Flags().BoolVar(&repair, "repair", false, "apply the safe repairs (orphaned runs become interrupted); files are never deleted")
	return cmd
}
