package runs

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
)

// schema6 gives the store a record of its workspace: the runs directory its
// run folders live in, set when the first run is prepared. Another runs
// directory is then refused with one that names this one, even before any
// run folder exists.
const schema6 = `
CREATE TABLE workspace (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
) WITHOUT ROWID;
`

// migrateWorkspace records the runs directory of a store written before
// schema 6 when its runs agree on one: the parent of their folders.
func migrateWorkspace(ctx context.Context, tx *sql.Tx) error {
	rows, err := tx.QueryContext(ctx, "SELECT DISTINCT dir FROM runs WHERE dir != ''")
	if err != nil {
		return err
	}
	defer rows.Close()
	parents := map[string]bool{}
	for rows.Next() {
		var d string
		if err := rows.Scan(&d); err != nil {
			return err
		}
		parents[filepath.Dir(d)] = true
	}
	if err := rows.Err(); err != nil || len(parents) != 1 {
		return err
	}
	for p := range parents {
		if _, err := tx.ExecContext(ctx, "INSERT INTO workspace (key, value) VALUES ('runs_dir', ?)", p); err != nil {
			return fmt.Errorf("record runs directory: %w", err)
		}
	}
	return nil
}

// RecordedRunsDir is the runs directory the store recorded, resolved as this
// process sees it; "" before the first run was prepared.
func (s *Store) RecordedRunsDir(ctx context.Context) (string, error) {
	var d string
	err := s.db.QueryRowContext(ctx, "SELECT value FROM workspace WHERE key = 'runs_dir'").Scan(&d)
	if err == sql.ErrNoRows {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read the store's runs directory: %w", err)
	}
	return s.resolve(d), nil
}

// recordRunsDir records runsDir as the store's runs directory unless one is
// recorded already (the first one prepared wins; CheckRunsDir refuses others).
func (s *Store) recordRunsDir(ctx context.Context, runsDir string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "INSERT OR IGNORE INTO workspace (key, value) VALUES ('runs_dir', ?)", s.storedPath(runsDir))
		return err
	})
}
