package runs

import (
	"context"
	"fmt"
	"io"
	"slices"

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
