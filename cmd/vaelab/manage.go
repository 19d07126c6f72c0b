package main

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/vaelab/vaelab/internal/termtext"
	"github.com/vaelab/vaelab/report"
	"github.com/vaelab/vaelab/runs"
)

// Run management: tag, note, archive, unarchive and rm. The logic is in
// runs (manage.go); these parse arguments and print.
func manageCmds(s *settings, stdout io.Writer) []*cobra.Command {
	return []*cobra.Command{tagCmd(s, stdout), noteCmd(s, stdout), archiveCmd(s, stdout, false), archiveCmd(s, stdout, true), rmCmd(s, stdout)}
}

func tagCmd(s *settings, stdout io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "tag RUN|EXPERIMENT key=value...",
		Short: "Tag a run or an experiment (key= removes a tag); ls and report filter with --tag key=value",
		Args:  cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			kv, err := runs.ParseTags(args[1:])
			if err != nil {
				return err
			}
			return writeStore(cmd, s, func(ctx context.Context, st *runs.Store) error {
				t, tags, err := st.Tag(ctx, args[0], kv)
				if err == nil {
					report.PrintTagged(stdout, t, tags)
				}
				return err
			})
		},
	}
}

func noteCmd(s *settings, stdout io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "note RUN|EXPERIMENT TEXT",
		Short: "Write a note on a run or an experiment (shown by show, the report and exports)",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return writeStore(cmd, s, func(ctx context.Context, st *runs.Store) error {
				t, err := st.Note(ctx, args[0], args[1])
				if err == nil {
					fmt.Fprintf(stdout, "noted on %s\n", termtext.Safe(t.String()))
				}
				return err
			})
		},
	}
}

func archiveCmd(s *settings, stdout io.Writer, un bool) *cobra.Command {
	var undo bool
	use, short := "archive EXPERIMENT...", "Hide experiments from ls and reports (ls --archived lists them; --undo or unarchive restores)"
	if un {
		use, short = "unarchive EXPERIMENT...", "Restore archived experiments"
	}
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return writeStore(cmd, s, func(ctx context.Context, st *runs.Store) error {
				return st.ArchiveAll(ctx, args, !(un || undo), stdout)
			})
		},
	}
	if !un {
		cmd.Flags().BoolVar(&undo, "undo", false, "restore the experiments instead")
	}
	return cmd
}

func rmCmd(s *settings, stdout io.Writer) *cobra.Command {
	var yes, force bool
	cmd := &cobra.Command{
		Use:   "rm RUN|EXPERIMENT",
		Short: "Delete a run or an experiment: its records and files (asks first unless --yes)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			answers := cmd.InOrStdin()
			if yes {
				answers = nil
			}
			return writeStore(cmd, s, func(ctx context.Context, st *runs.Store) error {
				return st.RemoveAsked(ctx, args[0], force, answers, stdout)
			})
		},
	}
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "do not ask for confirmation")
	cmd.Flags().BoolVar(&force, "force", false, "also delete runs another experiment uses")
	return cmd
}
