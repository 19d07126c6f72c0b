package runs

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/vaelab/vaelab/experiments"
)

// ExecutorOptions are what an executor may need besides the scheduler.
type ExecutorOptions struct {
	Log      io.Writer // one line per run
	Progress io.Writer // a progress bar, when it is a terminal
	Slurm    SlurmOptions
	DB       string // the database path workers are told to open
}

// newExecutor makes an executor for a spec's plan; it may refuse the spec
// (a setting it cannot honour) or prepare the ground (Slurm imports tasks
// that ended since the last look, so the plan resubmits only the rest).
type newExecutor func(ctx context.Context, sc *Scheduler, spec *experiments.Spec, o ExecutorOptions) (Executor, error)

// executor is an entry of the table: how to make one, and which specs it
// cannot run (nil: any).
type executor struct {
	make    newExecutor
	refuses func(*experiments.Spec) error
	// holdsClaim says that a run's owner is one of this executor's remote
	// tasks, whose liveness only the executor itself can settle (nil: none).
	holdsClaim func(owner string) bool
}

// executors is the table of --executor names.
func executors() map[string]executor {
	return map[string]executor{
		"local":  {make: newLocal},
		"slurm":  {make: newSlurmExecutor, refuses: slurmRefuses, holdsClaim: slurmHoldsClaim},
		"worker": {make: newDeferred},
	}
}

// CheckExecutor refuses a name the table does not have, or a spec the
// executor cannot run, before anything is opened or written.
func CheckExecutor(name string, spec *experiments.Spec) error {
	e, ok := executors()[name]
	if !ok {
		return fmt.Errorf("--executor %q: want %s", name, strings.Join(slices.Sorted(maps.Keys(executors())), ", "))
	}
	if e.refuses != nil {
		return e.refuses(spec)
	}
	return nil
}

// NewExecutor makes the executor called name, before the plan is prepared.
func NewExecutor(ctx context.Context, name string, sc *Scheduler, spec *experiments.Spec, o ExecutorOptions) (Executor, error) {
	if err := CheckExecutor(name, spec); err != nil {
		return nil, err
	}
	return executors()[name].make(ctx, sc, spec, o)
}

func newLocal(_ context.Context, sc *Scheduler, _ *experiments.Spec, o ExecutorOptions) (Executor, error) {
	return &Local{Scheduler: sc, Log: o.Log, Progress: o.Progress}, nil
}

// Deferred trains nothing: it leaves the plan's runs pending, recorded, for
// `vaelab worker` processes that any scheduler starts.
type Deferred struct {
	Log            io.Writer
	DB, Experiment string
}

func newDeferred(_ context.Context, _ *Scheduler, spec *experiments.Spec, o ExecutorOptions) (Executor, error) {
	return &Deferred{Log: o.Log, DB: o.DB, Experiment: spec.Name}, nil
}

// Execute says how to start the workers; the runs stay pending.
func (d *Deferred) Execute(_ context.Context, p *Plan) Result {
	fmt.Fprintf(d.Log, "recorded %d runs to train; start `vaelab worker --db %s --experiment %s` as many times as you like, where this database is on a local disk\n",
		len(p.ToTrain), d.DB, d.Experiment)
	return Result{Total: len(p.Runs), Skipped: len(p.Runs) - len(p.ToTrain), Deferred: len(p.ToTrain)}
}
