package runs

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// Schema 4 lets runs be early-stopped: the statuses paused (at a rung of
// sweep.early_stop, waiting for its decision, checkpoint kept) and stopped
// (a rung decided against it: not retried, promotable by a larger budget).
// The runs table's CHECK on status is loosened in place, by the procedure
// SQLite documents for constraint changes that leave the stored rows valid
// (every existing row satisfies the wider CHECK): rewrite the table's
// definition, bump the schema version, check integrity, in the migrating
// transaction.
func migrateStoppedStatuses(ctx context.Context, tx *sql.Tx) error {
	const old, wider = `'diverged','interrupted')`, `'diverged','interrupted','paused','stopped')`
	var def string
	if err := tx.QueryRowContext(ctx, "SELECT sql FROM sqlite_schema WHERE type='table' AND name='runs'").Scan(&def); err != nil {
		return fmt.Errorf("read the runs table's definition: %w", err)
	}
	if !strings.Contains(def, old) {
		return fmt.Errorf("the runs table's status check is not the one schema 3 made: %s", def)
	}
	var version int
	if err := tx.QueryRowContext(ctx, "PRAGMA schema_version").Scan(&version); err != nil {
		return err
	}
	for _, q := range []string{
		"PRAGMA writable_schema = ON",
		"UPDATE sqlite_schema SET sql = " + quote(strings.Replace(def, old, wider, 1)) + " WHERE type='table' AND name='runs'",
		fmt.Sprintf("PRAGMA schema_version = %d", version+1),
		"PRAGMA writable_schema = OFF",
	} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("widen the runs table's status check: %w", err)
		}
	}
	var check string
	if err := tx.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
		return fmt.Errorf("integrity check after widening the status check: %s %v", check, err)
	}
	return nil
}

func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
