package record

import "context"

// Reader is what the views (report, ls, show, exports) read of a
// workspace's records. The store implements it over SQLite; a test
// implements it over values in memory. Every method only reads.
type Reader interface {
	// ListExperiments lists the experiments ls shows, most recently started first.
	ListExperiments(ctx context.Context, o ListOptions) ([]ExperimentInfo, error)
	// Experiment returns one experiment by name; an unknown name is an error.
	Experiment(ctx context.Context, name string) (ExperimentInfo, error)
	// Runs returns the runs of an experiment in the spec's expansion order.
	Runs(ctx context.Context, experiment string) ([]RunInfo, error)
	// OnlyTagged keeps the runs rs of experiment tagged tag, "key=value"
	// (all of them for ""), directly or through the experiment's own tag;
	// a tag no run carries is an error.
	OnlyTagged(ctx context.Context, experiment, tag string, rs []RunInfo) ([]RunInfo, error)

	// Metrics returns every metric series of a run, by key, ordered by step.
	Metrics(ctx context.Context, runID string) (map[string][]Point, error)
	// Summaries returns a run's final values by key: its training's and
	// those of its newest evaluation.
	Summaries(ctx context.Context, runID string) (map[string]Summary, error)
	// SummariesAt returns a run's final values by key: its training's and
	// those of the evaluation with hash evalHash.
	SummariesAt(ctx context.Context, runID, evalHash string) (map[string]Summary, error)
	// ExperimentSummaries returns the final values of every run of an
	// experiment by run id: each run's training values and those of the
	// evaluation the experiment's spec asks for (RunInfo.EvalHash).
	ExperimentSummaries(ctx context.Context, experiment string) (map[string]map[string]Summary, error)
	// Evaluations lists a run's evaluations, newest first.
	Evaluations(ctx context.Context, runID string) ([]Evaluation, error)
	// ArtifactsAt returns a run's files by kind: its training's and those of
	// the evaluation with hash evalHash.
	ArtifactsAt(ctx context.Context, runID, evalHash string) (map[string]Artifact, error)
	// Events returns the events of a run (or, with runID "", the
	// experiment's own), oldest first.
	Events(ctx context.Context, experiment, runID string) ([]Event, error)

	// Tags returns a target's tags.
	Tags(ctx context.Context, t Target) (map[string]string, error)
	// Notes returns a target's notes, oldest first.
	Notes(ctx context.Context, t Target) ([]Note, error)
}
