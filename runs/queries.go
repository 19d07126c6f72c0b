package runs

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/vaelab/vaelab/vae"
)

const runColumns = `r.id, er.experiment, er.label, er.variant, er.varying, r.seed, r.status, r.error,
	coalesce(r.diverged_step, 0), r.steps, r.attempts, r.config, r.owner, r.host, r.blas, r.vaelab_version, r.dir,
	er.eval_hash, er.in_spec, r.created_at, r.started_at, r.finished_at, r.heartbeat_at`

func scanRun(sc interface{ Scan(...any) error }) (RunInfo, error) {
	var r RunInfo
	var varying, created string
	var seed int64
	var started, finished, heartbeat sql.NullString
	err := sc.Scan(&r.ID, &r.Experiment, &r.Label, &r.Variant, &varying, &seed, &r.Status, &r.Error,
		&r.DivergedStep, &r.Steps, &r.Attempts, &r.Config, &r.Owner, &r.Host, &r.BLAS, &r.Version, &r.Dir,
		&r.EvalHash, &r.InSpec, &created, &started, &finished, &heartbeat)
	if err != nil {
		return r, err
	}
	r.Seed = uint64(seed)
	r.CreatedAt = parseTime(sql.NullString{String: created, Valid: true})
	r.StartedAt, r.FinishedAt, r.HeartbeatAt = parseTime(started), parseTime(finished), parseTime(heartbeat)
	if err := json.Unmarshal([]byte(varying), &r.Varying); err != nil {
		return r, fmt.Errorf("run %s: stored varying values: %w", r.ID, err)
	}
	return r, nil
}

// Runs returns the runs of an experiment in the spec's expansion order.
func (s *Store) Runs(ctx context.Context, experiment string) ([]RunInfo, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+runColumns+` FROM runs r JOIN experiment_runs er ON er.run_id = r.id
		WHERE er.experiment = ? ORDER BY er.position`, experiment)
	if err != nil {
		return nil, fmt.Errorf("list runs of %q: %w", experiment, err)
	}
	defer rows.Close()
	var out []RunInfo
	for rows.Next() {
		r, err := scanRun(rows)
		r.Dir = s.resolve(r.Dir)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// FindRun returns the run whose id starts with prefix; the prefix must be unique.
func (s *Store) FindRun(ctx context.Context, prefix string) (RunInfo, error) {
	if len(prefix) < 4 {
		return RunInfo{}, fmt.Errorf("run id %q: give at least 4 characters", prefix)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+runColumns+` FROM runs r JOIN experiment_runs er ON er.run_id = r.id
		WHERE r.id >= ? AND r.id < ? ORDER BY r.id, er.experiment`, prefix, prefix+"\xff")
	if err != nil {
		return RunInfo{}, err
	}
	defer rows.Close()
	var found []RunInfo
	for rows.Next() {
		r, err := scanRun(rows)
		r.Dir = s.resolve(r.Dir)
		if err != nil {
			return RunInfo{}, err
		}
		if len(found) == 0 || found[len(found)-1].ID != r.ID {
			found = append(found, r)
		}
	}
	if err := rows.Err(); err != nil {
		return RunInfo{}, err
	}
	switch len(found) {
	case 0:
		var id string
		err := s.db.QueryRowContext(ctx, "SELECT run_id FROM run_aliases WHERE old_id >= ? AND old_id < ? LIMIT 1", prefix, prefix+"\xff").Scan(&id)
		if err == nil && !strings.HasPrefix(id, prefix) {
			return s.FindRun(ctx, id) // an id from before evaluation left the identity
		}
		return RunInfo{}, fmt.Errorf("no run with id %s in %s", prefix, s.path)
	case 1:
		return found[0], nil
	}
	return RunInfo{}, fmt.Errorf("run id %s is ambiguous: %s, %s, …; give more characters", prefix, found[0].ID, found[1].ID)
}

// Experiments lists the stored experiments, most recently started first.
func (s *Store) Experiments(ctx context.Context) ([]ExperimentInfo, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT name FROM experiments ORDER BY started_at DESC, name`)
	if err != nil {
		return nil, fmt.Errorf("list experiments: %w", err)
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return nil, err
		}
		names = append(names, n)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([]ExperimentInfo, 0, len(names))
	for _, n := range names {
		e, err := s.Experiment(ctx, n)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

// Experiment returns one stored experiment by name.
func (s *Store) Experiment(ctx context.Context, name string) (ExperimentInfo, error) {
	var e ExperimentInfo
	var modified int
	err := s.db.QueryRowContext(ctx, `SELECT name, description, spec_text, spec_hash, vaelab_version, vcs_revision,
		vcs_modified, go_version, blas, host, created_at, started_at FROM experiments WHERE name = ?`, name).Scan(
		&e.Name, &e.Description, &e.SpecText, &e.SpecHash, &e.Version, &e.VCSRevision, &modified,
		&e.GoVersion, &e.BLAS, &e.Host, &e.CreatedAt, &e.StartedAt)
	if err == sql.ErrNoRows {
		return e, fmt.Errorf("no experiment named %q in %s (vaelab ls lists them)", name, s.path)
	}
	if err != nil {
		return e, fmt.Errorf("read experiment %q: %w", name, err)
	}
	e.VCSModified = modified != 0
	e.Counts = map[string]int{}
	rows, err := s.db.QueryContext(ctx, `SELECT r.status, er.in_spec, count(*) FROM runs r JOIN experiment_runs er ON er.run_id = r.id
		WHERE er.experiment = ? GROUP BY r.status, er.in_spec`, name)
	if err != nil {
		return e, err
	}
	defer rows.Close()
	for rows.Next() {
		var st string
		var inSpec bool
		var n int
		if err := rows.Scan(&st, &inSpec, &n); err != nil {
			return e, err
		}
		if !inSpec {
			e.NotInSpec += n
			continue
		}
		e.Counts[st] = n
		e.RunCount += n
	}
	return e, rows.Err()
}

// Metrics returns every metric series of a run, by key, ordered by step.
func (s *Store) Metrics(ctx context.Context, runID string) (map[string][]Point, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT key, step, epoch, value FROM metrics WHERE run_id = ? ORDER BY key, step", runID)
	if err != nil {
		return nil, fmt.Errorf("read metrics of run %s: %w", runID, err)
	}
	defer rows.Close()
	out := map[string][]Point{}
	for rows.Next() {
		var k string
		var p Point
		if err := rows.Scan(&k, &p.Step, &p.Epoch, &p.Value); err != nil {
			return nil, err
		}
		out[k] = append(out[k], p)
	}
	return out, rows.Err()
}

// latestEvaluation is the SQL for the hash of a run's newest evaluation.
const latestEvaluation = "(SELECT eval_hash FROM evaluations WHERE run_id=? ORDER BY created_at DESC LIMIT 1)"

// Summaries returns a run's final values by key: its training's and those of
// its newest evaluation.
func (s *Store) Summaries(ctx context.Context, runID string) (map[string]Summary, error) {
	return s.summaries(ctx, runID, "SELECT key, value, protocol FROM summaries WHERE run_id=? AND (eval_hash='' OR eval_hash="+latestEvaluation+")", runID, runID)
}

// SummariesAt returns a run's final values by key: its training's and those
// of the evaluation with hash evalHash.
func (s *Store) SummariesAt(ctx context.Context, runID, evalHash string) (map[string]Summary, error) {
	return s.summaries(ctx, runID, "SELECT key, value, protocol FROM summaries WHERE run_id=? AND eval_hash IN ('', ?)", runID, evalHash)
}

func (s *Store) summaries(ctx context.Context, runID, query string, args ...any) (map[string]Summary, error) {
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("read summaries of run %s: %w", runID, err)
	}
	defer rows.Close()
	out := map[string]Summary{}
	for rows.Next() {
		var m Summary
		if err := rows.Scan(&m.Key, &m.Value, &m.Protocol); err != nil {
			return nil, err
		}
		out[m.Key] = m
	}
	return out, rows.Err()
}

// ExperimentSummaries returns the final values of every run of an
// experiment, by run id, in one query (a report of 100,000 runs would
// otherwise make 100,000): each run's training values and those of the
// evaluation the experiment's spec asks for.
func (s *Store) ExperimentSummaries(ctx context.Context, experiment string) (map[string]map[string]Summary, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT m.run_id, m.key, m.value, m.protocol FROM summaries m
		JOIN experiment_runs er ON er.run_id = m.run_id WHERE er.experiment = ? AND m.eval_hash IN ('', er.eval_hash)`, experiment)
	if err != nil {
		return nil, fmt.Errorf("read summaries of %q: %w", experiment, err)
	}
	defer rows.Close()
	out := map[string]map[string]Summary{}
	// Thousands of runs repeat the same keys and protocols: one copy of
	// each keeps a report of 20,000 runs from holding a million strings.
	seen := map[string]string{}
	intern := func(s string) string {
		if c, ok := seen[s]; ok {
			return c
		}
		seen[s] = s
		return s
	}
	for rows.Next() {
		var id string
		var m Summary
		if err := rows.Scan(&id, &m.Key, &m.Value, &m.Protocol); err != nil {
			return nil, err
		}
		m.Key, m.Protocol = intern(m.Key), intern(m.Protocol)
		if out[id] == nil {
			out[id] = map[string]Summary{}
		}
		out[id][m.Key] = m
	}
	return out, rows.Err()
}

// Evaluations lists a run's evaluations, newest first.
func (s *Store) Evaluations(ctx context.Context, runID string) ([]Evaluation, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT eval_hash, config, seconds, created_at FROM evaluations WHERE run_id=? ORDER BY created_at DESC", runID)
	if err != nil {
		return nil, fmt.Errorf("read evaluations of run %s: %w", runID, err)
	}
	defer rows.Close()
	var out []Evaluation
	for rows.Next() {
		var e Evaluation
		var created string
		if err := rows.Scan(&e.Hash, &e.Config, &e.Seconds, &created); err != nil {
			return nil, err
		}
		e.CreatedAt = parseTime(sql.NullString{String: created, Valid: true})
		out = append(out, e)
	}
	return out, rows.Err()
}

// Unevaluated returns the finished runs of an experiment that lack the
// evaluation its spec asks for (their eval settings changed), by id.
func (s *Store) Unevaluated(ctx context.Context, experiment string) (map[string]bool, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT r.id FROM runs r JOIN experiment_runs er ON er.run_id = r.id
		WHERE er.experiment=? AND r.status=? AND NOT EXISTS
		(SELECT 1 FROM evaluations e WHERE e.run_id = r.id AND e.eval_hash = er.eval_hash)`, experiment, StatusDone)
	if err != nil {
		return nil, fmt.Errorf("read evaluations of %q: %w", experiment, err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out[id] = true
	}
	return out, rows.Err()
}

// Aliases are the ids run id had before (see migrateRunIdentity); its
// checkpoint and run folder may carry one.
func (s *Store) Aliases(ctx context.Context, runID string) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT old_id FROM run_aliases WHERE run_id=?", runID)
	if err != nil {
		return nil, fmt.Errorf("read aliases of run %s: %w", runID, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// RunDir is the folder a run was given when it was first claimed, "" if
// it never was.
func (s *Store) RunDir(ctx context.Context, runID string) (string, error) {
	var dir string
	if err := s.db.QueryRowContext(ctx, "SELECT dir FROM runs WHERE id=?", runID).Scan(&dir); err != nil {
		return "", fmt.Errorf("read run %s: %w", runID, err)
	}
	return s.resolve(dir), nil
}

// ExperimentParam returns one numeric config key (e.g. "objective.beta") of
// every run of an experiment, by run id, from the typed params table; runs
// whose value is not a number are left out.
func (s *Store) ExperimentParam(ctx context.Context, experiment, key string) (map[string]float64, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT p.run_id, p.value_num FROM params p
		JOIN experiment_runs er ON er.run_id = p.run_id WHERE er.experiment = ? AND p.key = ? AND p.value_num IS NOT NULL`, experiment, key)
	if err != nil {
		return nil, fmt.Errorf("read %s of %q: %w", key, experiment, err)
	}
	defer rows.Close()
	out := map[string]float64{}
	for rows.Next() {
		var id string
		var v float64
		if err := rows.Scan(&id, &v); err != nil {
			return nil, err
		}
		out[id] = v
	}
	return out, rows.Err()
}

// LossSteps counts the training-loss values a run has recorded at steps 1
// to upTo: upTo when its curves are complete up to that step.
func (s *Store) LossSteps(ctx context.Context, runID string, upTo int) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, "SELECT count(*) FROM metrics WHERE run_id=? AND key=? AND step BETWEEN 1 AND ?", runID, vae.KeyLoss, upTo).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("read curves of run %s: %w", runID, err)
	}
	return n, nil
}

// Artifacts returns a run's files by kind: its training's and those of its
// newest evaluation.
func (s *Store) Artifacts(ctx context.Context, runID string) (map[string]Artifact, error) {
	return s.artifacts(ctx, runID, "SELECT run_id, eval_hash, kind, path, sha256, bytes FROM artifacts WHERE run_id=? AND (eval_hash='' OR eval_hash="+latestEvaluation+")", runID, runID)
}

// ArtifactsAt returns a run's files by kind: its training's and those of the
// evaluation with hash evalHash.
func (s *Store) ArtifactsAt(ctx context.Context, runID, evalHash string) (map[string]Artifact, error) {
	return s.artifacts(ctx, runID, "SELECT run_id, eval_hash, kind, path, sha256, bytes FROM artifacts WHERE run_id=? AND eval_hash IN ('', ?)", runID, evalHash)
}

func (s *Store) artifacts(ctx context.Context, runID, query string, args ...any) (map[string]Artifact, error) {
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("read artifacts of run %s: %w", runID, err)
	}
	defer rows.Close()
	out := map[string]Artifact{}
	for rows.Next() {
		var a Artifact
		if err := rows.Scan(&a.RunID, &a.EvalHash, &a.Kind, &a.Path, &a.SHA256, &a.Bytes); err != nil {
			return nil, err
		}
		a.Path = s.resolve(a.Path)
		out[a.Kind] = a
	}
	return out, rows.Err()
}

// Events returns the events of a run (or, with runID "", of an experiment), oldest first.
func (s *Store) Events(ctx context.Context, experiment, runID string) ([]Event, error) {
	q, arg := "SELECT time, experiment, run_id, level, kind, message FROM events WHERE run_id = ? ORDER BY id", runID
	if runID == "" {
		q, arg = "SELECT time, experiment, run_id, level, kind, message FROM events WHERE experiment = ? ORDER BY id", experiment
	}
	rows, err := s.db.QueryContext(ctx, q, arg)
	if err != nil {
		return nil, fmt.Errorf("read events: %w", err)
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var e Event
		if err := rows.Scan(&e.Time, &e.Experiment, &e.RunID, &e.Level, &e.Kind, &e.Message); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// ArtifactsOfKind returns a run's files of one kind under every evaluation
// (and its training), newest first.
func (s *Store) ArtifactsOfKind(ctx context.Context, runID, kind string) ([]Artifact, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT run_id, eval_hash, kind, path, sha256, bytes FROM artifacts WHERE run_id=? AND kind=? ORDER BY created_at DESC, eval_hash", runID, kind)
	if err != nil {
		return nil, fmt.Errorf("read %s artifacts of run %s: %w", kind, runID, err)
	}
	defer rows.Close()
	var out []Artifact
	for rows.Next() {
		var a Artifact
		if err := rows.Scan(&a.RunID, &a.EvalHash, &a.Kind, &a.Path, &a.SHA256, &a.Bytes); err != nil {
			return nil, err
		}
		a.Path = s.resolve(a.Path)
		out = append(out, a)
	}
	return out, rows.Err()
}
