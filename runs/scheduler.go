package runs

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/mattn/go-sqlite3"

	"github.com/vaelab/vaelab/data"
	"github.com/vaelab/vaelab/evaluate"
	"github.com/vaelab/vaelab/experiments"
	"github.com/vaelab/vaelab/internal/atomicfile"
	"github.com/vaelab/vaelab/internal/safefile"
	"github.com/vaelab/vaelab/internal/termtext"
	"github.com/vaelab/vaelab/record"
	"github.com/vaelab/vaelab/vae"
)

// Scheduler trains the runs of an experiment on this machine with a pool of
// workers, each run on its own Gorgonia graph.
type Scheduler struct {
	Store *Store
	// Workers is the number of runs trained at once; 0 means one per CPU.
	Workers int
	// DataDir holds downloaded datasets; CacheDir keeps decoded copies of them
	// ("" for none); RunsDir receives one folder per run.
	DataDir, CacheDir, RunsDir string
	// Log receives one line per run started, finished or skipped.
	Log io.Writer
	// DataProgress, if set, hears how long data work (decoding an image
	// collection into its cache) advances: a bar when DataTerminal, else a
	// line every few seconds.
	DataProgress io.Writer
	DataTerminal bool
	// OnStep, if set, is called after every training step (for progress bars).
	OnStep func()
	// Loader, if set, loads the datasets; otherwise each Execute makes one from
	// DataDir and CacheDir. Either way all runs share it.
	Loader *data.Loader
	// CheckpointEvery is how many epochs pass between checkpoints (0 means 1);
	// a run also checkpoints after its last epoch.
	CheckpointEvery int
	// KeepStopped leaves runs another experiment's early stopping stopped
	// as they are (Prepare for scoring only, which trains nothing).
	KeepStopped bool

	// refs, if set, holds the real images' side of the metrics for every
	// Execute; otherwise each Execute makes one. Either way all runs share it.
	refs *evaluate.ReferenceCache
}

// checkpointFile is a run's checkpoint, in its run directory.
const checkpointFile = "checkpoint.vck"

// staleAfter is how old a heartbeat must be before a "running" run is taken
// for dead. Heartbeats come with every metric flush (flushEvery).
const (
	staleAfter = 10 * time.Minute
	flushEvery = 15 * time.Second
	flushRows  = 2000
)

// Outcome counts of one invocation.
type Result struct {
	Total, Skipped                               int
	Done, Diverged, Failed, Interrupted, Running int
	// Evaluated counts finished runs re-scored without training (their eval
	// settings changed); EvalFailed those whose evaluation failed (they stay
	// done, with an event that says why).
	Evaluated, EvalFailed int
	// EarlyStopped counts the runs early stopping stopped (sweep.early_stop).
	EarlyStopped int
	// Deferred counts the runs left pending for `vaelab worker` processes
	// (--executor worker).
	Deferred int
	// Queued counts the runs a remote scheduler still holds when this
	// process stopped waiting for them (Slurm, after Ctrl-C).
	Queued int
	// Stopped is why the whole sweep stopped early (a full disk, or a
	// submission Slurm refused), nil if it did not.
	Stopped error
}

// Plan is what Prepare found: which runs will be trained or evaluated, and why.
type Plan struct {
	Runs    []experiments.Run
	Status  map[string]string // stored status by run id, before this invocation
	ToTrain []experiments.Run
	// ToEvaluate are finished runs scored again from their final checkpoints,
	// without training: their spec's eval settings have no evaluation yet.
	ToEvaluate []experiments.Run
	Note       string // one line that says what will happen
	// Experiment is the spec's name; EarlyStop its sweep.early_stop (nil
	// without), which Execute runs rung by rung.
	Experiment string
	EarlyStop  *experiments.EarlyStop
	// StopAfterEpoch pauses the plan's training runs after that epoch (a
	// phase of early stopping); 0 trains them to the end.
	StopAfterEpoch int
}

// Prepare records the experiment and its runs, marks runs whose worker died as
// interrupted, and decides what to train: pending, failed and interrupted runs.
// Done and diverged runs are kept (a diverged run would diverge again: training
// is deterministic given its seed); a done run whose eval settings changed is
// evaluated again.
func (sc *Scheduler) Prepare(ctx context.Context, spec *experiments.Spec, rs []experiments.Run) (*Plan, error) {
	if err := CheckPlan(rs, sc.DataDir); err != nil {
		return nil, err
	}
	if err := sc.Store.CheckRunsDir(ctx, sc.RunsDir); err != nil {
		return nil, err
	}
	// Temporary files of writers killed mid-write (checkpoints, grids, fits,
	// decoded datasets) are removed once their process is gone.
	for _, f := range append(atomicfile.SweepStale(sc.RunsDir, 3), atomicfile.SweepStale(sc.CacheDir, 0)...) {
		sc.logf("removed     %s (left by a writer that was killed)", f)
	}
	if err := sc.Store.RecordExperiment(ctx, spec, CurrentProvenance()); err != nil {
		return nil, err
	}
	if err := sc.reapDeadRuns(ctx, spec.Name); err != nil {
		return nil, err
	}
	status, err := sc.Store.RegisterRuns(ctx, spec.Name, rs)
	if err != nil {
		return nil, err
	}
	if !sc.KeepStopped {
		if err := sc.reopenStopped(ctx, spec, status); err != nil {
			return nil, err
		}
	}
	unevaluated, err := sc.Store.Unevaluated(ctx, spec.Name)
	if err != nil {
		return nil, err
	}
	p := &Plan{Runs: rs, Status: status, Experiment: spec.Name, EarlyStop: spec.EarlyStop}
	counts := map[string]int{}
	for _, r := range rs {
		st := status[r.ID]
		counts[st]++
		switch {
		case st == StatusPending || st == StatusFailed || st == StatusInterrupted || st == StatusPaused:
			p.ToTrain = append(p.ToTrain, r)
		case st == StatusDone && unevaluated[r.ID]:
			p.ToEvaluate = append(p.ToEvaluate, r)
		}
	}
	switch {
	case p.EarlyStop != nil && counts[StatusStopped] > 0 && len(p.ToTrain) == 0:
		p.Note = fmt.Sprintf("experiment %s: %d runs: %s; deciding the rungs again from the stored metrics", spec.Name, len(rs), describeCounts(counts))
	case len(p.ToTrain) == 0 && len(p.ToEvaluate) == 0:
		p.Note = fmt.Sprintf("experiment %s: all %d runs are finished: %s; nothing to train", spec.Name, len(rs), describeCounts(counts))
	case len(p.ToTrain) == 0:
		p.Note = fmt.Sprintf("experiment %s: all %d runs are finished: %s; nothing to train, re-scoring %d whose eval settings changed (evaluation %s)", spec.Name, len(rs), describeCounts(counts), len(p.ToEvaluate), p.ToEvaluate[0].Config.EvalHash())
	default:
		p.Note = fmt.Sprintf("experiment %s: %d runs: %s; training %d", spec.Name, len(rs), describeCounts(counts), len(p.ToTrain))
		if len(p.ToEvaluate) > 0 {
			p.Note += fmt.Sprintf(", re-scoring %d whose eval settings changed", len(p.ToEvaluate))
		}
	}
	return p, nil
}

// ForEvaluation is a plan that scores every finished run of rs again from its
// final checkpoint, whether or not an evaluation with its settings exists
// (vaelab evaluate; for example after a new metric lands). Prepare must have
// registered the runs.
func (p *Plan) ForEvaluation(name string) *Plan {
	out := &Plan{Runs: p.Runs, Status: p.Status}
	for _, r := range p.Runs {
		if p.Status[r.ID] == StatusDone {
			out.ToEvaluate = append(out.ToEvaluate, r)
		}
	}
	out.Note = fmt.Sprintf("experiment %s: re-scoring %d finished runs of %d without training", name, len(out.ToEvaluate), len(p.Runs))
	return out
}

func describeCounts(c map[string]int) string {
	var parts []string
	for _, st := range []string{StatusPending, StatusDone, StatusDiverged, StatusFailed, StatusInterrupted, StatusRunning, StatusPaused, StatusStopped} {
		if n := c[st]; n > 0 {
			what := st
			switch st {
			case StatusPaused:
				what = "paused at a rung (go on if the rung keeps them)"
			case StatusStopped:
				what = "stopped early (promoted if the budget now keeps them)"
			case StatusPending:
				what = "new"
			case StatusDone:
				what = "done (skipped)"
			case StatusDiverged:
				what = "diverged (kept)"
			case StatusFailed, StatusInterrupted:
				what = st + " (run again)"
			case StatusRunning:
				what = "running in another process (left alone)"
			}
			parts = append(parts, fmt.Sprintf("%d %s", n, what))
		}
	}
	return strings.Join(parts, ", ")
}

// reopenStopped hands back to training the runs another experiment's early
// stopping stopped (all stopped runs when spec has no sweep.early_stop),
// updating status.
func (sc *Scheduler) reopenStopped(ctx context.Context, spec *experiments.Spec, status map[string]string) error {
	var ids []string
	for id, st := range status {
		if st == StatusStopped {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	reopened, err := sc.Store.ReopenStopped(ctx, spec.Name, ids, spec.EarlyStop == nil)
	for _, id := range reopened {
		status[id] = StatusInterrupted
	}
	return err
}

// reapDeadRuns marks as interrupted the running runs of an experiment whose
// worker is gone (killed, crashed, machine rebooted).
func (sc *Scheduler) reapDeadRuns(ctx context.Context, experiment string) error {
	rs, err := sc.Store.Runs(ctx, experiment)
	if err != nil {
		return err
	}
	for _, r := range rs {
		if r.Status != StatusRunning || ownerAlive(r.Owner, r.HeartbeatAt, staleAfter) {
			continue
		}
		if err := sc.Store.MarkInterrupted(ctx, r.ID, r.Owner, "worker "+r.Owner+" is gone"); err != nil {
			return err
		}
		sc.logf("interrupted %s  %s  (its worker %s is gone; it will run again)", r.ID, r.Label, r.Owner)
	}
	return nil
}

// Execute trains the plan's runs with the worker pool. It returns when all are
// finished or ctx is cancelled; cancelled runs are stored as interrupted. One
// run's failure does not stop the others.
func (sc *Scheduler) Execute(ctx context.Context, p *Plan) Result {
	if p.EarlyStop != nil && p.StopAfterEpoch == 0 {
		if p.EarlyStop.Decisions == "async" {
			return sc.executeASHA(ctx, p)
		}
		return sc.executeRungs(ctx, p, sc.executePool)
	}
	return sc.executePool(ctx, p)
}

// shared is what the runs of one invocation share: one loader, so that each
// dataset is decoded once, and the real side of the metrics.
func (sc *Scheduler) shared() (*data.Loader, *evaluate.ReferenceCache) {
	loader := sc.Loader
	if loader == nil {
		loader = &data.Loader{DataDir: sc.DataDir, CacheDir: sc.CacheDir, Log: sc.logf, Progress: sc.DataProgress, Terminal: sc.DataTerminal}
	}
	refs := sc.refs
	if refs == nil {
		refs = &evaluate.ReferenceCache{DataDir: sc.DataDir, CacheDir: sc.CacheDir}
	}
	return loader, refs
}

// executePool trains and evaluates a plan's runs on a pool of workers.
func (sc *Scheduler) executePool(ctx context.Context, p *Plan) Result {
	res := Result{Total: len(p.Runs), Skipped: len(p.Runs) - len(p.ToTrain) - len(p.ToEvaluate)}
	workers := sc.Workers
	if workers <= 0 {
		workers = runtime.NumCPU()
	}
	workers = min(workers, len(p.ToTrain)+len(p.ToEvaluate))
	// A full disk stops the sweep: every further run would fail the same way.
	ctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	type job struct {
		run      experiments.Run
		evaluate bool // score the trained run again; no training
	}
	queue := make(chan job)
	outcomes := make(chan string)
	loader, refs := sc.shared()
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range queue {
				if j.evaluate {
					outcomes <- sc.evaluateOne(ctx, stop, j.run, loader, refs)
				} else {
					outcomes <- sc.runOne(ctx, stop, j.run, p.StopAfterEpoch, loader, refs)
				}
			}
		}()
	}
	go func() {
		defer close(queue)
		var jobs []job
		for _, r := range p.ToEvaluate { // short: their results come first
			jobs = append(jobs, job{r, true})
		}
		for _, r := range p.ToTrain {
			jobs = append(jobs, job{r, false})
		}
		for _, j := range jobs {
			select {
			case queue <- j:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() { wg.Wait(); close(outcomes) }()
	for st := range outcomes {
		switch st {
		case StatusDone:
			res.Done++
		case StatusDiverged:
			res.Diverged++
		case StatusFailed:
			res.Failed++
		case StatusInterrupted:
			res.Interrupted++
		case StatusPaused: // counted by the early-stopping phases
		case StatusRunning:
			res.Running++
		case outcomeEvaluated:
			res.Evaluated++
		case outcomeEvalFailed:
			res.EvalFailed++
		}
	}
	if cause := context.Cause(ctx); cause != nil && IsDiskFull(cause) {
		res.Stopped = cause
	}
	return res
}

// IsDiskFull reports whether err comes from a full disk or an exhausted quota,
// in a file write or in SQLite.
func IsDiskFull(err error) bool {
	var se sqlite3.Error
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) || (errors.As(err, &se) && se.Code == sqlite3.ErrFull)
}

// Outcomes of an evaluation-only job, beside the run statuses of training.
const (
	outcomeEvaluated  = "evaluated"
	outcomeEvalFailed = "evaluation failed"
)

// evaluateOne scores a finished run again from its final checkpoint and
// returns the outcome. The run stays done whatever happens: a failure is an
// event on it, a stop leaves its earlier evaluations as they were.
func (sc *Scheduler) evaluateOne(ctx context.Context, stop context.CancelCauseFunc, r experiments.Run, loader *data.Loader, refs *evaluate.ReferenceCache) string {
	started := time.Now()
	err := sc.reevaluate(ctx, r, loader, refs)
	switch {
	case err == nil:
		sc.logf("%-11s %s  %s  (evaluation %s, %.1fs, no training)", outcomeEvaluated, r.ID, r.Label(), r.Config.EvalHash(), time.Since(started).Seconds())
		return outcomeEvaluated
	case IsDiskFull(err):
		stop(fmt.Errorf("disk full: %w", err))
	case ctx.Err() != nil:
		sc.logf("stopped     %s  %s  (evaluation not recorded; run again to score it)", r.ID, r.Label())
		return StatusInterrupted
	}
	sc.logf("eval failed %s  %s: %v", r.ID, r.Label(), err)
	_ = sc.Store.AddEvent(context.WithoutCancel(ctx), "", r.ID, "warn", "evaluation-failed", fmt.Sprintf("evaluation %s: %v", r.Config.EvalHash(), err))
	return outcomeEvalFailed
}

// reevaluate loads a trained run's final checkpoint, as vaelab sample does,
// and evaluates the model with the run's eval settings.
func (sc *Scheduler) reevaluate(ctx context.Context, r experiments.Run, loader *data.Loader, refs *evaluate.ReferenceCache) error {
	info, err := sc.Store.FindRun(ctx, r.ID)
	if err != nil {
		return err
	}
	m, ds, err := LoadTrained(ctx, sc.Store, info, r.Config, loader)
	if err != nil {
		return err
	}
	return sc.evaluateModel(ctx, r, info.Dir, m, ds, refs)
}

// evaluateModel writes a trained model's image grids and final metrics under
// the run's evaluation hash: grids in the run folder's eval-HASH folder,
// summaries with the evaluation record in one transaction.
func (sc *Scheduler) evaluateModel(ctx context.Context, r experiments.Run, dir string, m *vae.Model, ds *data.Dataset, refs *evaluate.ReferenceCache) error {
	hash := r.Config.EvalHash()
	evalDir := filepath.Join(dir, "eval-"+hash)
	if err := os.MkdirAll(evalDir, 0o755); err != nil {
		return fmt.Errorf("create evaluation folder: %w", err)
	}
	sink, err := newEvalSink(ctx, sc.Store, r.ID, hash, evalDir)
	if err != nil {
		return err
	}
	return evaluate.Evaluate(ctx, m, ds, r.Config, refs, sink)
}

// runDir is the folder of a run: RunsDir/ID, or the folder it was first
// given under an id it had before (see Store.Aliases), where its checkpoint is.
func (sc *Scheduler) runDir(ctx context.Context, runID string) (string, error) {
	dir := filepath.Join(sc.RunsDir, runID)
	stored, err := sc.Store.RunDir(ctx, runID)
	if err != nil || stored == "" {
		return dir, err
	}
	aliases, err := sc.Store.Aliases(ctx, runID)
	if err == nil && slices.Contains(aliases, filepath.Base(stored)) {
		return stored, nil
	}
	return dir, err
}

// runOne claims, trains and records one run, and returns its final status.
func (sc *Scheduler) runOne(ctx context.Context, stop context.CancelCauseFunc, r experiments.Run, pauseAfter int, loader *data.Loader, refs *evaluate.ReferenceCache) (status string) {
	me, prov := owner(), CurrentProvenance()
	dir, err := sc.runDir(ctx, r.ID)
	if err != nil {
		sc.logf("failed      %s  %s: %v", r.ID, r.Label(), err)
		return StatusFailed
	}
	claimed, err := sc.Store.Claim(ctx, r.ID, me, prov.Host, prov.BLAS, prov.Version, dir)
	if err != nil {
		sc.logf("failed      %s  %s: %v", r.ID, r.Label(), err)
		return StatusFailed
	}
	if !claimed {
		sc.logf("skipped     %s  %s (claimed by another process)", r.ID, r.Label())
		return StatusRunning
	}
	started := time.Now()
	rec := &storeRecorder{ctx: ctx, store: sc.Store, runID: r.ID, dir: dir, onStep: sc.OnStep, lastFlush: started}
	var out Outcome
	func() {
		defer func() { // a panic inside Gorgonia fails this run, not the sweep
			if p := recover(); p != nil {
				out = Outcome{Status: StatusFailed, Error: fmt.Sprintf("panic: %v", p)}
			}
		}()
		out = sc.train(ctx, r, dir, pauseAfter, loader, refs, rec)
	}()
	final := context.WithoutCancel(ctx) // record the end even after Ctrl-C
	if err := rec.flush(final); err != nil && out.Status == StatusDone {
		out = sc.failure(ctx, err)
	}
	// The run's step count is what the database holds, which after a failed
	// write is less than what was trained.
	out.Steps = rec.steps
	if out.diskFull != nil {
		stop(out.diskFull)
	}
	if err := sc.Store.Finish(final, r.ID, me, out); err != nil {
		sc.logf("failed      %s  %s: %v", r.ID, r.Label(), err)
		return StatusFailed
	}
	detail := fmt.Sprintf("%.1fs", time.Since(started).Seconds())
	if out.Error != "" {
		detail = out.Error
	}
	sc.logf("%-11s %s  %s  (%s)", out.Status, r.ID, r.Label(), detail)
	return out.Status
}

// train runs the training of r and writes its artifacts and summaries.
func (sc *Scheduler) train(ctx context.Context, r experiments.Run, dir string, pauseAfter int, loader *data.Loader, refs *evaluate.ReferenceCache, rec *storeRecorder) Outcome {
	fail := func(err error) Outcome { return sc.failure(ctx, err) }
	ds, err := loader.Load(ctx, r.Config.Dataset)
	if err != nil {
		return fail(fmt.Errorf("load dataset: %w", err))
	}
	ds = ds.CapTest(r.Config.Eval.WithDefaults().Samples)
	if err := checkSplitSizes(r.Config, ds.Train.N, ds.Test.N); err != nil {
		return fail(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fail(fmt.Errorf("create run directory: %w", err))
	}
	resume, err := sc.startAttempt(ctx, r, dir, rec)
	if err != nil {
		return fail(err)
	}
	setup := vae.Setup{Model: r.Config.Model, Objective: r.Config.Objective, Train: r.Config.Train, Eval: r.Config.Eval, Seed: r.Config.Seed,
		Run: r.ID, Resume: resume, CheckpointEvery: sc.CheckpointEvery, StopAfterEpoch: pauseAfter,
		Checkpoint: func(c *vae.Checkpoint) error { return sc.writeCheckpoint(ctx, r.ID, dir, c) }}
	t0 := time.Now()
	m, res, err := vae.Train(ctx, setup, ds.Train, ds.Test, rec)
	if err != nil {
		return fail(err)
	}
	if res.Paused {
		return Outcome{Status: StatusPaused, Error: describeRung(pauseAfter), Steps: res.Steps}
	}
	elapsed := time.Since(t0).Seconds()
	stability := evaluate.Stability(rec.loss, rec.gradNorm, res.Diverged())
	if res.Diverged() {
		if err := sc.Store.PutSummaries(ctx, r.ID, stability); err != nil {
			return fail(err)
		}
		return Outcome{Status: StatusDiverged, Error: res.DivergedReason, DivergedStep: res.DivergedStep, Steps: res.Steps}
	}
	sums := evaluate.Training(ds.Source, res, r.Config.Train.BatchSize, m.NumParams(), elapsed)
	if err := sc.Store.PutSummaries(ctx, r.ID, append(sums, stability...)); err != nil {
		return fail(err)
	}
	if err := sc.evaluateModel(ctx, r, dir, m, ds, refs); err != nil {
		return fail(err)
	}
	return Outcome{Status: StatusDone, Steps: res.Steps}
}

// failure turns the error that ended a run into its outcome. A stop (Ctrl-C,
// or a full disk met by another run) and a full disk leave the run
// interrupted, to resume from its last checkpoint; anything else fails it.
func (sc *Scheduler) failure(ctx context.Context, err error) Outcome {
	if IsDiskFull(err) {
		var se sqlite3.Error
		if errors.As(err, &se) {
			err = fmt.Errorf("database %s: %w", sc.Store.path, err)
		}
		err = fmt.Errorf("disk full: %w", err)
		return Outcome{Status: StatusInterrupted, Error: err.Error() + "; free space, then run the same command to resume", diskFull: err}
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		if cause := context.Cause(ctx); cause != nil && IsDiskFull(cause) {
			return Outcome{Status: StatusInterrupted, Error: "stopped because the sweep met a full disk (" + cause.Error() + "); run the spec again to resume"}
		}
		return Outcome{Status: StatusInterrupted, Error: "stopped by the user; run the spec again to resume"}
	}
	return Outcome{Status: StatusFailed, Error: err.Error()}
}

// startAttempt decides where a claimed run starts: from its checkpoint when
// one is there (keeping the metrics up to it), else from scratch. A checkpoint
// resumes only a run whose curves this store holds (see standingOf); one left
// by another database is moved aside and the run starts from scratch. A
// checkpoint that cannot be read, or that belongs to another run, fails the
// run with nothing deleted, so a bad file never silently restarts a run over
// good records.
func (sc *Scheduler) startAttempt(ctx context.Context, r experiments.Run, dir string, rec *storeRecorder) (*vae.Checkpoint, error) {
	path := filepath.Join(dir, checkpointFile)
	// A worker killed while writing a checkpoint leaves its temporary file;
	// the run is ours now, so nobody else is writing one.
	if stale, _ := filepath.Glob(filepath.Join(dir, "."+checkpointFile+".*.tmp")); len(stale) > 0 {
		for _, f := range stale {
			os.Remove(f)
		}
	}
	b, err := safefile.Read(path, safefile.MaxCheckpoint)
	if errors.Is(err, os.ErrNotExist) {
		return nil, sc.Store.StartAttempt(ctx, r.ID, 0)
	}
	if err != nil {
		return nil, fmt.Errorf("checkpoint %s: %w", path, err)
	}
	s, err := sc.Store.standingOf(ctx, r.ID, b)
	if err != nil {
		return nil, fmt.Errorf("checkpoint %s: %w", path, err)
	}
	switch kept := "the run's records are kept: move the file away to restart the run from scratch"; {
	case s.recorded() && s.unusable != nil:
		return nil, fmt.Errorf("checkpoint %s: %w; %s", path, s.unusable, kept)
	case s.recorded() || s.covered():
	case s.hasRecord:
		return nil, fmt.Errorf("checkpoint %s: its sha256 is not the one recorded for the run (%v); %s", path, cmp.Or(s.unusable, errors.New("the file changed")), kept)
	default:
		return nil, sc.setAside(ctx, r.ID, path, "this database has no record of the run's training up to it")
	}
	c := s.c
	if err := sc.adoptCheckpoint(ctx, r.ID, path, s, len(b)); err != nil {
		return nil, err
	}
	if err := sc.Store.StartAttempt(ctx, r.ID, c.Step); err != nil {
		return nil, err
	}
	// The stability figures cover the whole run, so reload the kept curves.
	series, err := sc.Store.Metrics(ctx, r.ID)
	if err != nil {
		return nil, err
	}
	for _, p := range series[vae.KeyLoss] {
		rec.loss = append(rec.loss, p.Value)
	}
	for _, p := range series[vae.KeyGradNorm] {
		rec.gradNorm = append(rec.gradNorm, p.Value)
	}
	rec.steps = c.Step
	msg := fmt.Sprintf("resumed from the checkpoint after epoch %d (step %d)", c.Epoch, c.Step)
	if c.EpochStep > 0 {
		msg = fmt.Sprintf("resumed from the checkpoint at step %d (step %d of epoch %d)", c.Step, c.EpochStep, c.Epoch+1)
	}
	sc.logf("resume      %s  %s  (%s)", r.ID, r.Label(), msg)
	return c, sc.Store.AddEvent(ctx, "", r.ID, "info", "resume", msg)
}

// checkpointStanding is what the store makes of the bytes of the checkpoint
// file in a run's folder: whether they are the checkpoint it records, and
// if not, whether they may stand in for it.
type checkpointStanding struct {
	c         *vae.Checkpoint // read, named by the run's current id; nil when unusable
	sum       string          // the bytes' sha256
	record    Artifact        // the run's checkpoint record (zero when none)
	hasRecord bool            // there is one, for these bytes or others
	unusable  error           // why the file is not the run's: unreadable, or another run's
	held      int             // not the recorded file: the run's loss steps the store holds up to its step
}

// recorded reports whether the store records exactly these bytes.
func (s checkpointStanding) recorded() bool { return s.hasRecord && s.record.SHA256 == s.sum }

// covered reports whether a checkpoint the store does not record is the
// run's own and the store holds its curves up to the checkpoint's step: a
// worker killed between writing the file and recording it left it, and it
// may resume the run (or be recorded as a stopped run's).
func (s checkpointStanding) covered() bool {
	return !s.recorded() && s.c != nil && s.held == s.c.Step
}

// standingOf judges checkpoint bytes b of run runID against the store, for a
// resume (startAttempt) and for a stopped run's settling alike. Only the
// store's errors are returned; what is wrong with the file is in unusable.
func (st *Store) standingOf(ctx context.Context, runID string, b []byte) (checkpointStanding, error) {
	arts, err := st.Artifacts(ctx, runID)
	if err != nil {
		return checkpointStanding{}, err
	}
	sum := sha256.Sum256(b)
	rec, hasRecord := arts["checkpoint"]
	s := checkpointStanding{sum: hex.EncodeToString(sum[:]), record: rec, hasRecord: hasRecord}
	c, err := vae.ReadCheckpoint(bytes.NewReader(b))
	if err != nil {
		s.unusable = err
		return s, nil
	}
	owned, err := st.owns(ctx, c, runID)
	switch {
	case err != nil:
		return checkpointStanding{}, err
	case !owned:
		s.unusable = notOwner(c, runID)
		return s, nil
	}
	s.c = c
	if !s.recorded() {
		if s.held, err = st.LossSteps(ctx, runID, c.Step); err != nil {
			return checkpointStanding{}, err
		}
	}
	return s, nil
}

// adoptCheckpoint records the checkpoint of standing s (size bytes, at
// path) as the run's when the store records another file: a worker killed between writing a checkpoint
// and recording it left them, and the run resumes from them. Without the
// record, a run that writes no later checkpoint (it was written at the end
// of training) would keep the earlier file's, and doctor would report the
// file changed since it was written.
func (sc *Scheduler) adoptCheckpoint(ctx context.Context, runID, path string, s checkpointStanding, size int) error {
	if s.recorded() && s.record.Bytes == int64(size) {
		return nil
	}
	return sc.Store.PutArtifact(ctx, Artifact{RunID: runID, Kind: "checkpoint", Path: path, SHA256: s.sum, Bytes: int64(size)})
}

// decideStops records an early-stopping decision (Store.Decide) and settles
// the checkpoint of each run it stopped: a stopped run is not resumed, so
// the record a resume would have mended (see adoptCheckpoint) is mended now.
// The decision stands whatever the settling meets; its errors come after.
func (sc *Scheduler) decideStops(ctx context.Context, experiment string, stops map[string]string, alive []string) error {
	stopped, err := sc.Store.Decide(ctx, experiment, stops, alive)
	if err != nil {
		return err
	}
	var errs []error
	for _, id := range stopped {
		if err := sc.settleCheckpoint(ctx, id); err != nil {
			errs = append(errs, fmt.Errorf("run %s, stopped: %w", id, err))
		}
	}
	return errors.Join(errs...)
}

// settleCheckpoint records the checkpoint in a stopped run's folder when a
// worker killed between writing it and recording it left the store with an
// older file's sha256, and the store holds the run's curves up to it (the
// test a resume makes, standingOf). A file that fails that test is left
// as it is, for doctor to report and a resume to refuse or set aside should
// the run be promoted. Only the store's errors are returned.
func (sc *Scheduler) settleCheckpoint(ctx context.Context, runID string) error {
	dir, err := sc.runDir(ctx, runID)
	if err != nil {
		return err
	}
	path := filepath.Join(dir, checkpointFile)
	b, err := safefile.Read(path, safefile.MaxCheckpoint)
	if err != nil {
		return nil // none, or unreadable: doctor and a resume report it
	}
	s, err := sc.Store.standingOf(ctx, runID, b)
	switch {
	case err != nil:
		return err
	case s.recorded():
		return nil
	case s.covered():
		return sc.Store.recordStoppedCheckpoint(ctx, Artifact{RunID: runID, Kind: "checkpoint", Path: path, SHA256: s.sum, Bytes: int64(len(b))}, s.record.SHA256)
	}
	why := s.unusable
	if why == nil {
		why = fmt.Errorf("the store holds %d of the %d steps it was written after", s.held, s.c.Step)
	}
	sc.logf("stopped     %s  its checkpoint %s is not the recorded one and is left as it is: %v", runID, path, why)
	return nil
}

// setAside moves a checkpoint the store has no record of out of the way,
// never deleting it, so that the run starts from scratch; an event says
// where the file went.
func (sc *Scheduler) setAside(ctx context.Context, runID, path, why string) error {
	aside := path + ".unrecorded-" + time.Now().UTC().Format("20060102T150405.000Z")
	if err := os.Rename(path, aside); err != nil {
		return fmt.Errorf("checkpoint %s: %s, and it cannot be moved aside: %w", path, why, err)
	}
	msg := fmt.Sprintf("the checkpoint in the run folder was not resumed (%s); kept as %s, training from scratch", why, filepath.Base(aside))
	sc.logf("fresh start %s  %s", runID, msg)
	if err := sc.Store.AddEvent(ctx, "", runID, "warning", "fresh-start", msg); err != nil {
		return err
	}
	return sc.Store.StartAttempt(ctx, runID, 0)
}

// writeCheckpoint stores a checkpoint atomically and records it.
func (sc *Scheduler) writeCheckpoint(ctx context.Context, runID, dir string, c *vae.Checkpoint) error {
	path := filepath.Join(dir, checkpointFile)
	sum, size, err := atomicfile.Write(path, 0o644, c.Encode)
	if err != nil {
		return err
	}
	// Recorded even after Ctrl-C: the checkpoint a stop writes is the point.
	return sc.Store.PutArtifact(context.WithoutCancel(ctx), Artifact{RunID: runID, Kind: "checkpoint", Path: path, SHA256: sum, Bytes: size})
}

func (sc *Scheduler) logf(format string, args ...any) {
	if sc.Log != nil {
		fmt.Fprintln(sc.Log, termtext.Safe(fmt.Sprintf(format, args...)))
	}
}

// storeRecorder buffers a run's metrics and writes them in batches: at every
// epoch end, and every flushEvery or flushRows, whichever comes first.
type storeRecorder struct {
	ctx       context.Context
	store     *Store
	runID     string
	dir       string // the run's folder, where its training grids go
	rows      []MetricRow
	steps     int // the last step whose metrics are committed
	pending   int // the last step in rows
	lastFlush time.Time
	onStep    func()
	// loss and gradNorm keep the whole series for the stability figures.
	loss, gradNorm []float64
}

func (r *storeRecorder) add(step, epoch int, vals []vae.Metric) {
	for _, v := range vals {
		r.rows = append(r.rows, MetricRow{Step: step, Epoch: epoch, Key: v.Key, Value: v.Value})
	}
	r.pending = max(r.pending, step)
}

func (r *storeRecorder) Step(step, epoch int, vals []vae.Metric) error {
	r.add(step, epoch, vals)
	for _, v := range vals {
		switch v.Key {
		case vae.KeyLoss:
			r.loss = append(r.loss, v.Value)
		case vae.KeyGradNorm:
			r.gradNorm = append(r.gradNorm, v.Value)
		}
	}
	if r.onStep != nil {
		r.onStep()
	}
	if len(r.rows) >= flushRows || time.Since(r.lastFlush) > flushEvery {
		return r.flush(r.ctx)
	}
	return nil
}

func (r *storeRecorder) Epoch(step, epoch int, vals []vae.Metric) error {
	r.add(step, epoch, vals)
	return r.flush(r.ctx)
}

// Grid stores a grid made during training (eval.grid_every) as the
// training's artifact record.TrainingGridKind(epoch, step), beside the
// checkpoint: no part of any evaluation.
func (r *storeRecorder) Grid(step, epoch int, im data.Images, cols int) error {
	kind := record.TrainingGridKind(epoch, step)
	path := filepath.Join(r.dir, kind+".png")
	sum, size, err := atomicfile.Write(path, 0o644, func(w io.Writer) error { return data.WriteGridPNG(w, im, cols, 2) })
	if err != nil {
		return err
	}
	return r.store.PutArtifact(context.WithoutCancel(r.ctx), Artifact{RunID: r.runID, Kind: kind, Path: path, SHA256: sum, Bytes: size})
}

var _ vae.GridRecorder = (*storeRecorder)(nil)

func (r *storeRecorder) flush(ctx context.Context) error {
	if err := r.store.WriteMetrics(context.WithoutCancel(ctx), r.runID, r.rows); err != nil {
		return err
	}
	r.rows, r.lastFlush = r.rows[:0], time.Now()
	r.steps = max(r.steps, r.pending)
	return nil
}
