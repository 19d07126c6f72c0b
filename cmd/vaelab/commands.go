package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vaelab/vaelab/bench"
	"github.com/vaelab/vaelab/data"
	"github.com/vaelab/vaelab/evaluate"
	"github.com/vaelab/vaelab/experiments"
	"github.com/vaelab/vaelab/internal/blaslib"
	"github.com/vaelab/vaelab/internal/progress"
	"github.com/vaelab/vaelab/report"
	"github.com/vaelab/vaelab/runs"
	"github.com/vaelab/vaelab/serve"
)

func newRootCmd(stdout, stderr io.Writer) *cobra.Command {
	s := newSettings()
	root := &cobra.Command{
		Use:           "vaelab",
		Short:         "Variational autoencoder experiments on faces: sweeps, a SQLite record and HTML reports",
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			if err := s.load(cmd); err != nil || cmd.Annotations[needsBLAS] == "" {
				return err
			}
			return s.setupBLAS(cmd.Annotations[needsBLAS], stderr)
		},
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.Version = runs.VersionLine(runs.CurrentProvenance())
	root.SetVersionTemplate("vaelab {{.Version}}\n")
	s.bindFlags(root)
	root.AddCommand(runCmd(s, stdout, stderr), syncCmd(s, stdout), workerCmd(s, stdout, stderr), benchCmd(s, stdout), planCmd(s, stdout), lsCmd(s, stdout), showCmd(s, stdout), reportCmd(s, stdout, stderr), exportCmd(s, stdout), sampleCmd(s, stdout), evaluateCmd(s, stdout, stderr), doctorCmd(s, stdout), dataCmd(s, stdout, stderr))
	root.AddCommand(manageCmds(s, stdout)...)
	root.AddCommand(specCmd(stdout))
	root.AddCommand(serveCmd(s, stdout, stderr))
	withExitStatus(root)
	return root
}

// withExitStatus gives the error of every command's RunE its exit status
// (failure), in one place; cobra's own errors (unknown command or flag,
// wrong arguments) come before RunE and keep exitUsage.
func withExitStatus(cmd *cobra.Command) {
	if runE := cmd.RunE; runE != nil {
		cmd.RunE = func(cmd *cobra.Command, args []string) error { return failure(runE(cmd, args)) }
	}
	for _, sub := range cmd.Commands() {
		withExitStatus(sub)
	}
}

func runCmd(s *settings, stdout, stderr io.Writer) *cobra.Command {
	var reportPath string
	o := runs.SweepOptions{Log: stdout, Progress: stderr, Terminal: progress.IsTerminal(stderr)}
	cmd := &cobra.Command{
		Use:         "run SPEC",
		Annotations: map[string]string{needsBLAS: trainsPool},
		Short:       "Train every run of a spec that is not finished yet, then optionally write the report",
		Args:        cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := s.sweep(cmd.Context(), &o, reportPath, args[0], stdout); err != nil {
				return err
			}
			return runs.RunSpec(cmd.Context(), args[0], o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&reportPath, "report", "", "write the experiment's HTML report to this file when training ends")
	f.IntVar(&o.CheckpointEvery, "checkpoint-every", 1, "epochs between checkpoints (a run also checkpoints after its last epoch); an interrupted run resumes from its last one")
	f.StringVar(&o.Executor, "executor", "local", "where runs train: local (a pool of --workers), slurm (one job array) or worker (record them for `vaelab worker` processes started by any scheduler)")
	addSlurmFlags(cmd, &o.Slurm)
	return cmd
}

func workerCmd(s *settings, stdout, stderr io.Writer) *cobra.Command {
	var index int
	var experiment string
	cmd := &cobra.Command{
		Use:         "worker [MANIFEST] [--experiment NAME]",
		Annotations: map[string]string{needsBLAS: "yes"},
		Short:       "Claim and train an experiment's pending runs until none remain (any scheduler can start N of these)",
		Long:        "With MANIFEST instead of --experiment, worker trains one task of a Slurm job array (the tasks --executor slurm submits run this).",
		Args:        cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o := runs.SweepOptions{Workspace: s.workspace(), Log: stdout, Progress: stderr}
			return runs.Work(cmd.Context(), experiment, strings.Join(args, ""), index, o)
		},
	}
	cmd.Flags().IntVar(&index, "index", -1, "slurm: the task's index in the manifest (default: SLURM_ARRAY_TASK_ID)")
	cmd.Flags().StringVar(&experiment, "experiment", "", "train this recorded experiment's pending runs until none remain")
	return cmd
}

func planCmd(s *settings, stdout io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "plan SPEC",
		Short: "List the runs a spec expands to, without training (a dry run)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runs.PrintPlan(cmd.Context(), args[0], s.workspace(), stdout)
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
			return readStore(cmd, s, func(ctx context.Context, st *runs.Store) error {
				return report.List(ctx, stdout, st, strings.Join(args, ""), o)
			})
		},
	}
	cmd.Flags().BoolVar(&o.Archived, "archived", false, "list only archived experiments")
	cmd.Flags().BoolVar(&o.All, "all", false, "list archived experiments too")
	cmd.Flags().StringVar(&o.Tag, "tag", "", "only experiments (or runs) tagged key=value")
	return cmd
}

func showCmd(s *settings, stdout io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "show RUN",
		Short: "Show one run: config, status, final metrics, files and events (RUN is an id or a unique prefix)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return readStore(cmd, s, func(ctx context.Context, st *runs.Store) error {
				r, err := st.FindRun(ctx, args[0])
				if err != nil {
					return err
				}
				return report.ShowRun(ctx, stdout, st, r)
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
		Args:  cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := s.checkOutput(cmd.Context(), "--output", out); err != nil {
				return err
			}
			return readStore(cmd, s, func(ctx context.Context, st *runs.Store) error {
				names, keep, err := st.Select(ctx, args, tag, archived, filter)
				if err != nil {
					return err
				}
				opt := report.Options{Runs: keep, Progress: progress.Counter(stderr, "reading runs", 50)}
				return report.WriteSaying(ctx, st, names, out, opt, stdout)
			})
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "report.html", "HTML file to write")
	cmd.Flags().StringSliceVar(&filter, "runs", nil, "only these runs (ids or unique prefixes, comma-separated)")
	cmd.Flags().StringVar(&tag, "tag", "", "only runs tagged key=value (on the run or its experiment; with no experiment named, every experiment's)")
	cmd.Flags().BoolVar(&archived, "archived", false, "allow archived experiments (hidden otherwise)")
	return cmd
}

func exportCmd(s *settings, stdout io.Writer) *cobra.Command {
	var r report.ExportRequest
	cmd := &cobra.Command{
		Use:   "export EXPERIMENT",
		Short: "Print an experiment's tables, its ranking first: csv (and every run), md or latex (and the summary); --curves: every curve point",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := s.checkOutput(cmd.Context(), "--output", r.Path); err != nil {
				return err
			}
			r.Experiment = args[0]
			return readStore(cmd, s, func(ctx context.Context, st *runs.Store) error { return report.ExportTo(ctx, st, r, stdout) })
		},
	}
	cmd.Flags().StringVar(&r.Format, "format", "csv", "csv, md or latex")
	cmd.Flags().StringVarP(&r.Path, "output", "o", "", "file to write (default: standard output)")
	cmd.Flags().StringSliceVar(&r.Runs, "runs", nil, "only these runs (ids or unique prefixes, comma-separated)")
	cmd.Flags().BoolVar(&r.Curves, "curves", false, "write the training curves instead, long format (csv only): experiment, run_id, label, seed, step, epoch, key, value")
	return cmd
}

func evaluateCmd(s *settings, stdout, stderr io.Writer) *cobra.Command {
	var reportPath string
	cmd := &cobra.Command{
		Use:         "evaluate SPEC|EXPERIMENT",
		Annotations: map[string]string{needsBLAS: trainsPool},
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

func sampleCmd(s *settings, stdout io.Writer) *cobra.Command {
	var out string
	var req evaluate.SampleRequest
	cmd := &cobra.Command{
		Use:         "sample RUN",
		Annotations: map[string]string{needsBLAS: "yes"},
		Short:       "Write a PNG grid from a run's final checkpoint: samples (of the prior or a post-hoc sampler), reconstructions of test images, or latent traversals",
		Long: `With --sampler NAME (gmm, two_stage, ...), samples come from that post-hoc
sampler: its fit stored by the run's newest evaluation that used it is
reused (the same fit the metrics were computed with); a run never evaluated
with it is fitted now with the default settings, and the fit is not stored.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := evaluate.CheckSampleRequest(req); err != nil {
				return err
			}
			if err := s.checkOutput(cmd.Context(), "--output", out); err != nil {
				return err
			}
			return readStore(cmd, s, func(ctx context.Context, st *runs.Store) error {
				return runs.Sample(ctx, st, args[0], s.loader(), req, out, stdout)
			})
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "samples.png", "PNG file to write")
	cmd.Flags().StringVar(&req.Kind, "kind", "samples", "samples, reconstructions or traversals")
	cmd.Flags().IntVarP(&req.N, "n", "n", 64, fmt.Sprintf("number of samples or reconstructions (1 to %d)", evaluate.MaxSampleImages))
	cmd.Flags().Uint64Var(&req.Seed, "seed", 1, "seed of the samples")
	cmd.Flags().StringVar(&req.Sampler, "sampler", "prior", "with --kind samples: the sampler whose draws are decoded (prior, gmm, two_stage)")
	return cmd
}

func doctorCmd(s *settings, stdout io.Writer) *cobra.Command {
	var repair bool
	cmd := &cobra.Command{
		Use:         "doctor",
		Annotations: map[string]string{needsBLAS: "yes"}, // its threads line: a run trained alone
		Short:       "Check the workspace: database integrity, orphaned runs, changed or missing files; --repair fixes what is safe",
		Args:        cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runs.DoctorWorkspace(cmd.Context(), s.db(), repair, blaslib.Current(), s.threads, stdout)
		},
	}
	cmd.Flags().BoolVar(&repair, "repair", false, "apply the safe repairs (orphaned runs become interrupted); files are never deleted")
	return cmd
}

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

func benchCmd(s *settings, stdout io.Writer) *cobra.Command {
	var opt bench.Options
	cmd := &cobra.Command{
		Use:         "bench",
		Annotations: map[string]string{needsBLAS: "yes"},
		Short:       "Measure training speed against PyTorch, sweep scaling, logging and evaluation costs",
		Args:        cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
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
	f.DurationVar(&opt.Settle, "settle", bench.SettleTime, "the pause before each measurement, so that each starts on a machine at rest (0 for a quick look)")
	f.StringVar(&opt.Child, "child", "", "internal: measure one model in this process and print it as JSON")
	f.MarkHidden("child")
	return cmd
}

func serveCmd(s *settings, stdout, stderr io.Writer) *cobra.Command {
	var addr string
	var remote bool
	cmd := &cobra.Command{
		Use:         "serve",
		Annotations: map[string]string{needsBLAS: "yes"}, // the latent explorer decodes
		Short:       "Serve a live, read-only web view of the workspace (experiments, curves, faces over training, a latent explorer)",
		Long: `Serve reads the database read-only (it never takes a write lock, so a sweep
can train beside it) and serves pages that update themselves while runs train.
It listens on loopback only; --allow-remote serves another address, with no
authentication: anyone who can reach it reads every experiment.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return readStore(cmd, s, func(ctx context.Context, st *runs.Store) error {
				h, err := serve.New(st, serve.Options{Decoder: runs.NewExplorer(st, s.loader()), AllowRemote: remote, Log: stderr})
				if err != nil {
					return err
				}
				return serve.ListenAndServe(ctx, addr, h, stderr, func(a string) { fmt.Fprintf(stdout, "serving %s at http://%s/ (Ctrl-C stops)\n", s.db(), a) })
			})
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8080", "address to listen on (loopback unless --allow-remote)")
	cmd.Flags().BoolVar(&remote, "allow-remote", false, "allow a non-loopback address (no authentication: anyone who can reach it reads the workspace)")
	return cmd
}
