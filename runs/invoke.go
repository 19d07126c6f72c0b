package runs

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/vaelab/vaelab/experiments"
	"github.com/vaelab/vaelab/internal/fault"
	"github.com/vaelab/vaelab/internal/termtext"
	"github.com/vaelab/vaelab/record"
)

// The commands that train or score runs (vaelab run, evaluate, worker, sync
// and a Slurm task), from their resolved settings to the error they end
// with. Errors the user must fix (the spec, a flag, an argument) are marked
// with fault.User; a stop wraps context.Canceled; anything else is a failure.

// Workspace is where a command works, as the CLI's settings resolve it.
type Workspace struct {
	DB, DataDir, CacheDir, RunsDir string
}

// SweepOptions are what vaelab run, evaluate and worker were given.
type SweepOptions struct {
	Workspace
	Workers         int
	Executor        string // run only: a name of the executor table
	CheckpointEvery int    // run only
	Slurm           SlurmOptions
	Log             io.Writer // a line per run and the summary
	Progress        io.Writer // progress bars and data work
	Terminal        bool      // Progress is a terminal: redraw a bar there
	// Report, when set, writes the experiment's report once its runs have
	// ended, before failed runs are reported. runs renders no views: the
	// CLI passes report.WriteAfter.
	Report func(ctx context.Context, st record.Reader, experiment string) error
}

func (o SweepOptions) scheduler(st *Store) *Scheduler {
	return &Scheduler{Store: st, Workers: o.Workers, DataDir: o.DataDir, CacheDir: o.CacheDir, RunsDir: o.RunsDir,
		CheckpointEvery: o.CheckpointEvery, DataProgress: o.Progress, DataTerminal: o.Terminal}
}

// LoadSpec parses and expands the spec at path; its errors are the user's
// to fix.
func LoadSpec(path string) (*experiments.Spec, []experiments.Run, error) {
	spec, err := experiments.Load(path)
	if err != nil {
		return nil, nil, fault.User(err)
	}
	rs, err := spec.Expand()
	if err != nil {
		return nil, nil, fault.User(err)
	}
	return spec, rs, nil
}

// LoadPlan is LoadSpec with the plan-time checks that need the workspace
// (dataset paths against the data directory); nothing is written.
func LoadPlan(path, dataDir string) (*experiments.Spec, []experiments.Run, error) {
	spec, rs, err := LoadSpec(path)
	if err != nil {
		return nil, nil, err
	}
	if err := CheckPlan(rs, dataDir); err != nil {
		return nil, nil, fault.User(spec.Locate(err))
	}
	return spec, rs, nil
}

// RunSpec is vaelab run: it records the spec's runs and trains those not
// finished yet with o.Executor.
func RunSpec(ctx context.Context, path string, o SweepOptions) error {
	if err := CheckRunsDirPath(o.RunsDir); err != nil {
		return fault.User(err)
	}
	spec, rs, err := LoadPlan(path, o.DataDir)
	if err != nil {
		return err
	}
	if err := CheckExecutor(o.Executor, spec); err != nil {
		return fault.User(fmt.Errorf("%s: %w", path, err))
	}
	st, err := Open(ctx, o.DB)
	if err != nil {
		return err
	}
	defer st.Close()
	sc := o.scheduler(st)
	ex, err := NewExecutor(ctx, o.Executor, sc, spec, ExecutorOptions{Log: o.Log, Progress: o.Progress, Slurm: o.Slurm, DB: o.DB})
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	plan, err := sc.Prepare(ctx, spec, rs)
	if err != nil {
		return err
	}
	return o.execute(ctx, st, ex, plan, spec.Name, "vaelab run "+path)
}

// Evaluate is vaelab evaluate: it scores the finished runs of a spec file or
// a stored experiment (arg) again from their final checkpoints, training
// nothing.
func Evaluate(ctx context.Context, arg string, o SweepOptions) error {
	if err := CheckRunsDirPath(o.RunsDir); err != nil {
		return fault.User(err)
	}
	st, err := OpenExisting(ctx, o.DB)
	if err != nil {
		return err
	}
	defer st.Close()
	spec, rs, err := EvaluationSpec(ctx, st, arg, o.DataDir)
	if err != nil {
		return err
	}
	o.CheckpointEvery = 0 // nothing trains
	sc := o.scheduler(st)
	sc.KeepStopped = true
	prepared, err := sc.Prepare(ctx, spec, rs)
	if err != nil {
		return err
	}
	ex := &Local{Scheduler: sc, Log: o.Log, Progress: o.Progress}
	return o.execute(ctx, st, ex, prepared.ForEvaluation(spec.Name), spec.Name, "vaelab evaluate "+arg)
}

// execute runs a prepared plan and says how it went: again is the command
// that resumes it.
func (o SweepOptions) execute(ctx context.Context, st *Store, ex Executor, plan *Plan, experiment, again string) error {
	fmt.Fprintln(o.Log, termtext.Safe(plan.Note))
	res := ex.Execute(ctx, plan)
	fmt.Fprintln(o.Log, res)
	stop, failed := res.Outcome(ctx.Err() != nil, again)
	if stop != nil {
		return stop
	}
	if o.Report != nil {
		if err := o.Report(ctx, st, experiment); err != nil {
			return err
		}
	}
	return failed
}

// EvaluationSpec reads what vaelab evaluate scores: the spec file arg, or,
// when no such file exists, the stored spec of the experiment called arg.
func EvaluationSpec(ctx context.Context, st *Store, arg, dataDir string) (*experiments.Spec, []experiments.Run, error) {
	if _, err := os.Stat(arg); err == nil {
		return LoadPlan(arg, dataDir)
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, nil, fault.User(fmt.Errorf("spec %s: %w", arg, err))
	}
	if _, err := st.Experiment(ctx, arg); err != nil {
		return nil, nil, fault.User(fmt.Errorf("%s is neither a spec file nor an experiment in %s (vaelab ls lists them)", termtext.Safe(arg), st.Path()))
	}
	spec, rs, err := st.StoredSpec(ctx, arg)
	if err != nil {
		return nil, nil, err
	}
	if err := CheckPlan(rs, dataDir); err != nil {
		return nil, nil, fault.User(fmt.Errorf("stored spec of %s: %w", arg, err))
	}
	return spec, rs, nil
}

// WorkExperiment is vaelab worker --experiment: it trains the experiment's
// pending runs one at a time until none remain (see Scheduler.Work).
func WorkExperiment(ctx context.Context, experiment string, o SweepOptions) error {
	if err := CheckRunsDirPath(o.RunsDir); err != nil {
		return fault.User(err)
	}
	st, err := OpenExisting(ctx, o.DB)
	if err != nil {
		return err
	}
	defer st.Close()
	sc := &Scheduler{Store: st, Workers: 1, DataDir: o.DataDir, CacheDir: o.CacheDir, RunsDir: o.RunsDir,
		CheckpointEvery: 1, DataProgress: o.Progress, Log: o.Log}
	res, err := sc.Work(ctx, experiment)
	if err != nil {
		return err
	}
	fmt.Fprintln(o.Log, res)
	stop, failed := res.Outcome(ctx.Err() != nil, "vaelab worker --experiment "+experiment)
	return cmp.Or(stop, failed)
}

// PrintPlan is vaelab plan: it prints the runs the spec at path expands to
// with their stored statuses (experiments.PrintPlan); nothing is written.
func PrintPlan(ctx context.Context, path string, ws Workspace, w io.Writer) error {
	spec, rs, err := LoadPlan(path, ws.DataDir)
	if err != nil {
		return err
	}
	status, err := StoredStatuses(ctx, ws.DB, spec.Name)
	if err != nil {
		return err
	}
	return experiments.PrintPlan(w, spec, rs, status)
}

// StoredStatuses returns the stored status of each run of experiment in the
// database at db, and none when there is no database (vaelab plan creates
// no workspace).
func StoredStatuses(ctx context.Context, db, experiment string) (map[string]string, error) {
	if _, err := os.Stat(db); err != nil {
		return map[string]string{}, nil
	}
	st, err := Open(ctx, db)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	stored, err := st.Runs(ctx, experiment)
	if err != nil {
		return nil, err
	}
	status := map[string]string{}
	for _, r := range stored {
		status[r.ID] = r.Status
	}
	return status, nil
}

// SyncSpec is vaelab sync: it imports the spec's runs whose Slurm tasks have
// ended and, with wait, polls until none is queued or running.
func SyncSpec(ctx context.Context, path string, ws Workspace, wait bool, o SlurmOptions, log io.Writer) error {
	spec, _, err := LoadSpec(path)
	if err != nil {
		return err
	}
	st, err := OpenExisting(ctx, ws.DB)
	if err != nil {
		return err
	}
	defer st.Close()
	sc := &Scheduler{Store: st, DataDir: ws.DataDir, CacheDir: ws.CacheDir, RunsDir: ws.RunsDir}
	sl, err := NewSlurm(sc, spec, o, log)
	if err != nil {
		return err
	}
	res, err := sl.Sync(ctx, spec.Name, wait)
	fmt.Fprintf(log, "imported: %d done, %d diverged, %d failed, %d interrupted; %d still queued or running\n",
		res.Done, res.Diverged, res.Failed, res.Interrupted, res.Running)
	if ctx.Err() != nil {
		return fault.Stopped(errors.New("stopped waiting; the Slurm jobs keep running"))
	}
	return err
}

// Work is vaelab worker: with an experiment, WorkExperiment; else the Slurm
// array task of manifest (SlurmTask). Naming neither is the user's error.
func Work(ctx context.Context, experiment, manifest string, index int, o SweepOptions) error {
	switch {
	case experiment != "":
		return WorkExperiment(ctx, experiment, o)
	case manifest == "":
		return fault.User(errors.New("worker: name an experiment (--experiment NAME) or a Slurm manifest"))
	}
	return SlurmTask(ctx, manifest, index, o.Log)
}

// SlurmTask is vaelab worker MANIFEST: it trains one task of a Slurm job
// array (see Worker) and says how the run ended.
func SlurmTask(ctx context.Context, manifest string, index int, log io.Writer) error {
	res, err := Worker(ctx, manifest, index, log)
	switch {
	case err != nil:
		return err
	case res.Interrupted > 0 || res.Stopped != nil:
		return fault.Stopped(errors.New("worker: the run was stopped; its checkpoint is kept"))
	case res.Failed > 0:
		return errors.New("worker: the run failed (see above)")
	}
	return nil
}

// WithStore runs fn with the workspace database at db, opened for writing
// when write is set and read-only otherwise, refusing to create one; it is
// closed when fn returns.
func WithStore(ctx context.Context, db string, write bool, fn func(context.Context, *Store) error) error {
	open := OpenExistingReadOnly
	if write {
		open = OpenExisting
	}
	st, err := open(ctx, db)
	if err != nil {
		return err
	}
	defer st.Close()
	return fn(ctx, st)
}

// OpenExisting opens the database at path for writing, refusing to create
// one: only vaelab run starts a workspace.
func OpenExisting(ctx context.Context, path string) (*Store, error) {
	if err := requireDB(path); err != nil {
		return nil, err
	}
	return Open(ctx, path)
}

// OpenExistingReadOnly is OpenReadOnly with OpenExisting's message when
// there is no database: reading commands neither create an empty workspace
// by accident nor write while a sweep runs.
func OpenExistingReadOnly(ctx context.Context, path string) (*Store, error) {
	if err := requireDB(path); err != nil {
		return nil, err
	}
	return OpenReadOnly(ctx, path)
}

func requireDB(path string) error {
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("no database at %s (run a spec first, or set --db)", path)
	}
	return nil
}
