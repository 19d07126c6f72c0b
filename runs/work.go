package runs

import "context"

// Work is the generic worker: it trains the pending, failed and interrupted
// runs of an experiment already recorded in the store, from its stored
// spec, until none remain. Runs are claimed one at a time in the store, so
// any number of workers — started by Kubernetes, PBS, ssh or by hand, on
// machines sharing the workspace — train every run once between them; a
// worker that dies leaves its run to be reclaimed, as `vaelab run` does.
func (sc *Scheduler) Work(ctx context.Context, experiment string) (Result, error) {
	spec, rs, err := sc.Store.StoredSpec(ctx, experiment)
	if err != nil {
		return Result{}, err
	}
	p, err := sc.Prepare(ctx, spec, rs)
	if err != nil {
		return Result{}, err
	}
	return sc.Execute(ctx, p), nil
}
