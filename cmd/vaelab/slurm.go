package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/vaelab/vaelab/runs"
)

// The CLI's Slurm parts: run's sbatch flags, sync, and the task side of worker.

func addSlurmFlags(cmd *cobra.Command, o *runs.SlurmOptions) {
	f := cmd.Flags()
	f.StringVar(&o.Partition, "partition", "", "slurm: the partition (default: the cluster's)")
	f.StringVar(&o.Time, "time", "", "slurm: time limit per task, e.g. 2:00:00 (tasks get SIGTERM 2 minutes before it, checkpoint and stop)")
	f.IntVar(&o.CPUsPerTask, "cpus-per-task", 0, "slurm: CPUs per task")
	f.StringVar(&o.Mem, "mem", "", "slurm: memory per task, e.g. 4G")
	f.IntVar(&o.MaxTasks, "max-tasks", 0, "slurm: at most this many tasks at once (0: no cap)")
	f.StringArrayVar(&o.Extra, "sbatch", nil, "slurm: an extra sbatch option, e.g. --sbatch=--account=ml (repeatable)")
	f.DurationVar(&o.Poll, "poll", 10*time.Second, "slurm: how often to ask squeue while waiting")
}

func syncCmd(s *settings, stdout io.Writer) *cobra.Command {
	var wait bool
	var poll time.Duration
	cmd := &cobra.Command{
		Use:   "sync SPEC",
		Short: "Import the runs of a spec whose Slurm tasks have ended",
		Long: `Sync asks Slurm about the spec's runs that were submitted with --executor slurm,
imports those whose tasks have ended into the database, and marks runs whose
tasks were cancelled, timed out or lost their node as interrupted (the next
"vaelab run --executor slurm" resubmits them, resuming from their checkpoints).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			spec, _, err := loadSpec(args[0])
			if err != nil {
				return err
			}
			st, err := openExistingForWriting(ctx, s)
			if err != nil {
				return err
			}
			defer st.Close()
			sc := &runs.Scheduler{Store: st, DataDir: s.dataDir(), CacheDir: s.cacheDir(), RunsDir: s.runsDir()}
			sl, err := runs.NewSlurm(sc, spec, runs.SlurmOptions{Poll: poll}, stdout)
			if err != nil {
				return failure(err)
			}
			res, err := sl.Sync(ctx, spec.Name, wait)
			fmt.Fprintf(stdout, "imported: %d done, %d diverged, %d failed, %d interrupted; %d still queued or running\n",
				res.Done, res.Diverged, res.Failed, res.Interrupted, res.Running)
			if err != nil && ctx.Err() == nil {
				return failure(err)
			}
			if ctx.Err() != nil {
				return &exitError{exitInterrupted, fmt.Errorf("stopped waiting; the Slurm jobs keep running")}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&wait, "wait", false, "keep polling until no task of the spec is queued or running")
	cmd.Flags().DurationVar(&poll, "poll", 10*time.Second, "how often to ask squeue with --wait")
	return cmd
}

// slurmTask trains one task of a Slurm job array (vaelab worker MANIFEST).
func slurmTask(ctx context.Context, manifest string, index int, stdout io.Writer) error {
	res, err := runs.Worker(ctx, manifest, index, stdout)
	switch {
	case err != nil:
		return failure(err)
	case res.Interrupted > 0 || res.Stopped != nil:
		return &exitError{exitInterrupted, fmt.Errorf("worker: the run was stopped; its checkpoint is kept")}
	case res.Failed > 0:
		return &exitError{exitFailure, fmt.Errorf("worker: the run failed (see above)")}
	}
	return nil
}
