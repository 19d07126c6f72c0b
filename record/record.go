// Package record is the vocabulary of what vaelab records (experiments, runs, series, summaries, evaluations,
// artifacts, events, tags, notes) and the Reader the views read it through; it imports only the standard library.
package record

import "time"

// Statuses of a run.
const (
	StatusPending     = "pending"
	StatusRunning     = "running"
	StatusDone        = "done"
	StatusFailed      = "failed"
	StatusDiverged    = "diverged"
	StatusInterrupted = "interrupted"
	// StatusPaused is a run at a rung of sweep.early_stop, waiting for the
	// rung's decision; StatusStopped one the decision stopped (its checkpoint
	// kept: a larger budget can promote it).
	StatusPaused  = "paused"
	StatusStopped = "stopped"
)

// Provenance describes the software and machine that ran an experiment.
type Provenance struct {
	Version     string
	VCSRevision string
	VCSModified bool
	GoVersion   string
	BLAS        string
	Host        string
}

// Experiment is a stored experiment.
type Experiment struct {
	Name, Description  string
	SpecText, SpecHash string
	Provenance
	CreatedAt, StartedAt string
}

// ExperimentInfo is an experiment with its run counts by status.
type ExperimentInfo struct {
	Experiment
	Counts   map[string]int // runs of the current spec, by status
	RunCount int
	// NotInSpec counts the runs an earlier version of the spec linked to the
	// experiment that its current one no longer has (RunInfo.InSpec false).
	NotInSpec int
}

// RunInfo is a stored run as one experiment sees it.
type RunInfo struct {
	ID, Experiment, Label, Variant string
	Varying                        map[string]string
	Seed                           uint64
	Status, Error                  string
	DivergedStep, Steps, Attempts  int
	Config                         string // canonical JSON
	Owner, Host, BLAS, Version     string
	Dir                            string
	// EvalHash is the evaluation the experiment's spec asks of the run.
	EvalHash                string
	InSpec                  bool // false: linked by an earlier version of the experiment's spec
	CreatedAt, StartedAt    time.Time
	FinishedAt, HeartbeatAt time.Time
}

// Duration is the wall time of the run's last attempt, zero if unfinished.
func (r RunInfo) Duration() time.Duration {
	if r.StartedAt.IsZero() || r.FinishedAt.IsZero() {
		return 0
	}
	return r.FinishedAt.Sub(r.StartedAt)
}

// Point is one value of a metric series.
type Point struct {
	Step, Epoch int
	Value       float64
}

// Summary is one final value of a run with the protocol that produced it.
type Summary struct {
	Key      string
	Value    float64
	Protocol string
}

// Evaluation is one scoring of a trained run: the hash and canonical JSON
// of its eval settings (experiments.RunConfig.EvalHash), its wall time and
// when it was recorded.
type Evaluation struct {
	Hash, Config string
	Seconds      float64
	CreatedAt    time.Time
}

// Artifact is a file of a run, referenced from the store. EvalHash is the
// evaluation that made it (the image grids), "" for training's (the
// checkpoint).
type Artifact struct {
	RunID, EvalHash, Kind, Path, SHA256 string
	Bytes                               int64
}

// Event is a logged event: a warning, a divergence, a resume. Experiment
// is set for an experiment's own events, RunID for a run's.
type Event struct {
	Time, Experiment, RunID, Level, Kind, Message string
}

// Target is what a tag or note is on: an experiment (by its exact name) or
// a run (by its full id).
type Target struct {
	Kind string // "experiment" or "run"
	ID   string // the experiment's name or the run's full id
}

func (t Target) String() string { return t.Kind + " " + t.ID }

// Note is a dated text on a run or an experiment.
type Note struct {
	Time, Text string
}

// ListOptions chooses the experiments ls and report show: archived ones
// only when asked, and with a tag only those that (or a run of which)
// carry it.
type ListOptions struct {
	Archived bool // only archived experiments
	All      bool // archived ones too
	Tag      string
}
