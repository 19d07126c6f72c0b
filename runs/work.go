package runs

import (
	"context"
	"fmt"

	"github.com/vaelab/vaelab/experiments"
)

// Work is the generic worker: it trains the pending, failed and interrupted
// runs of an experiment already recorded in the store, from its stored
// spec, until none remain. Runs are claimed one at a time in the store, so
// any number of workers — started by Kubernetes, PBS, ssh or by hand, on
// machines sharing the workspace — train every run once between them; a
// worker that dies leaves its run to be reclaimed, as `vaelab run` does.
func (sc *Scheduler) Work(ctx context.Context, experiment string) (Result, error) {
	info, err := sc.Store.Experiment(ctx, experiment)
	if err != nil {
		return Result{}, err
	}
	spec, err := experiments.Parse([]byte(info.SpecText), "stored spec of "+experiment)
	if err != nil {
		return Result{}, err
	}
	rs, err := spec.Expand()
	if err != nil {
		return Result{}, fmt.Errorf("expand the stored spec of %s: %w", experiment, err)
	}
	p, err := sc.Prepare(ctx, spec, rs)
	if err != nil {
		return Result{}, err
	}
	return sc.Execute(ctx, p), nil
}
