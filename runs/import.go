package runs

import (
	"context"
	"database/sql"
	"fmt"
)

// ImportRun copies a run's records from src, the database its worker wrote
// (see OpenRunDB), into s in one transaction: the run's curves, final values,
// evaluations, artifacts and events replace whatever s held for it, and its row takes the
// worker's status, steps, error, timings and provenance. The run must be
// registered in both. override, if set, replaces the worker's status and error
// (a task Slurm cancelled leaves its run "running" or "interrupted" in src).
// A reader of s sees the run before or after the import, never half of it.
func (s *Store) ImportRun(ctx context.Context, src *Store, runID string, override *Outcome) error {
	var r struct {
		status, errMsg, host, blas, version string
		diverged                            sql.NullInt64
		steps                               int
		started, finished, heartbeat        sql.NullString
	}
	err := src.db.QueryRowContext(ctx, `SELECT status, error, diverged_step, steps, host, blas, vaelab_version,
		started_at, finished_at, heartbeat_at FROM runs WHERE id=?`, runID).
		Scan(&r.status, &r.errMsg, &r.diverged, &r.steps, &r.host, &r.blas, &r.version, &r.started, &r.finished, &r.heartbeat)
	if err != nil {
		return fmt.Errorf("import run %s from %s: %w", runID, src.path, err)
	}
	if override != nil {
		r.status, r.errMsg = override.Status, override.Error
	}
	metrics, err := readRows(ctx, src, "SELECT key, step, epoch, value FROM metrics WHERE run_id=?", runID, 4)
	if err != nil {
		return err
	}
	sums, err := readRows(ctx, src, "SELECT eval_hash, key, value, protocol FROM summaries WHERE run_id=?", runID, 4)
	if err != nil {
		return err
	}
	evals, err := readRows(ctx, src, "SELECT eval_hash, config, seconds, created_at FROM evaluations WHERE run_id=?", runID, 4)
	if err != nil {
		return err
	}
	arts, err := readRows(ctx, src, "SELECT eval_hash, kind, path, sha256, bytes, created_at FROM artifacts WHERE run_id=?", runID, 6)
	if err != nil {
		return err
	}
	for _, a := range arts { // recorded relative to src's folder: re-base them on s's
		if p, ok := a[2].(string); ok {
			a[2] = s.storedPath(src.resolve(p))
		}
	}
	events, err := readRows(ctx, src, "SELECT time, level, kind, message FROM events WHERE run_id=? ORDER BY id", runID, 4)
	if err != nil {
		return err
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE runs SET status=?, error=?, diverged_step=?, steps=?, host=?, blas=?,
			vaelab_version=?, started_at=?, finished_at=?, heartbeat_at=? WHERE id=?`,
			r.status, r.errMsg, r.diverged, r.steps, r.host, r.blas, r.version, r.started, r.finished, r.heartbeat, runID)
		if err != nil {
			return fmt.Errorf("import run %s: %w", runID, err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return fmt.Errorf("import run %s: it is not registered in %s", runID, s.path)
		}
		// Events the submitting side wrote itself (kind "slurm") stay; the
		// worker's are replaced with its current list.
		for _, del := range []string{"DELETE FROM metrics WHERE run_id=?", "DELETE FROM summaries WHERE run_id=?",
			"DELETE FROM evaluations WHERE run_id=?", "DELETE FROM artifacts WHERE run_id=?", "DELETE FROM events WHERE run_id=? AND kind<>'slurm'"} {
			if _, err := tx.ExecContext(ctx, del, runID); err != nil {
				return fmt.Errorf("import run %s: %w", runID, err)
			}
		}
		for _, ins := range []struct {
			query string
			rows  [][]any
		}{
			{"INSERT INTO metrics (run_id, key, step, epoch, value) VALUES (?,?,?,?,?)", metrics},
			{"INSERT INTO summaries (run_id, eval_hash, key, value, protocol) VALUES (?,?,?,?,?)", sums},
			{"INSERT INTO evaluations (run_id, eval_hash, config, seconds, created_at) VALUES (?,?,?,?,?)", evals},
			{"INSERT INTO artifacts (run_id, eval_hash, kind, path, sha256, bytes, created_at) VALUES (?,?,?,?,?,?,?)", arts},
			{"INSERT INTO events (run_id, time, level, kind, message) VALUES (?,?,?,?,?)", events},
		} {
			stmt, err := tx.PrepareContext(ctx, ins.query)
			if err != nil {
				return err
			}
			for _, row := range ins.rows {
				if _, err := stmt.ExecContext(ctx, append([]any{runID}, row...)...); err != nil {
					stmt.Close()
					return fmt.Errorf("import run %s: %w", runID, err)
				}
			}
			stmt.Close()
		}
		if override != nil && r.status != StatusDone {
			return addEvent(ctx, tx, "", runID, "warn", "slurm", r.errMsg)
		}
		return nil
	})
}

// readRows reads every row of a query with one argument into n-column slices.
func readRows(ctx context.Context, s *Store, query, arg string, n int) ([][]any, error) {
	rows, err := s.db.QueryContext(ctx, query, arg)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", s.path, err)
	}
	defer rows.Close()
	var out [][]any
	for rows.Next() {
		vals := make([]any, n)
		ptrs := make([]any, n)
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, fmt.Errorf("read %s: %w", s.path, err)
		}
		out = append(out, vals)
	}
	return out, rows.Err()
}
