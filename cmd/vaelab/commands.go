package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/vaelab/vaelab/experiments"
	"github.com/vaelab/vaelab/internal/atomicfile"
	"github.com/vaelab/vaelab/internal/termtext"
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
			if err := s.load(cmd); err != nil {
				return err
			}
			if cmd.Annotations[needsBLAS] == "" {
				return nil
			}
			return s.setupBLAS(stderr)
		},
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	setVersion(root)
	s.bindFlags(root)
	root.AddCommand(runCmd(s, stdout, stderr), syncCmd(s, stdout), workerCmd(s, stdout, stderr), benchCmd(s, stdout), planCmd(s, stdout), lsCmd(s, stdout), showCmd(s, stdout), reportCmd(s, stdout, stderr), exportCmd(s, stdout), sampleCmd(s, stdout), evaluateCmd(s, stdout, stderr), doctorCmd(s, stdout), dataCmd(s, stdout, stderr))
	root.AddCommand(manageCmds(s, stdout)...)
	root.AddCommand(specCmd(stdout))
	root.AddCommand(serveCmd(s, stdout, stderr))
	return root
}

// loadPlan loads a spec and makes the plan-time checks that need the
// settings (dataset paths against the data directory); nothing is written.
func loadPlan(s *settings, path string) (*experiments.Spec, []experiments.Run, error) {
	spec, rs, err := loadSpec(path)
	if err != nil {
		return nil, nil, err
	}
	if err := runs.CheckPlan(rs, s.dataDir()); err != nil {
		return nil, nil, &exitError{exitUsage, spec.Locate(err)}
	}
	return spec, rs, nil
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

func runCmd(s *settings, stdout, stderr io.Writer) *cobra.Command {
	var reportPath, executor string
	var checkpointEvery int
	var slurm runs.SlurmOptions
	cmd := &cobra.Command{
		Use:         "run SPEC",
		Annotations: map[string]string{needsBLAS: "yes"},
		Short:       "Train every run of a spec that is not finished yet, then optionally write the report",
		Long: `Run expands the spec into runs and trains those that are new, failed or
interrupted; finished runs are skipped, so running a spec again resumes it.
Ctrl-C stops cleanly: stopped runs are marked interrupted and run again next time.

With --executor slurm the runs go to a Slurm cluster as one job array (one task
per run, each running "vaelab worker"); vaelab waits, importing each run when
its task ends. The workspace (database folder, runs and data directories) must
be on a filesystem the nodes share. Ctrl-C stops waiting but leaves the jobs
running: "vaelab sync SPEC" imports them later.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if err := checkRunsDir(s); err != nil {
				return err
			}
			if err := checkOutput(ctx, s, "--report", reportPath, args[0]); err != nil {
				return err
			}
			spec, rs, err := loadPlan(s, args[0])
			if err != nil {
				return err
			}
			workers, err := s.workers()
			if err != nil {
				return err
			}
			if err := runs.CheckExecutor(executor, spec); err != nil {
				return &exitError{exitUsage, fmt.Errorf("%s: %w", args[0], err)}
			}
			st, err := openStore(ctx, s)
			if err != nil {
				return err
			}
			defer st.Close()
			sc := &runs.Scheduler{Store: st, Workers: workers, DataDir: s.dataDir(), CacheDir: s.cacheDir(), RunsDir: s.runsDir(),
				CheckpointEvery: checkpointEvery, DataProgress: stderr, DataTerminal: isTerminal(stderr)}
			ex, err := runs.NewExecutor(ctx, executor, sc, spec, runs.ExecutorOptions{Log: stdout, Progress: stderr, Slurm: slurm, DB: s.db()})
			if err != nil {
				return &exitError{exitFailure, fmt.Errorf("%s: %w", args[0], err)}
			}
			plan, err := sc.Prepare(ctx, spec, rs)
			if err != nil {
				return failure(err)
			}
			fmt.Fprintln(stdout, termtext.Safe(plan.Note))
			res := ex.Execute(ctx, plan)
			fmt.Fprintln(stdout, res)
			stop, failed := res.Outcome(ctx.Err() != nil, "vaelab run "+args[0])
			if stop != nil {
				return failure(stop)
			}
			if err := reportAfter(ctx, st, spec.Name, reportPath, stdout); err != nil {
				return err
			}
			return failure(failed)
		},
	}
	f := cmd.Flags()
	f.StringVar(&reportPath, "report", "", "write the experiment's HTML report to this file when training ends")
	f.IntVar(&checkpointEvery, "checkpoint-every", 1, "epochs between checkpoints (a run also checkpoints after its last epoch); an interrupted run resumes from its last one")
	f.StringVar(&executor, "executor", "local", "where runs train: local (a pool of --workers), slurm (one job array) or worker (record them for `vaelab worker` processes started by any scheduler)")
	addSlurmFlags(cmd, &slurm)
	return cmd
}

func workerCmd(s *settings, stdout, stderr io.Writer) *cobra.Command {
	var index int
	var experiment string
	cmd := &cobra.Command{
		Use:         "worker [MANIFEST] [--experiment NAME]",
		Annotations: map[string]string{needsBLAS: "yes"},
		Short:       "Claim and train an experiment's pending runs until none remain (any scheduler can start N of these)",
		Long: `With --experiment, worker trains the pending, failed and interrupted runs of an
experiment recorded in the database (by "vaelab run SPEC --executor worker", or
any earlier run) until none remain, claiming one run at a time: start it N times,
by hand, with ssh, a Kubernetes Indexed Job or a PBS array, where the
database is on a local disk, and every run trains once. Ctrl-C or SIGTERM stops it
cleanly; another worker resumes the run from its checkpoint.

With MANIFEST instead, it trains one task of a Slurm job array (the tasks that
--executor slurm submits run this).`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if experiment != "" {
				return genericWorker(cmd.Context(), s, experiment, stdout, stderr)
			}
			if len(args) != 1 {
				return &exitError{exitUsage, fmt.Errorf("worker: name an experiment (--experiment NAME) or a Slurm manifest")}
			}
			return slurmTask(cmd.Context(), args[0], index, stdout)
		},
	}
	cmd.Flags().IntVar(&index, "index", -1, "slurm: the task's index in the manifest (default: SLURM_ARRAY_TASK_ID)")
	cmd.Flags().StringVar(&experiment, "experiment", "", "train this recorded experiment's pending runs until none remain")
	return cmd
}

// genericWorker trains an experiment's pending runs, one at a time.
func genericWorker(ctx context.Context, s *settings, experiment string, stdout, stderr io.Writer) error {
	if err := checkRunsDir(s); err != nil {
		return err
	}
	st, err := openExistingForWriting(ctx, s)
	if err != nil {
		return err
	}
	defer st.Close()
	sc := &runs.Scheduler{Store: st, Workers: 1, DataDir: s.dataDir(), CacheDir: s.cacheDir(), RunsDir: s.runsDir(),
		CheckpointEvery: 1, DataProgress: stderr, Log: stdout}
	res, err := sc.Work(ctx, experiment)
	if err != nil {
		return failure(err)
	}
	fmt.Fprintln(stdout, res)
	stop, failed := res.Outcome(ctx.Err() != nil, "vaelab worker --experiment "+experiment)
	return failure(cmp.Or(stop, failed))
}

func planCmd(s *settings, stdout io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "plan SPEC",
		Short: "List the runs a spec expands to, without training (a dry run)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			spec, rs, err := loadPlan(s, args[0])
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
					return failure(err)
				}
				for _, r := range stored {
					status[r.ID] = r.Status
				}
			}
			return experiments.PrintPlan(stdout, spec, rs, status)
		},
	}
}

func lsCmd(s *settings, stdout io.Writer) *cobra.Command {
	var o runs.ListOptions
	cmd := &cobra.Command{
		Use:   "ls [EXPERIMENT]",
		Short: "List experiments (archived ones with --archived or --all), or the runs of one experiment",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return readStore(cmd, s, func(ctx context.Context, st *runs.Store) error { return listRuns(ctx, st, args, o, stdout) })
		},
	}
	cmd.Flags().BoolVar(&o.Archived, "archived", false, "list only archived experiments")
	cmd.Flags().BoolVar(&o.All, "all", false, "list archived experiments too")
	cmd.Flags().StringVar(&o.Tag, "tag", "", "only experiments (or runs) tagged key=value")
	return cmd
}

// listRuns prints the experiments, or the runs of the one named in args.
func listRuns(ctx context.Context, st *runs.Store, args []string, o runs.ListOptions, stdout io.Writer) error {
	var err error
	if len(args) == 0 {
		err = report.ListExperiments(ctx, stdout, st, o)
	} else {
		err = report.ListRuns(ctx, stdout, st, args[0], o.Tag)
	}
	if err != nil {
		return failure(err)
	}
	return nil
}

func showCmd(s *settings, stdout io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "show RUN",
		Short: "Show one run: config, status, final metrics, files and events (RUN is an id or a unique prefix)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withRun(cmd, s, args[0], func(ctx context.Context, st *runs.Store, r runs.RunInfo) error {
				return failure(report.ShowRun(ctx, stdout, st, r))
			})
		},
	}
}

func reportCmd(s *settings, stdout, stderr io.Writer) *cobra.Command {
	var out, tag string
	var archived bool
	var filter []string
	cmd := &cobra.Command{
		Use:   "report EXPERIMENT [EXPERIMENT...]",
		Short: "Write the self-contained HTML report of one or more experiments (compared on one page)",
		Long: `Report reads the database read-only, so it can run while a sweep is writing.
Several experiments are compared on one page; --runs keeps only the given runs,
--tag K=V only those tagged so (with no experiment named: every experiment's).`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkOutput(cmd.Context(), s, "--output", out); err != nil {
				return err
			}
			return readStore(cmd, s, func(ctx context.Context, st *runs.Store) error {
				names, keep, err := st.Select(ctx, args, tag, archived, filter)
				if err != nil {
					return failure(err)
				}
				opt := report.Options{Runs: keep, Progress: renderProgress(stderr)}
				if err := report.WriteFile(ctx, st, names, out, opt); err != nil {
					if errors.Is(err, context.Canceled) {
						return &exitError{exitInterrupted, err}
					}
					return failure(err)
				}
				fmt.Fprintf(stdout, "report: %s\n", out)
				return nil
			})
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "report.html", "HTML file to write")
	cmd.Flags().StringSliceVar(&filter, "runs", nil, "only these runs (ids or unique prefixes, comma-separated)")
	cmd.Flags().StringVar(&tag, "tag", "", "only runs tagged key=value (on the run or its experiment)")
	cmd.Flags().BoolVar(&archived, "archived", false, "allow archived experiments (hidden otherwise)")
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
	var curves bool
	cmd := &cobra.Command{
		Use:   "export EXPERIMENT",
		Short: "Print an experiment's tables: csv (every run), md or latex (summary, mean ± std over seeds, best in bold)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkOutput(cmd.Context(), s, "--output", out); err != nil {
				return err
			}
			return readStore(cmd, s, func(ctx context.Context, st *runs.Store) error {
				write := func(w io.Writer) error { return report.Export(ctx, st, args[0], format, filter, w) }
				if curves {
					write = func(w io.Writer) error { return report.ExportCurves(ctx, st, args[0], format, filter, w) }
				}
				var err error
				if out == "" {
					err = write(stdout)
				} else {
					_, _, err = atomicfile.WriteTarget(out, write)
				}
				if err != nil {
					return failure(err)
				}
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&format, "format", "csv", "csv, md or latex")
	cmd.Flags().StringVarP(&out, "output", "o", "", "file to write (default: standard output)")
	cmd.Flags().StringSliceVar(&filter, "runs", nil, "only these runs (ids or unique prefixes, comma-separated)")
	cmd.Flags().BoolVar(&curves, "curves", false, "write the training curves instead, long format (csv only): experiment, run_id, label, seed, step, epoch, key, value")
	return cmd
}

// plural formats a count with its noun: "1 run", "3 runs".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// isTerminal reports whether w is a terminal (progress redraws a bar there,
// and writes lines elsewhere).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
