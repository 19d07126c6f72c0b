package runs

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/vaelab/vaelab/data"
	"github.com/vaelab/vaelab/evaluate"
	"github.com/vaelab/vaelab/experiments"
	"github.com/vaelab/vaelab/vae"
)

// BenchSweep trains every run of a spec with the given number of workers, in
// a fresh workspace under dir, and returns the wall time from the first claim
// to the last result (`vaelab bench` compares 1 worker with 2).
func BenchSweep(ctx context.Context, specText, dir string, workers int) (time.Duration, Result, error) {
	spec, err := experiments.Parse([]byte(specText), "bench sweep")
	if err != nil {
		return 0, Result{}, err
	}
	rs, err := spec.Expand()
	if err != nil {
		return 0, Result{}, err
	}
	st, err := Open(ctx, filepath.Join(dir, "vaelab.db"))
	if err != nil {
		return 0, Result{}, err
	}
	defer st.Close()
	sc := &Scheduler{Store: st, Workers: workers, RunsDir: filepath.Join(dir, "vaelab-runs"),
		Loader: &data.Loader{}}
	// Load the dataset and compute the real images' side of the metrics
	// before the clock starts: both are made once per sweep whatever its
	// size, and a worker that needs them waits for the one making them. The
	// runs, not their shared preparation, are measured.
	c := rs[0].Config
	ds, err := sc.Loader.Load(ctx, c.Dataset)
	if err != nil {
		return 0, Result{}, err
	}
	sc.refs = &evaluate.ReferenceCache{}
	if err := sc.refs.Prepare(ctx, ds, c.Dataset, c.Eval); err != nil {
		return 0, Result{}, err
	}
	plan, err := sc.Prepare(ctx, spec, rs)
	if err != nil {
		return 0, Result{}, err
	}
	start := time.Now()
	res := sc.Execute(ctx, plan)
	return time.Since(start), res, nil
}

// discard is a Recorder that keeps nothing: the baseline of BenchLogging.
type discard struct{}

func (discard) Step(int, int, []vae.Metric) error  { return nil }
func (discard) Epoch(int, int, []vae.Metric) error { return nil }

// timedRecorder sums the time spent inside its recorder's calls.
type timedRecorder struct {
	vae.Recorder
	spent time.Duration
}

func (t *timedRecorder) Step(step, epoch int, v []vae.Metric) error {
	start := time.Now()
	defer func() { t.spent += time.Since(start) }()
	return t.Recorder.Step(step, epoch, v)
}

func (t *timedRecorder) Epoch(step, epoch int, v []vae.Metric) error {
	start := time.Now()
	defer func() { t.spent += time.Since(start) }()
	return t.Recorder.Epoch(step, epoch, v)
}

// BenchLogging trains the first run of a spec with its metrics recorded in a
// store under dir the way the scheduler does, and again with them discarded,
// alternating, rounds times each, and returns each one's best wall time and
// the least time spent inside the store's recorder (a direct measure of the
// cost, free of the machine's noise).
func BenchLogging(ctx context.Context, specText, dir string, rounds int) (stored, discarded, inRecorder time.Duration, err error) {
	spec, err := experiments.Parse([]byte(specText), "bench logging")
	if err != nil {
		return 0, 0, 0, err
	}
	rs, err := spec.Expand()
	if err != nil {
		return 0, 0, 0, err
	}
	r := rs[0]
	ds, err := (&data.Loader{}).Load(ctx, r.Config.Dataset)
	if err != nil {
		return 0, 0, 0, err
	}
	st, err := Open(ctx, filepath.Join(dir, "vaelab.db"))
	if err != nil {
		return 0, 0, 0, err
	}
	defer st.Close()
	if err := st.RecordExperiment(ctx, spec, CurrentProvenance()); err != nil {
		return 0, 0, 0, err
	}
	if _, err := st.RegisterRuns(ctx, spec.Name, rs[:1]); err != nil {
		return 0, 0, 0, err
	}
	setup := vae.Setup{Model: r.Config.Model, Objective: r.Config.Objective, Train: r.Config.Train, Eval: r.Config.Eval, Seed: r.Config.Seed}
	train := func(rec vae.Recorder) (time.Duration, error) {
		start := time.Now()
		_, _, err := vae.Train(ctx, setup, ds.Train, ds.Test, rec)
		return time.Since(start), err
	}
	// Alternate, with each going first in every other round, and keep each
	// one's best: the machine is shared, and a run right after another
	// differs from one after a pause (heap size, caches, clock).
	stored, discarded, inRecorder = time.Duration(1<<62), time.Duration(1<<62), time.Duration(1<<62)
	withStore := func() error {
		if err := st.StartAttempt(ctx, r.ID, 0); err != nil {
			return err
		}
		start := time.Now()
		rec := &storeRecorder{ctx: ctx, store: st, runID: r.ID, lastFlush: start}
		timed := &timedRecorder{Recorder: rec}
		_, _, err := vae.Train(ctx, setup, ds.Train, ds.Test, timed)
		flushStart := time.Now()
		if err == nil {
			err = rec.flush(ctx) // the last batch belongs to the cost
		}
		if err != nil {
			return fmt.Errorf("train with the store: %w", err)
		}
		stored = min(stored, time.Since(start))
		inRecorder = min(inRecorder, timed.spent+time.Since(flushStart))
		return nil
	}
	withoutStore := func() error {
		d, err := train(discard{})
		discarded = min(discarded, d)
		return err
	}
	for i := range rounds {
		first, second := withoutStore, withStore
		if i%2 == 1 {
			first, second = second, first
		}
		if err := first(); err != nil {
			return 0, 0, 0, err
		}
		if err := second(); err != nil {
			return 0, 0, 0, err
		}
	}
	return stored, discarded, inRecorder, nil
}
