package main

import (
	"context"
	"fmt"
	"io"
	"strings"

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
			reportBLAS(stdout, blaslib.Current())
			open := readStore
			if repair {
				open = writeStore
			}
			return open(cmd, s, func(ctx context.Context, st *runs.Store) error {
				findings, err := st.Check(ctx)
				if err != nil {
					return failure(err)
				}
				problems := runs.PrintFindings(stdout, findings, repair)
				if repair {
					n, err := st.Repair(ctx, findings)
					if err != nil {
						return failure(err)
					}
					fmt.Fprintf(stdout, "repaired %d of %d findings\n", n, len(findings))
					if n == len(findings) {
						return nil
					}
				}
				if problems == 0 {
					waiting := ""
					if n := len(findings); n > 0 {
						waiting = fmt.Sprintf("; %s waiting to be resumed, listed above", plural(n, "run"))
					}
					fmt.Fprintf(stdout, "%s: ok (integrity check passed, no orphaned runs, every file matches its sha256%s)\n", st.Path(), waiting)
					return nil
				}
				return &exitError{exitFailure, fmt.Errorf("%d problems found in %s", problems, st.Path())}
			})
		},
	}
	cmd.Flags().BoolVar(&repair, "repair", false, "apply the safe repairs (orphaned runs become interrupted); files are never deleted")
	return cmd
}

// reportBLAS prints the BLAS this machine trains with and says when it runs
// slower than the CPU allows: a generic kernel set, or no OpenBLAS at all.
func reportBLAS(w io.Writer, b blaslib.Info) {
	fmt.Fprintf(w, "%-9s %-16s %s\n", "blas", "", b)
	switch {
	case b.Generic:
		advice := "this OpenBLAS build cannot switch its kernels: install one that knows the CPU, or set OPENBLAS_CORETYPE"
		if strings.Contains(b.Reason, "set by the user") {
			advice = "unset OPENBLAS_CORETYPE to let vaelab choose, or set it to SkylakeX (AVX-512) or Haswell (AVX2)"
		}
		fmt.Fprintf(w, "%-9s %-16s OpenBLAS runs its generic %s kernels on a CPU with %s, 3-6x slower than it could: %s\n",
			"warning", "", b.Core, b.CPU, advice)
	case b.Library != "OpenBLAS":
		fmt.Fprintf(w, "%-9s %-16s training runs on gonum's pure-Go BLAS, 3-5x slower than OpenBLAS (Debian: apt-get install libopenblas0-pthread)\n", "note", "")
	}
}
