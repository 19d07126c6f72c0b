package runs

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/vaelab/vaelab/experiments"
)

// String is the one line that sums up an invocation's runs.
func (r Result) String() string {
	s := fmt.Sprintf("finished: %d done, %d diverged, %d failed, %d interrupted; %d skipped as already finished",
		r.Done, r.Diverged, r.Failed, r.Interrupted, r.Skipped)
	if r.EarlyStopped > 0 {
		s += fmt.Sprintf("; %d stopped early (sweep.early_stop)", r.EarlyStopped)
	}
	if r.Evaluated+r.EvalFailed > 0 {
		s += fmt.Sprintf("; %d re-scored without training", r.Evaluated)
		if r.EvalFailed > 0 {
			s += fmt.Sprintf(", %d evaluations failed", r.EvalFailed)
		}
	}
	return s
}

// Outcome says what an invocation's result asks of the user, as errors for
// the command to return: stop ends it before anything else is done (a sweep
// stopped: Slurm still has queued runs, the disk is full, a stop was asked
// for — these wrap context.Canceled when resuming is the remedy), failed
// after its report is written (runs or evaluations failed). again is the
// command that resumes it ("vaelab run spec.yaml"); interrupted says that
// the process was asked to stop.
func (r Result) Outcome(interrupted bool, again string) (stop, failed error) {
	switch {
	case r.Deferred > 0:
		return nil, nil
	case r.Queued > 0:
		return fmt.Errorf("stopped waiting: %s still queued or running on Slurm; `%s --wait` imports them when they end (scancel stops them): %w",
			Plural(r.Queued, "run"), strings.Replace(again, "vaelab run", "vaelab sync", 1), context.Canceled), nil
	case r.Stopped != nil && IsDiskFull(r.Stopped):
		return fmt.Errorf("sweep stopped: %w; the runs in progress are marked interrupted with their last checkpoints kept: free space, then run `%s` again to finish", r.Stopped, again), nil
	case r.Stopped != nil:
		return fmt.Errorf("sweep stopped: %w", r.Stopped), nil
	case r.Interrupted > 0 || interrupted:
		return fmt.Errorf("interrupted: %s stopped and marked interrupted, the others keep what they recorded; run `%s` again to resume: %w", Plural(r.Interrupted, "run"), again, context.Canceled), nil
	case r.Failed > 0:
		return nil, fmt.Errorf("%s failed; `vaelab ls` lists them and `vaelab show RUN` says why", Plural(r.Failed, "run"))
	case r.EvalFailed > 0:
		return nil, fmt.Errorf("%s failed; `vaelab show RUN` gives the error among its events (the run keeps its earlier evaluations)", Plural(r.EvalFailed, "evaluation"))
	}
	return nil, nil
}

// Plural formats a count with its noun: "1 run", "3 runs".
func Plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// StoredSpec is the spec an experiment was last run with, as the store
// keeps it, expanded into its runs.
func (s *Store) StoredSpec(ctx context.Context, experiment string) (*experiments.Spec, []experiments.Run, error) {
	info, err := s.Experiment(ctx, experiment)
	if err != nil {
		return nil, nil, err
	}
	spec, err := experiments.Parse([]byte(info.SpecText), "stored spec of "+experiment)
	if err != nil {
		return nil, nil, err
	}
	rs, err := spec.Expand()
	if err != nil {
		return nil, nil, fmt.Errorf("expand the stored spec of %s: %w", experiment, err)
	}
	return spec, rs, nil
}

// PrintFindings prints doctor's findings, one per line, with what --repair
// would do when repair is false; it returns how many are problems (not runs
// merely waiting to be resumed).
func PrintFindings(w io.Writer, findings []Finding, repair bool) int {
	for _, f := range findings {
		fmt.Fprintf(w, "%-9s %-16s %s\n", f.Kind, f.RunID, f.Detail)
		if f.Repair != "" && !repair {
			fmt.Fprintf(w, "%-9s %-16s   --repair would %s\n", "", "", f.Repair)
		}
	}
	return len(slices.DeleteFunc(slices.Clone(findings), func(f Finding) bool { return f.Waiting }))
}
