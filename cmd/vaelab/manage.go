package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vaelab/vaelab/internal/termtext"
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
			kv := map[string]string{}
			for _, a := range args[1:] {
				k, v, err := runs.ParseTag(a, true)
				if err != nil {
					return &exitError{exitUsage, err}
				}
				kv[k] = v
			}
			return writeStore(cmd, s, func(ctx context.Context, st *runs.Store) error {
				t, err := st.FindTarget(ctx, args[0])
				if err != nil {
					return &exitError{exitFailure, err}
				}
				if err := st.SetTags(ctx, t, kv); err != nil {
					return &exitError{exitFailure, err}
				}
				tags, err := st.Tags(ctx, t)
				if err != nil {
					return &exitError{exitFailure, err}
				}
				fmt.Fprintf(stdout, "%s: %s\n", termtext.Safe(t.String()), termtext.Safe(tagsText(tags)))
				return nil
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
				t, err := st.FindTarget(ctx, args[0])
				if err != nil {
					return &exitError{exitFailure, err}
				}
				if err := st.AddNote(ctx, t, args[1]); err != nil {
					return &exitError{exitUsage, err}
				}
				fmt.Fprintf(stdout, "noted on %s\n", termtext.Safe(t.String()))
				return nil
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
				for _, name := range args {
					if err := st.Archive(ctx, name, !(un || undo)); err != nil {
						return &exitError{exitFailure, err}
					}
					what := "archived (vaelab ls --archived lists it; vaelab unarchive restores it)"
					if un || undo {
						what = "restored"
					}
					fmt.Fprintf(stdout, "%s: %s\n", termtext.Safe(name), what)
				}
				return nil
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
		Long: `Rm deletes a run's records (metrics, summaries, evaluations, events, tags,
notes) and its files (checkpoint, images, its run folder), or an experiment
with the runs only it uses: runs another experiment uses are kept and only
unlinked. A run another experiment uses is refused unless --force; a run a
live process trains is always refused.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return writeStore(cmd, s, func(ctx context.Context, st *runs.Store) error {
				t, err := st.FindTarget(ctx, args[0])
				if err != nil {
					return &exitError{exitFailure, err}
				}
				if !yes {
					fmt.Fprintf(stdout, "delete %s with its records and files? [y/N] ", termtext.Safe(t.String()))
					line, _ := bufio.NewReader(cmd.InOrStdin()).ReadString('\n')
					if a := strings.ToLower(strings.TrimSpace(line)); a != "y" && a != "yes" {
						return &exitError{exitFailure, fmt.Errorf("nothing deleted (answer y, or pass --yes)")}
					}
				}
				rm, err := st.Remove(ctx, t, force)
				if err != nil {
					return &exitError{exitFailure, err}
				}
				fmt.Fprintf(stdout, "removed %s: %s, %d files, %s freed\n", termtext.Safe(t.String()), plural(len(rm.Runs), "run"), rm.Files, sizeText(rm.Bytes))
				if len(rm.Kept) > 0 {
					fmt.Fprintf(stdout, "kept %s another experiment uses (unlinked from this one): %s\n", plural(len(rm.Kept), "run"), strings.Join(rm.Kept, " "))
				}
				for _, p := range rm.Problems {
					fmt.Fprintf(stdout, "warning: %s\n", termtext.Safe(p))
				}
				return nil
			})
		},
	}
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "do not ask for confirmation")
	cmd.Flags().BoolVar(&force, "force", false, "also delete runs another experiment uses")
	return cmd
}

// sizeText is a byte count for people: 12.3 kB, 4.5 MB.
func sizeText(n int64) string {
	switch {
	case n >= 1e9:
		return fmt.Sprintf("%.1f GB", float64(n)/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	}
	return fmt.Sprintf("%.1f kB", float64(n)/1e3)
}

// tagsText formats tags as sorted key=value pairs.
func tagsText(tags map[string]string) string {
	var kv []string
	for k, v := range tags {
		kv = append(kv, k+"="+v)
	}
	sort.Strings(kv)
	if len(kv) == 0 {
		return "(no tags)"
	}
	return strings.Join(kv, " ")
}

// showManaged prints a target's tags and notes (show).
func showManaged(ctx context.Context, st *runs.Store, t runs.Target, w io.Writer) error {
	tags, err := st.Tags(ctx, t)
	if err != nil {
		return err
	}
	if len(tags) > 0 {
		fmt.Fprintf(w, "tags       %s\n", termtext.Safe(tagsText(tags)))
	}
	notes, err := st.Notes(ctx, t)
	if err != nil {
		return err
	}
	for _, n := range notes {
		fmt.Fprintf(w, "note       %s %s\n", n.Time, termtext.Safe(n.Text))
	}
	return nil
}

// reportSelection applies report's --tag and --archived: the experiments
// to show (all those carrying the tag when none is named) and the runs to
// keep. Archived experiments are refused unless archived is set.
func reportSelection(ctx context.Context, st *runs.Store, names []string, tag string, archived bool, filter []string) ([]string, []string, error) {
	if len(names) == 0 {
		if tag == "" {
			return nil, nil, fmt.Errorf("name at least one experiment, or select them with --tag key=value")
		}
		l, err := st.ListExperiments(ctx, runs.ListOptions{All: archived, Tag: tag})
		if err != nil {
			return nil, nil, err
		}
		for _, e := range l {
			names = append(names, e.Name)
		}
		if len(names) == 0 {
			return nil, nil, fmt.Errorf("no experiment has a run tagged %s", tag)
		}
	}
	seen := map[string]bool{} // report A A lists A once
	names = slices.DeleteFunc(names, func(n string) bool { d := seen[n]; seen[n] = true; return d })
	for _, p := range filter {
		if err := runsMatch(ctx, st, names, p); err != nil {
			return nil, nil, err
		}
	}
	for _, n := range names {
		a, err := st.Archived(ctx, n)
		if err != nil {
			return nil, nil, err
		}
		if a && !archived {
			return nil, nil, fmt.Errorf("experiment %q is archived: pass --archived to report it, or `vaelab unarchive %s`", n, n)
		}
	}
	if tag == "" {
		return names, filter, nil
	}
	k, v, err := runs.ParseTag(tag, false)
	if err != nil {
		return nil, nil, err
	}
	var keep []string
	for _, n := range names {
		ids, err := st.Tagged(ctx, n, k, v)
		if err != nil {
			return nil, nil, err
		}
		for _, id := range ids {
			if len(filter) == 0 || hasPrefix(id, filter) {
				keep = append(keep, id)
			}
		}
	}
	if len(keep) == 0 {
		return nil, nil, fmt.Errorf("no run of %s is tagged %s", strings.Join(names, ", "), tag)
	}
	return names, keep, nil
}

// runsMatch fails when no run of the experiments has an id starting with prefix.
func runsMatch(ctx context.Context, st *runs.Store, names []string, prefix string) error {
	for _, n := range names {
		rs, err := st.Runs(ctx, n)
		if err != nil {
			return err
		}
		for _, r := range rs {
			if strings.HasPrefix(r.ID, prefix) {
				return nil
			}
		}
	}
	return fmt.Errorf("--runs %s: no run of %s has an id starting so (vaelab ls EXPERIMENT lists them)", prefix, strings.Join(names, ", "))
}

// onlyTagged keeps the runs of experiment tagged tag (all of them for "").
func onlyTagged(ctx context.Context, st *runs.Store, experiment, tag string, rs []runs.RunInfo) ([]runs.RunInfo, error) {
	if tag == "" {
		return rs, nil
	}
	_, keep, err := reportSelection(ctx, st, []string{experiment}, tag, true, nil)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(rs, func(r runs.RunInfo) bool { return !slices.Contains(keep, r.ID) }), nil
}

func hasPrefix(id string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(id, p) {
			return true
		}
	}
	return false
}
