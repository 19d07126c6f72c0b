package main

import (
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/vaelab/vaelab/runs"
)

// The CLI's Slurm parts: run's sbatch flags and sync (worker's task side is
// runs.SlurmTask).

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
	var o runs.SlurmOptions
	cmd := &cobra.Command{
		Use:   "sync SPEC",
		Short: "Import the runs of a spec whose Slurm tasks have ended",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runs.SyncSpec(cmd.Context(), args[0], s.workspace(), wait, o, stdout)
		},
	}
	cmd.Flags().BoolVar(&wait, "wait", false, "keep polling until no task of the spec is queued or running")
	cmd.Flags().DurationVar(&o.Poll, "poll", 10*time.Second, "how often to ask squeue with --wait")
	return cmd
}
