package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/vaelab/vaelab/experiments"
	"github.com/vaelab/vaelab/internal/termtext"
	"github.com/vaelab/vaelab/report"
	"github.com/vaelab/vaelab/runs"
)

func evaluateCmd(s *settings, stdout, stderr io.Writer) *cobra.Command {
	var reportPath string
	cmd := &cobra.Command{
		Use:         "evaluate SPEC|EXPERIMENT",
		Annotations: map[string]string{needsBLAS: "yes"},
		Short:       "Score the finished runs of a spec or stored experiment again from their final checkpoints, without training",
		Long: `Evaluate re-computes every final metric and image grid of the finished runs
with the eval settings of the spec (a file) or of the experiment's stored spec
(a name), from each run's final checkpoint: for example after a new metric
lands. Nothing is trained. The scores are stored under the evaluation hash of
the settings, beside the run's other evaluations; show and report give them.

Changing only eval: in a spec and running it with "vaelab run" does the same for
the runs that lack an evaluation with the new settings.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if err := checkRunsDir(s); err != nil {
				return err
			}
			if err := checkOutput(ctx, s, "--report", reportPath, args[0]); err != nil {
				return err
			}
			st, err := openExistingForWriting(ctx, s)
			if err != nil {
				return err
			}
			defer st.Close()
			spec, rs, err := evaluationSpec(ctx, s, st, args[0])
			if err != nil {
				return err
			}
			workers, err := s.workers()
			if err != nil {
				return err
			}
			sc := &runs.Scheduler{Store: st, Workers: workers, DataDir: s.dataDir(), CacheDir: s.cacheDir(), RunsDir: s.runsDir(),
				DataProgress: stderr, DataTerminal: isTerminal(stderr), KeepStopped: true}
			prepared, err := sc.Prepare(ctx, spec, rs)
			if err != nil {
				return failure(err)
			}
			plan := prepared.ForEvaluation(spec.Name)
			fmt.Fprintln(stdout, termtext.Safe(plan.Note))
			res := (&runs.Local{Scheduler: sc, Log: stdout, Progress: stderr}).Execute(ctx, plan)
			fmt.Fprintln(stdout, res)
			stop, failed := res.Outcome(ctx.Err() != nil, "vaelab evaluate "+args[0])
			if stop != nil {
				return failure(stop)
			}
			if err := reportAfter(ctx, st, spec.Name, reportPath, stdout); err != nil {
				return err
			}
			return failure(failed)
		},
	}
	cmd.Flags().StringVar(&reportPath, "report", "", "write the experiment's HTML report to this file when evaluation ends")
	return cmd
}

// evaluationSpec reads what vaelab evaluate scores: a spec file, or, when
// arg is not a file, the stored spec of the experiment of that name.
func evaluationSpec(ctx context.Context, s *settings, st *runs.Store, arg string) (*experiments.Spec, []experiments.Run, error) {
	if _, err := os.Stat(arg); err == nil {
		return loadPlan(s, arg)
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, nil, &exitError{exitUsage, fmt.Errorf("spec %s: %w", arg, err)}
	}
	if _, err := st.Experiment(ctx, arg); err != nil {
		return nil, nil, &exitError{exitUsage, fmt.Errorf("%s is neither a spec file nor an experiment in %s (vaelab ls lists them)", termtext.Safe(arg), st.Path())}
	}
	spec, rs, err := st.StoredSpec(ctx, arg)
	if err != nil {
		return nil, nil, failure(err)
	}
	if err := runs.CheckPlan(rs, s.dataDir()); err != nil {
		return nil, nil, &exitError{exitUsage, fmt.Errorf("stored spec of %s: %w", arg, err)}
	}
	return spec, rs, nil
}

// reportAfter writes an experiment's report at the end of run or evaluate,
// when asked (path not "").
func reportAfter(ctx context.Context, st *runs.Store, experiment, path string, stdout io.Writer) error {
	if path == "" {
		return nil
	}
	if err := report.WriteFile(ctx, st, []string{experiment}, path, report.Options{}); err != nil {
		if errors.Is(err, context.Canceled) {
			return &exitError{exitInterrupted, fmt.Errorf("report %s: stopped; the runs are recorded: vaelab report %s -o %s writes it", path, experiment, path)}
		}
		return failure(err)
	}
	fmt.Fprintf(stdout, "report: %s\n", path)
	return nil
}
