package runs

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/vaelab/vaelab/evaluate"
	"github.com/vaelab/vaelab/experiments"
)

// schema3 separates evaluation from a run's identity: each evaluation of a
// run (one per evaluation hash) has a row in evaluations, and the summaries
// and image artifacts it made carry its hash; what training made (the test
// ELBO after the last epoch, steps, times, stability, the checkpoint) carries
// "". experiment_runs.eval_hash is the evaluation an experiment's spec asks
// for, and run_aliases keeps the ids runs had before.
const schema3 = `
CREATE TABLE evaluations (
	run_id     TEXT NOT NULL REFERENCES runs(id),
	eval_hash  TEXT NOT NULL,
	config     TEXT NOT NULL,
	seconds    REAL NOT NULL,
	created_at TEXT NOT NULL,
	PRIMARY KEY (run_id, eval_hash)
) WITHOUT ROWID;
CREATE TABLE summaries_v3 (
	run_id    TEXT NOT NULL REFERENCES runs(id),
	eval_hash TEXT NOT NULL DEFAULT '',
	key       TEXT NOT NULL,
	value     REAL NOT NULL,
	protocol  TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (run_id, eval_hash, key)
) WITHOUT ROWID;
INSERT INTO summaries_v3 (run_id, key, value, protocol) SELECT run_id, key, value, protocol FROM summaries;
DROP TABLE summaries;
ALTER TABLE summaries_v3 RENAME TO summaries;
CREATE TABLE artifacts_v3 (
	run_id     TEXT NOT NULL REFERENCES runs(id),
	eval_hash  TEXT NOT NULL DEFAULT '',
	kind       TEXT NOT NULL,
	path       TEXT NOT NULL,
	sha256     TEXT NOT NULL,
	bytes      INTEGER NOT NULL,
	created_at TEXT NOT NULL,
	PRIMARY KEY (run_id, eval_hash, kind)
) WITHOUT ROWID;
INSERT INTO artifacts_v3 (run_id, kind, path, sha256, bytes, created_at) SELECT run_id, kind, path, sha256, bytes, created_at FROM artifacts;
DROP TABLE artifacts;
ALTER TABLE artifacts_v3 RENAME TO artifacts;
ALTER TABLE experiment_runs ADD COLUMN eval_hash TEXT NOT NULL DEFAULT '';
CREATE TABLE run_aliases (
	old_id TEXT PRIMARY KEY,
	run_id TEXT NOT NULL REFERENCES runs(id)
) WITHOUT ROWID;
`

// runTables are the tables whose rows belong to a run, by their run column.
func runTables() [][2]string {
	return [][2]string{{"runs", "id"}, {"experiment_runs", "run_id"}, {"params", "run_id"}, {"metrics", "run_id"},
		{"summaries", "run_id"}, {"artifacts", "run_id"}, {"events", "run_id"}, {"evaluations", "run_id"}, {"run_aliases", "run_id"}}
}

// storedRun is a run row as the migration reads it.
type storedRun struct {
	id, config, status, created string
	finished                    sql.NullString
}

// migrateRunIdentity gives every run of a database made before schema 3 its
// new identity: the id of its training settings alone. Its evaluation
// becomes an evaluation row under the hash of its eval settings, with the
// summaries and grids it made; its old id stays as an alias (checkpoints and
// run folders keep it). Runs that differed only in eval settings become one
// run: the best-finished one keeps its curves and checkpoint, and the other
// evaluations are kept beside its own.
func migrateRunIdentity(ctx context.Context, tx *sql.Tx) error {
	if _, err := tx.ExecContext(ctx, "PRAGMA defer_foreign_keys = ON"); err != nil {
		return err
	}
	all, err := readStoredRuns(ctx, tx)
	if err != nil {
		return err
	}
	// Finished runs first, so that a merge keeps the run with the most done.
	slices.SortStableFunc(all, func(a, b storedRun) int { return cmp.Compare(statusRank(a.status), statusRank(b.status)) })
	kept := map[string]bool{}
	for _, r := range all {
		var cfg experiments.RunConfig
		if err := json.Unmarshal([]byte(r.config), &cfg); err != nil {
			return fmt.Errorf("run %s: stored config: %w", r.id, err)
		}
		if err := splitEvaluation(ctx, tx, r, cfg); err != nil {
			return fmt.Errorf("run %s: %w", r.id, err)
		}
		newID := cfg.ID()
		switch {
		case kept[newID]:
			err = mergeInto(ctx, tx, r.id, newID)
		case newID != r.id:
			err = renameRun(ctx, tx, r.id, newID)
		}
		if err != nil {
			return fmt.Errorf("run %s: new id %s: %w", r.id, newID, err)
		}
		kept[newID] = true
	}
	return nil
}

func readStoredRuns(ctx context.Context, tx *sql.Tx) ([]storedRun, error) {
	rows, err := tx.QueryContext(ctx, "SELECT id, config, status, created_at, finished_at FROM runs ORDER BY created_at, id")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var all []storedRun
	for rows.Next() {
		var r storedRun
		if err := rows.Scan(&r.id, &r.config, &r.status, &r.created, &r.finished); err != nil {
			return nil, err
		}
		all = append(all, r)
	}
	return all, rows.Err()
}

// statusRank orders statuses by how much of a run's work is recorded.
func statusRank(status string) int {
	return slices.Index([]string{StatusDone, StatusDiverged, StatusInterrupted, StatusFailed, StatusRunning, StatusPending}, status)
}

// splitEvaluation files what the run's evaluation made under its evaluation
// hash, records the evaluation (for a finished run), and stores the run's
// config without its eval settings.
func splitEvaluation(ctx context.Context, tx *sql.Tx, r storedRun, cfg experiments.RunConfig) error {
	hash := cfg.EvalHash()
	training := evaluate.TrainingKeys()
	marks := strings.TrimSuffix(strings.Repeat("?,", len(training)), ",")
	args := []any{hash, r.id}
	for _, k := range training {
		args = append(args, k)
	}
	stmts := []struct {
		q    string
		args []any
	}{
		{"UPDATE summaries SET eval_hash=? WHERE run_id=? AND key NOT IN (" + marks + ")", args},
		{"UPDATE artifacts SET eval_hash=? WHERE run_id=? AND kind<>'checkpoint'", []any{hash, r.id}},
		{"UPDATE experiment_runs SET eval_hash=? WHERE run_id=?", []any{hash, r.id}},
		{"UPDATE runs SET config=? WHERE id=?", []any{string(cfg.Canonical()), r.id}},
	}
	if r.status == StatusDone {
		stmts = append(stmts, struct {
			q    string
			args []any
		}{`INSERT INTO evaluations (run_id, eval_hash, config, seconds, created_at)
			VALUES (?, ?, ?, coalesce((SELECT value FROM summaries WHERE run_id=? AND key=?), 0), ?)`,
			[]any{r.id, hash, string(cfg.EvalSettings()), r.id, evaluate.KeyEvalSeconds, cmp.Or(r.finished.String, r.created)}})
	}
	for _, s := range stmts {
		if _, err := tx.ExecContext(ctx, s.q, s.args...); err != nil {
			return err
		}
	}
	return nil
}

// renameRun moves every row of run old to id, and keeps old as an alias.
func renameRun(ctx context.Context, tx *sql.Tx, old, id string) error {
	for _, t := range runTables() {
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("UPDATE %s SET %s=? WHERE %s=?", t[0], t[1], t[1]), id, old); err != nil {
			return fmt.Errorf("%s: %w", t[0], err)
		}
	}
	_, err := tx.ExecContext(ctx, "INSERT INTO run_aliases (old_id, run_id) VALUES (?, ?)", old, id)
	return err
}

// mergeInto folds run old, which trained what run id trained, into id: its
// evaluations (other eval settings) and experiment links join id's where id
// has none of the same; its events move; its own curves, params, training
// summaries and checkpoint record go, since id's are the same training's.
func mergeInto(ctx context.Context, tx *sql.Tx, old, id string) error {
	for _, q := range []string{
		"INSERT OR IGNORE INTO evaluations SELECT ?, eval_hash, config, seconds, created_at FROM evaluations WHERE run_id=?",
		"INSERT OR IGNORE INTO summaries SELECT ?, eval_hash, key, value, protocol FROM summaries WHERE run_id=? AND eval_hash<>''",
		"INSERT OR IGNORE INTO artifacts SELECT ?, eval_hash, kind, path, sha256, bytes, created_at FROM artifacts WHERE run_id=? AND eval_hash<>''",
		`INSERT OR IGNORE INTO experiment_runs (experiment, run_id, position, label, variant, varying, in_spec, eval_hash)
			SELECT experiment, ?, position, label, variant, varying, in_spec, eval_hash FROM experiment_runs WHERE run_id=?`,
		"UPDATE events SET run_id=? WHERE run_id=?",
		"UPDATE run_aliases SET run_id=? WHERE run_id=?",
	} {
		if _, err := tx.ExecContext(ctx, q, id, old); err != nil {
			return err
		}
	}
	for _, t := range slices.Backward(runTables()) {
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("DELETE FROM %s WHERE %s=?", t[0], t[1]), old); err != nil {
			return fmt.Errorf("%s: %w", t[0], err)
		}
	}
	msg := fmt.Sprintf("run %s trained the same model as this run and differed only in eval settings; merged into it (its evaluations are kept)", old)
	if err := addEvent(ctx, tx, "", id, "info", "merged", msg); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, "INSERT INTO run_aliases (old_id, run_id) VALUES (?, ?)", old, id)
	return err
}
