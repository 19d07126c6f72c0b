package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/vaelab/vaelab/experiments"
	"github.com/vaelab/vaelab/internal/atomicfile"
	"github.com/vaelab/vaelab/report"
	"github.com/vaelab/vaelab/runs"
)

func newRootCmd(stdout, stderr io.Writer) *cobra.Command {
	s := newSettings()
	root := &cobra.Command{
		Use:           "vaelab",
		Short:         "Variational autoencoder experiments on faces: sweeps, a SQLite record and HTML reports",
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return s.load(cmd)
		},
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	s.bindFlags(root)
	root.AddCommand(runCmd(s, stdout, stderr), planCmd(s, stdout), lsCmd(s, stdout), showCmd(s, stdout), reportCmd(s, stdout, stderr), exportCmd(s, stdout), sampleCmd(s, stdout), doctorCmd(s, stdout), dataCmd(s, stdout, stderr))
	return root
}

// loadSpec parses and expands a spec; its errors are the user's to fix.
func loadSpec(path string) (*experiments.Spec, []experiments.Run, error) {
	spec, err := experiments.Load(path)
	if err != nil {
		return nil, nil, &exitError{exitUsage, err}
	}
	rs, err := spec.Expand()
	if err != nil {
		return nil, nil, &exitError{exitUsage, err}
	}
	return spec, rs, nil
}

func openStore(ctx context.Context, s *settings) (*runs.Store, error) {
	st, err := runs.Open(ctx, s.db())
	if err != nil {
		return nil, &exitError{exitFailure, err}
	}
	return st, nil
}

// withRun runs fn with the run whose id starts with prefix, the store opened read-only.
func withRun(cmd *cobra.Command, s *settings, prefix string, fn func(ctx context.Context, st *runs.Store, r runs.RunInfo) error) error {
	return readStore(cmd, s, func(ctx context.Context, st *runs.Store) error {
		r, err := st.FindRun(ctx, prefix)
		if err != nil {
			return &exitError{exitFailure, err}
		}
		return fn(ctx, st, r)
	})
}

// requireDB fails when the workspace has no database yet.
func requireDB(s *settings) error {
	if _, err := os.Stat(s.db()); err != nil {
		return &exitError{exitFailure, fmt.Errorf("no database at %s (run a spec first, or set --db)", s.db())}
	}
	return nil
}

// readStore runs fn with the workspace database opened read-only.
func readStore(cmd *cobra.Command, s *settings, fn func(ctx context.Context, st *runs.Store) error) error {
	ctx := cmd.Context()
	st, err := openExistingStore(ctx, s)
	if err != nil {
		return err
	}
	defer st.Close()
	return fn(ctx, st)
}

// openExistingStore opens the database read-only for reading commands, which
// must neither create an empty workspace by accident nor write while a sweep runs.
func openExistingStore(ctx context.Context, s *settings) (*runs.Store, error) {
	if err := requireDB(s); err != nil {
		return nil, err
	}
	st, err := runs.OpenReadOnly(ctx, s.db())
	if err != nil {
		return nil, &exitError{exitFailure, err}
	}
	return st, nil
}

func runCmd(s *settings, stdout, stderr io.Writer) *cobra.Command {
	var reportPath string
	var checkpointEvery int
	cmd := &cobra.Command{
		Use:   "run SPEC",
		Short: "Train every run of a spec that is not finished yet, then optionally write the report",
		Long: `Run expands the spec into runs and trains those that are new, failed or
interrupted; finished runs are skipped, so running a spec again resumes it.
Ctrl-C stops cleanly: stopped runs are marked interrupted and run again next time.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			spec, rs, err := loadSpec(args[0])
			if err != nil {
				return err
			}
			workers, err := s.workers()
			if err != nil {
				return err
			}
			st, err := openStore(ctx, s)
			if err != nil {
				return err
			}
			defer st.Close()
			sc := &runs.Scheduler{Store: st, Workers: workers, DataDir: s.dataDir(), CacheDir: s.cacheDir(), RunsDir: s.runsDir(),
				CheckpointEvery: checkpointEvery}
			plan, err := sc.Prepare(ctx, spec, rs)
			if err != nil {
				return &exitError{exitFailure, err}
			}
			fmt.Fprintln(stdout, plan.Note)
			res := execute(ctx, sc, plan, stdout, stderr)
			fmt.Fprintf(stdout, "finished: %d done, %d diverged, %d failed, %d interrupted; %d skipped as already finished\n",
				res.Done, res.Diverged, res.Failed, res.Interrupted, res.Skipped)
			if res.Stopped != nil {
				return &exitError{exitFailure, fmt.Errorf("sweep stopped: %w; the runs in progress are marked interrupted with their last checkpoints kept: free space, then run `vaelab run %s` again to finish", res.Stopped, args[0])}
			}
			if res.Interrupted > 0 || ctx.Err() != nil {
				return &exitError{exitInterrupted, fmt.Errorf("interrupted: %s stopped and marked interrupted; run `vaelab run %s` again to resume", plural(res.Interrupted, "run"), args[0])}
			}
			if reportPath != "" {
				if err := report.WriteFile(context.WithoutCancel(ctx), st, []string{spec.Name}, reportPath, report.Options{}); err != nil {
					return &exitError{exitFailure, err}
				}
				fmt.Fprintf(stdout, "report: %s\n", reportPath)
			}
			if res.Failed > 0 {
				return &exitError{exitFailure, fmt.Errorf("%s failed; `vaelab ls %s` lists them and `vaelab show RUN` says why", plural(res.Failed, "run"), spec.Name)}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&reportPath, "report", "", "write the experiment's HTML report to this file when training ends")
	cmd.Flags().IntVar(&checkpointEvery, "checkpoint-every", 1, "epochs between checkpoints (a run also checkpoints after its last epoch); an interrupted run resumes from its last one")
	return cmd
}

// execute runs the plan with a progress bar on a terminal and one log line per run.
func execute(ctx context.Context, sc *runs.Scheduler, plan *runs.Plan, stdout, stderr io.Writer) runs.Result {
	total := int64(0)
	for _, r := range plan.ToTrain {
		if n, err := r.Config.Dataset.TrainCount(); err == nil {
			total += int64(r.Config.Train.Epochs * (n / r.Config.Train.BatchSize))
		}
	}
	f, isFile := stderr.(*os.File)
	if len(plan.ToTrain) == 0 || !isFile || !term.IsTerminal(int(f.Fd())) {
		sc.Log = stdout
		return sc.Execute(ctx, plan)
	}
	bar := progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(stderr),
		progressbar.OptionSetDescription(fmt.Sprintf("training %d runs", len(plan.ToTrain))),
		progressbar.OptionShowCount(),
		progressbar.OptionSetItsString("steps"),
		progressbar.OptionShowIts(),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionThrottle(200*time.Millisecond),
		progressbar.OptionClearOnFinish(),
	)
	sc.Log = &barWriter{bar: bar, w: stdout}
	sc.OnStep = func() { _ = bar.Add(1) }
	res := sc.Execute(ctx, plan)
	_ = bar.Finish()
	return res
}

// barWriter prints log lines above the progress bar.
type barWriter struct {
	mu  sync.Mutex
	bar *progressbar.ProgressBar
	w   io.Writer
}

func (b *barWriter) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	_ = b.bar.Clear()
	n, err := b.w.Write(p)
	_ = b.bar.RenderBlank()
	return n, err
}

func planCmd(s *settings, stdout io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "plan SPEC",
		Short: "List the runs a spec expands to, without training (a dry run)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			spec, rs, err := loadSpec(args[0])
			if err != nil {
				return err
			}
			status := map[string]string{}
			if _, err := os.Stat(s.db()); err == nil {
				st, err := openStore(cmd.Context(), s)
				if err != nil {
					return err
				}
				defer st.Close()
				stored, err := st.Runs(cmd.Context(), spec.Name)
				if err != nil {
					return &exitError{exitFailure, err}
				}
				for _, r := range stored {
					status[r.ID] = r.Status
				}
			}
			fmt.Fprintf(stdout, "experiment %s: %d runs (spec sha256 %s)\n", spec.Name, len(rs), spec.Hash[:12])
			tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
			axes := planAxes(spec)
			fmt.Fprintf(tw, "ID\t%s\tSTATUS\n", strings.ToUpper(strings.Join(axes, "\t")))
			for _, r := range rs {
				v := r.Varying()
				cols := make([]string, len(axes))
				for i, a := range axes {
					cols[i] = v[a]
				}
				st := status[r.ID]
				if st == "" {
					st = "new"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\n", r.ID, strings.Join(cols, "\t"), st)
			}
			return tw.Flush()
		},
	}
}

func planAxes(spec *experiments.Spec) []string {
	var axes []string
	if len(spec.Variants) > 0 {
		axes = append(axes, "variant")
	}
	for _, a := range spec.Grid {
		axes = append(axes, a.Key)
	}
	return append(axes, "seed")
}

func lsCmd(s *settings, stdout io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "ls [EXPERIMENT]",
		Short: "List experiments, or the runs of one experiment",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return readStore(cmd, s, func(ctx context.Context, st *runs.Store) error { return listRuns(ctx, st, args, stdout) })
		},
	}
}

// listRuns prints the experiments, or the runs of the one named in args.
func listRuns(ctx context.Context, st *runs.Store, args []string, stdout io.Writer) error {
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	defer tw.Flush()
	if len(args) == 0 {
		exps, err := st.Experiments(ctx)
		if err != nil {
			return &exitError{exitFailure, err}
		}
		fmt.Fprintln(tw, "EXPERIMENT\tRUNS\tSTATUS\tLAST STARTED")
		for _, e := range exps {
			fmt.Fprintf(tw, "%s\t%d\t%s\t%s\n", e.Name, e.RunCount, countsText(e.Counts), e.StartedAt)
		}
		return nil
	}
	if _, err := st.Experiment(ctx, args[0]); err != nil {
		return &exitError{exitFailure, err}
	}
	rs, err := st.Runs(ctx, args[0])
	if err != nil {
		return &exitError{exitFailure, err}
	}
	fmt.Fprintln(tw, "ID\tRUN\tSTATUS\tSTEPS\tTEST ELBO\tTIME")
	for _, r := range rs {
		sums, err := st.Summaries(ctx, r.ID)
		if err != nil {
			return &exitError{exitFailure, err}
		}
		elbo := "—"
		if v, ok := sums["test/elbo"]; ok {
			elbo = fmt.Sprintf("%.2f", v.Value)
		}
		status := r.Status
		if r.DivergedStep > 0 {
			status += fmt.Sprintf(" (step %d)", r.DivergedStep)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\n", r.ID, r.Label, status, r.Steps, elbo, r.Duration().Round(100*time.Millisecond))
	}
	return nil
}

func countsText(c map[string]int) string {
	var parts []string
	for _, k := range []string{runs.StatusDone, runs.StatusDiverged, runs.StatusFailed, runs.StatusInterrupted, runs.StatusRunning, runs.StatusPending} {
		if c[k] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", c[k], k))
		}
	}
	return strings.Join(parts, ", ")
}

func showCmd(s *settings, stdout io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "show RUN",
		Short: "Show one run: config, status, final metrics, files and events (RUN is an id or a unique prefix)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withRun(cmd, s, args[0], func(ctx context.Context, st *runs.Store, r runs.RunInfo) error {
				return showRun(ctx, st, r, stdout)
			})
		},
	}
}

func showRun(ctx context.Context, st *runs.Store, r runs.RunInfo, w io.Writer) error {
	fmt.Fprintf(w, "run        %s\nlabel      %s\nexperiment %s\nstatus     %s\n", r.ID, r.Label, r.Experiment, r.Status)
	if r.Error != "" {
		fmt.Fprintf(w, "reason     %s\n", r.Error)
	}
	fmt.Fprintf(w, "steps      %d (attempt %d)\nstarted    %s\nfinished   %s\nhost       %s\nBLAS       %s\ndirectory  %s\n",
		r.Steps, r.Attempts, r.StartedAt.Format(time.RFC3339), r.FinishedAt.Format(time.RFC3339), r.Host, r.BLAS, r.Dir)
	var cfg any
	if err := json.Unmarshal([]byte(r.Config), &cfg); err == nil {
		b, _ := json.MarshalIndent(cfg, "", "  ")
		fmt.Fprintf(w, "config\n%s\n", b)
	}
	sums, err := st.Summaries(ctx, r.ID)
	if err != nil {
		return &exitError{exitFailure, err}
	}
	if len(sums) > 0 {
		fmt.Fprintln(w, "summaries")
		keys := make([]string, 0, len(sums))
		for k := range sums {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(w, "  %-26s %14.4f  %s\n", k, sums[k].Value, sums[k].Protocol)
		}
	}
	arts, err := st.Artifacts(ctx, r.ID)
	if err != nil {
		return &exitError{exitFailure, err}
	}
	for _, a := range arts {
		fmt.Fprintf(w, "artifact   %-16s %s (%d bytes, sha256 %s)\n", a.Kind, a.Path, a.Bytes, a.SHA256[:12])
	}
	events, err := st.Events(ctx, "", r.ID)
	if err != nil {
		return &exitError{exitFailure, err}
	}
	for _, e := range events {
		fmt.Fprintf(w, "event      %s %s %s: %s\n", e.Time, e.Level, e.Kind, e.Message)
	}
	return nil
}

func reportCmd(s *settings, stdout, stderr io.Writer) *cobra.Command {
	var out string
	var filter []string
	cmd := &cobra.Command{
		Use:   "report EXPERIMENT [EXPERIMENT...]",
		Short: "Write the self-contained HTML report of one or more experiments (compared on one page)",
		Long: `Report reads the database read-only, so it can run while a sweep is writing.
Several experiments are compared on one page; --runs keeps only the given runs.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return readStore(cmd, s, func(ctx context.Context, st *runs.Store) error {
				opt := report.Options{Runs: filter, Progress: renderProgress(stderr)}
				if err := report.WriteFile(ctx, st, args, out, opt); err != nil {
					if errors.Is(err, context.Canceled) {
						return &exitError{exitInterrupted, err}
					}
					return &exitError{exitFailure, err}
				}
				fmt.Fprintf(stdout, "report: %s\n", out)
				return nil
			})
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "report.html", "HTML file to write")
	cmd.Flags().StringSliceVar(&filter, "runs", nil, "only these runs (ids or unique prefixes, comma-separated)")
	return cmd
}

// renderProgress reports reading progress of large reports on a terminal.
func renderProgress(w io.Writer) func(done, total int) {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	var bar *progressbar.ProgressBar
	return func(done, total int) {
		if total < 50 {
			return
		}
		if bar == nil {
			bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(w), progressbar.OptionSetDescription("reading runs"),
				progressbar.OptionShowCount(), progressbar.OptionClearOnFinish())
		}
		_ = bar.Set(done)
	}
}

func exportCmd(s *settings, stdout io.Writer) *cobra.Command {
	var format, out string
	var filter []string
	cmd := &cobra.Command{
		Use:   "export EXPERIMENT",
		Short: "Print an experiment's tables: csv (every run), md or latex (summary, mean ± std over seeds, best in bold)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return readStore(cmd, s, func(ctx context.Context, st *runs.Store) error {
				write := func(w io.Writer) error { return report.Export(ctx, st, args[0], format, filter, w) }
				var err error
				if out == "" {
					err = write(stdout)
				} else {
					_, _, err = atomicfile.Write(out, 0o644, write)
				}
				if err != nil {
					return &exitError{exitFailure, err}
				}
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&format, "format", "csv", "csv, md or latex")
	cmd.Flags().StringVarP(&out, "output", "o", "", "file to write (default: standard output)")
	cmd.Flags().StringSliceVar(&filter, "runs", nil, "only these runs (ids or unique prefixes, comma-separated)")
	return cmd
}

// plural formats a count with its noun: "1 run", "3 runs".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
