package runs

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/vaelab/vaelab/experiments"
	"github.com/vaelab/vaelab/record"
)

// The record types the store writes and reads; their definitions live in
// record, which the views read without importing runs.
type (
	Provenance     = record.Provenance
	Experiment     = record.Experiment
	ExperimentInfo = record.ExperimentInfo
	RunInfo        = record.RunInfo
	Point          = record.Point
	Summary        = record.Summary
	Evaluation     = record.Evaluation
	Artifact       = record.Artifact
	Event          = record.Event
	Target         = record.Target
	Note           = record.Note
	ListOptions    = record.ListOptions
)

// RecordExperiment stores the experiment of spec with the provenance of this
// invocation. Running a changed spec under the same name updates the stored
// spec and logs an event naming both hashes; earlier runs stay.
func (s *Store) RecordExperiment(ctx context.Context, spec *experiments.Spec, p Provenance) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		var oldHash string
		err := tx.QueryRowContext(ctx, "SELECT spec_hash FROM experiments WHERE name = ?", spec.Name).Scan(&oldHash)
		if err != nil && err != sql.ErrNoRows {
			return err
		}
		t := now()
		_, err = tx.ExecContext(ctx, `INSERT INTO experiments
			(name, description, spec_text, spec_hash, vaelab_version, vcs_revision, vcs_modified, go_version, blas, host, created_at, started_at)
			VALUES (?,?,?,?,?,?,?,?,?,?,?,?)
			ON CONFLICT(name) DO UPDATE SET description=excluded.description, spec_text=excluded.spec_text,
			spec_hash=excluded.spec_hash, vaelab_version=excluded.vaelab_version, vcs_revision=excluded.vcs_revision,
			vcs_modified=excluded.vcs_modified, go_version=excluded.go_version, blas=excluded.blas, host=excluded.host,
			started_at=excluded.started_at`,
			spec.Name, spec.Description, string(spec.Text), spec.Hash, p.Version, p.VCSRevision, p.VCSModified,
			p.GoVersion, p.BLAS, p.Host, t, t)
		if err != nil {
			return fmt.Errorf("record experiment %q: %w", spec.Name, err)
		}
		if oldHash != "" && oldHash != spec.Hash {
			return addEvent(ctx, tx, spec.Name, "", "info", "spec-changed",
				fmt.Sprintf("spec changed: sha256 %s → %s", oldHash[:12], spec.Hash[:12]))
		}
		return nil
	})
}

// RegisterRuns adds the runs of an experiment that the store does not have yet
// as pending, links all of them to the experiment, and returns every run's
// stored status by id.
func (s *Store) RegisterRuns(ctx context.Context, experiment string, rs []experiments.Run) (map[string]string, error) {
	status := make(map[string]string, len(rs))
	err := s.tx(ctx, func(tx *sql.Tx) error {
		t := now()
		// Runs an earlier version of the spec linked stay linked, flagged.
		if _, err := tx.ExecContext(ctx, "UPDATE experiment_runs SET in_spec=0 WHERE experiment=?", experiment); err != nil {
			return fmt.Errorf("register runs of %s: %w", experiment, err)
		}
		for i, r := range rs {
			res, err := tx.ExecContext(ctx, `INSERT INTO runs (id, config, seed, status, created_at)
				VALUES (?,?,?,?,?) ON CONFLICT(id) DO NOTHING`,
				r.ID, string(r.Config.Canonical()), int64(r.Config.Seed), StatusPending, t)
			if err != nil {
				return fmt.Errorf("register run %s: %w", r.ID, err)
			}
			if n, _ := res.RowsAffected(); n == 1 {
				if err := insertParams(ctx, tx, r); err != nil {
					return err
				}
			}
			varying, _ := json.Marshal(r.Varying())
			if _, err := tx.ExecContext(ctx, `INSERT INTO experiment_runs (experiment, run_id, position, label, variant, varying, in_spec, eval_hash)
				VALUES (?,?,?,?,?,?,1,?) ON CONFLICT(experiment, run_id) DO UPDATE SET position=excluded.position,
				label=excluded.label, variant=excluded.variant, varying=excluded.varying, in_spec=1, eval_hash=excluded.eval_hash`,
				experiment, r.ID, i, r.Label(), r.Variant, string(varying), r.Config.EvalHash()); err != nil {
				return fmt.Errorf("link run %s: %w", r.ID, err)
			}
			var st string
			if err := tx.QueryRowContext(ctx, "SELECT status FROM runs WHERE id = ?", r.ID).Scan(&st); err != nil {
				return err
			}
			status[r.ID] = st
		}
		return nil
	})
	return status, err
}

// insertParams stores the run's config flattened to dotted keys; numbers as
// numbers so they can be compared and plotted in SQL.
func insertParams(ctx context.Context, tx *sql.Tx, r experiments.Run) error {
	var tree map[string]any
	if err := json.Unmarshal(r.Config.Canonical(), &tree); err != nil {
		return err
	}
	flat := map[string]any{}
	flatten("", tree, flat)
	for k, v := range flat {
		var num, text any
		switch x := v.(type) {
		case float64:
			num = x
		case string:
			text = x
		case bool:
			num = 0.0
			if x {
				num = 1.0
			}
		default:
			b, _ := json.Marshal(x)
			text = string(b)
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO params (run_id, key, value_num, value_text) VALUES (?,?,?,?)", r.ID, k, num, text); err != nil {
			return fmt.Errorf("store params of run %s: %w", r.ID, err)
		}
	}
	return nil
}

func flatten(prefix string, v any, out map[string]any) {
	m, ok := v.(map[string]any)
	if !ok {
		out[prefix] = v
		return
	}
	for k, c := range m {
		key := k
		if prefix != "" {
			key = prefix + "." + k
		}
		flatten(key, c, out)
	}
}

// Claim atomically moves a run that is pending, failed or interrupted to
// running, owned by owner. It reports false if the run was not claimable
// (already done, or running elsewhere). What an earlier attempt recorded stays
// until StartAttempt decides how much of it the new attempt keeps.
func (s *Store) Claim(ctx context.Context, runID, owner, host, blas, version, dir string) (bool, error) {
	claimed := false
	err := s.tx(ctx, func(tx *sql.Tx) error {
		t := now()
		res, err := tx.ExecContext(ctx, `UPDATE runs SET status=?, owner=?, host=?, blas=?, vaelab_version=?, dir=?,
			attempts=attempts+1, error='', diverged_step=NULL, started_at=?, heartbeat_at=?, finished_at=NULL
			WHERE id=? AND status IN (?,?,?,?)`,
			StatusRunning, owner, host, blas, version, s.storedPath(dir), t, t, runID, StatusPending, StatusFailed, StatusInterrupted, StatusPaused)
		if err != nil {
			return fmt.Errorf("claim run %s: %w", runID, err)
		}
		n, _ := res.RowsAffected()
		claimed = n == 1
		return nil
	})
	return claimed, err
}

// StartAttempt clears what the new attempt of a run recomputes: metrics after
// step keep (all of them when keep is 0, a fresh start), final values, its
// evaluations and the image artifacts. The checkpoint record stays.
func (s *Store) StartAttempt(ctx context.Context, runID string, keep int) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		for _, st := range []struct {
			query string
			args  []any
		}{
			{"DELETE FROM metrics WHERE run_id=? AND step>?", []any{runID, keep}},
			{"DELETE FROM summaries WHERE run_id=?", []any{runID}},
			{"DELETE FROM evaluations WHERE run_id=?", []any{runID}},
			{"DELETE FROM artifacts WHERE run_id=? AND kind<>'checkpoint'", []any{runID}},
			{"UPDATE runs SET steps=? WHERE id=?", []any{keep, runID}},
		} {
			if _, err := tx.ExecContext(ctx, st.query, st.args...); err != nil {
				return fmt.Errorf("start attempt of run %s: %w", runID, err)
			}
		}
		return nil
	})
}

// Outcome is how a run ended.
type Outcome struct {
	Status       string
	Error        string
	DivergedStep int
	Steps        int
	diskFull     error // the full-disk error that ended the run, which stops the sweep
}

// Finish records a run's end. Only the owner's running run is changed, so a
// stale worker cannot overwrite a newer attempt.
func (s *Store) Finish(ctx context.Context, runID, owner string, o Outcome) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		var div any
		if o.DivergedStep > 0 {
			div = o.DivergedStep
		}
		res, err := tx.ExecContext(ctx, `UPDATE runs SET status=?, error=?, diverged_step=?, steps=?, finished_at=?
			WHERE id=? AND owner=? AND status=?`, o.Status, o.Error, div, o.Steps, now(), runID, owner, StatusRunning)
		if err != nil {
			return fmt.Errorf("finish run %s: %w", runID, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("finish run %s: it is no longer running under this process", runID)
		}
		switch o.Status {
		case StatusDone:
		case StatusPaused:
			return addEvent(ctx, tx, "", runID, "info", o.Status, o.Error)
		default:
			return addEvent(ctx, tx, "", runID, "warn", o.Status, o.Error)
		}
		return nil
	})
}

// MetricRow is one metric value at a step.
type MetricRow struct {
	Step, Epoch int
	Key         string
	Value       float64
}

// WriteMetrics stores a batch of metric rows in one transaction, with the run's
// step count and heartbeat: a crash loses at most the batch being written.
func (s *Store) WriteMetrics(ctx context.Context, runID string, rows []MetricRow) error {
	if len(rows) == 0 {
		return nil
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, "INSERT OR REPLACE INTO metrics (run_id, key, step, epoch, value) VALUES (?,?,?,?,?)")
		if err != nil {
			return err
		}
		defer stmt.Close()
		maxStep := 0
		for _, r := range rows {
			if _, err := stmt.ExecContext(ctx, runID, r.Key, r.Step, r.Epoch, r.Value); err != nil {
				return fmt.Errorf("write metrics of run %s: %w", runID, err)
			}
			maxStep = max(maxStep, r.Step)
		}
		_, err = tx.ExecContext(ctx, "UPDATE runs SET steps=max(steps, ?), heartbeat_at=? WHERE id=?", maxStep, now(), runID)
		return err
	})
}

// PutSummaries stores final values of a run's training (see
// evaluate.Training), replacing earlier ones of the same key.
func (s *Store) PutSummaries(ctx context.Context, runID string, sums []Summary) error {
	return s.tx(ctx, func(tx *sql.Tx) error { return putSummaries(ctx, tx, runID, "", sums) })
}

func putSummaries(ctx context.Context, tx *sql.Tx, runID, evalHash string, sums []Summary) error {
	for _, m := range sums {
		if _, err := tx.ExecContext(ctx, "INSERT OR REPLACE INTO summaries (run_id, eval_hash, key, value, protocol) VALUES (?,?,?,?,?)",
			runID, evalHash, m.Key, m.Value, m.Protocol); err != nil {
			return fmt.Errorf("store summary %s of run %s: %w", m.Key, runID, err)
		}
	}
	return nil
}

// PutEvaluation records an evaluation of a run with its summaries in one
// transaction, replacing an earlier evaluation under the same hash: a reader
// sees the old scores or the new, never a mix.
func (s *Store) PutEvaluation(ctx context.Context, runID string, ev Evaluation, sums []Summary) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "DELETE FROM summaries WHERE run_id=? AND eval_hash=?", runID, ev.Hash); err != nil {
			return fmt.Errorf("store evaluation of run %s: %w", runID, err)
		}
		if err := putSummaries(ctx, tx, runID, ev.Hash, sums); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, "INSERT OR REPLACE INTO evaluations (run_id, eval_hash, config, seconds, created_at) VALUES (?,?,?,?,?)",
			runID, ev.Hash, ev.Config, ev.Seconds, now())
		if err != nil {
			return fmt.Errorf("store evaluation of run %s: %w", runID, err)
		}
		return nil
	})
}

// PutArtifact records a file written for a run.
func (s *Store) PutArtifact(ctx context.Context, a Artifact) error {
	return s.tx(ctx, func(tx *sql.Tx) error { return s.putArtifact(ctx, tx, a) })
}

func (s *Store) putArtifact(ctx context.Context, tx *sql.Tx, a Artifact) error {
	_, err := tx.ExecContext(ctx, "INSERT OR REPLACE INTO artifacts (run_id, eval_hash, kind, path, sha256, bytes, created_at) VALUES (?,?,?,?,?,?,?)",
		a.RunID, a.EvalHash, a.Kind, s.storedPath(a.Path), a.SHA256, a.Bytes, now())
	return err
}

// recordStoppedCheckpoint records a as a stopped run's checkpoint, in one
// transaction and only while the run is still stopped and its recorded
// checkpoint is still the one whose sha256 the caller saw (seen; "" for
// none): a process that promoted and resumed the run meanwhile keeps the
// record of the checkpoint it wrote.
func (s *Store) recordStoppedCheckpoint(ctx context.Context, a Artifact, seen string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		var status, sum string
		if err := tx.QueryRowContext(ctx, "SELECT status FROM runs WHERE id=?", a.RunID).Scan(&status); err != nil {
			return fmt.Errorf("read the status of run %s: %w", a.RunID, err)
		}
		err := tx.QueryRowContext(ctx, "SELECT sha256 FROM artifacts WHERE run_id=? AND eval_hash='' AND kind=?", a.RunID, a.Kind).Scan(&sum)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("read the checkpoint record of run %s: %w", a.RunID, err)
		}
		if status != StatusStopped || sum != seen {
			return nil
		}
		return s.putArtifact(ctx, tx, a)
	})
}

// AddEvent logs a warning, a divergence, a resume or another notable event.
func (s *Store) AddEvent(ctx context.Context, experiment, runID, level, kind, msg string) error {
	return s.tx(ctx, func(tx *sql.Tx) error { return addEvent(ctx, tx, experiment, runID, level, kind, msg) })
}

func addEvent(ctx context.Context, tx *sql.Tx, experiment, runID, level, kind, msg string) error {
	_, err := tx.ExecContext(ctx, "INSERT INTO events (time, experiment, run_id, level, kind, message) VALUES (?,?,?,?,?,?)",
		now(), experiment, runID, level, kind, msg)
	return err
}

// MarkInterrupted marks a running run as interrupted if it is still owned by owner.
func (s *Store) MarkInterrupted(ctx context.Context, runID, owner, reason string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "UPDATE runs SET status=?, error=?, finished_at=? WHERE id=? AND owner=? AND status=?",
			StatusInterrupted, reason, now(), runID, owner, StatusRunning)
		if err != nil {
			return fmt.Errorf("mark run %s interrupted: %w", runID, err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			return addEvent(ctx, tx, "", runID, "warn", StatusInterrupted, reason)
		}
		return nil
	})
}
