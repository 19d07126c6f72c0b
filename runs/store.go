// Package runs owns the lifecycle of runs: the SQLite store of experiments, runs
// and metrics, the local scheduler that trains them, and their files on disk.
package runs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/mattn/go-sqlite3" // registers the "sqlite3" driver

	"github.com/vaelab/vaelab/record"
)

// Store is a workspace database. It is safe for concurrent use, also by several
// processes: WAL mode, a busy timeout, and BEGIN IMMEDIATE for every write
// transaction so read-then-write never fails with "database is locked".
type Store struct {
	db   *sql.DB
	path string
}

// Statuses of a run (see record).
const (
	StatusPending     = record.StatusPending
	StatusRunning     = record.StatusRunning
	StatusDone        = record.StatusDone
	StatusFailed      = record.StatusFailed
	StatusDiverged    = record.StatusDiverged
	StatusInterrupted = record.StatusInterrupted
	StatusPaused      = record.StatusPaused
	StatusStopped     = record.StatusStopped
)

// The views read the store through record.Reader.
var _ record.Reader = (*Store)(nil)

// schemaVersion is the version Open migrates to; migrations()[i] brings version i to i+1.
const schemaVersion = 6

// SchemaVersion is the schema this vaelab writes (PRAGMA user_version).
const SchemaVersion = schemaVersion

// A migration is SQL, then optionally Go code, in the migrating transaction.
type migration struct {
	sql  string
	code func(ctx context.Context, tx *sql.Tx) error
}

func migrations() []migration {
	return []migration{{sql: `
CREATE TABLE experiments (
	name           TEXT PRIMARY KEY,
	description    TEXT NOT NULL,
	spec_text      TEXT NOT NULL,
	spec_hash      TEXT NOT NULL,
	vaelab_version TEXT NOT NULL,
	vcs_revision   TEXT NOT NULL,
	vcs_modified   INTEGER NOT NULL,
	go_version     TEXT NOT NULL,
	blas           TEXT NOT NULL,
	host           TEXT NOT NULL,
	created_at     TEXT NOT NULL,
	started_at     TEXT NOT NULL
);
CREATE TABLE runs (
	id            TEXT PRIMARY KEY,
	config        TEXT NOT NULL,
	seed          INTEGER NOT NULL,
	status        TEXT NOT NULL CHECK (status IN ('pending','running','done','failed','diverged','interrupted')),
	error         TEXT NOT NULL DEFAULT '',
	diverged_step INTEGER,
	steps         INTEGER NOT NULL DEFAULT 0,
	attempts      INTEGER NOT NULL DEFAULT 0,
	owner         TEXT NOT NULL DEFAULT '',
	host          TEXT NOT NULL DEFAULT '',
	blas          TEXT NOT NULL DEFAULT '',
	vaelab_version TEXT NOT NULL DEFAULT '',
	dir           TEXT NOT NULL DEFAULT '',
	created_at    TEXT NOT NULL,
	started_at    TEXT,
	finished_at   TEXT,
	heartbeat_at  TEXT
);
CREATE INDEX runs_status ON runs(status);
-- A run belongs to every experiment whose spec expands to it; the label and the
-- varying values are per experiment, since they depend on the sweep's axes.
CREATE TABLE experiment_runs (
	experiment TEXT NOT NULL REFERENCES experiments(name),
	run_id     TEXT NOT NULL REFERENCES runs(id),
	position   INTEGER NOT NULL,
	label      TEXT NOT NULL,
	variant    TEXT NOT NULL,
	varying    TEXT NOT NULL,
	PRIMARY KEY (experiment, run_id)
) WITHOUT ROWID;
CREATE TABLE params (
	run_id     TEXT NOT NULL REFERENCES runs(id),
	key        TEXT NOT NULL,
	value_num  REAL,
	value_text TEXT,
	PRIMARY KEY (run_id, key)
) WITHOUT ROWID;
CREATE TABLE metrics (
	run_id TEXT NOT NULL REFERENCES runs(id),
	key    TEXT NOT NULL,
	step   INTEGER NOT NULL,
	epoch  INTEGER NOT NULL,
	value  REAL NOT NULL,
	PRIMARY KEY (run_id, key, step)
) WITHOUT ROWID;
CREATE TABLE summaries (
	run_id   TEXT NOT NULL REFERENCES runs(id),
	key      TEXT NOT NULL,
	value    REAL NOT NULL,
	protocol TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (run_id, key)
) WITHOUT ROWID;
CREATE TABLE artifacts (
	run_id     TEXT NOT NULL REFERENCES runs(id),
	kind       TEXT NOT NULL,
	path       TEXT NOT NULL,
	sha256     TEXT NOT NULL,
	bytes      INTEGER NOT NULL,
	created_at TEXT NOT NULL,
	PRIMARY KEY (run_id, kind)
) WITHOUT ROWID;
CREATE TABLE events (
	id         INTEGER PRIMARY KEY,
	time       TEXT NOT NULL,
	experiment TEXT NOT NULL DEFAULT '',
	run_id     TEXT NOT NULL DEFAULT '',
	level      TEXT NOT NULL,
	kind       TEXT NOT NULL,
	message    TEXT NOT NULL
);
CREATE INDEX events_run ON events(run_id);
`}, {sql: `
-- in_spec is 0 for a run linked to an experiment by an earlier version of its
-- spec but absent from the one run last: it is kept, flagged, and never
-- compared or averaged with the current spec's runs.
ALTER TABLE experiment_runs ADD COLUMN in_spec INTEGER NOT NULL DEFAULT 1;
`}, {sql: schema3, code: migrateRunIdentity}, {code: migrateStoppedStatuses}, {sql: schema5}, {sql: schema6, code: migrateWorkspace}}
}

// Open opens (creating if needed) the database at path and migrates its schema.
func Open(ctx context.Context, path string) (*Store, error) {
	// With WAL, NORMAL sync is durable across process crashes.
	return open(ctx, path, "WAL", "NORMAL")
}

// OpenRunDB opens (creating if needed) the database of a single run trained
// by an external engine such as Slurm. It may sit on a network filesystem,
// where WAL's shared memory does not work, so it uses a rollback journal and
// full sync; only one task writes it at a time, and the submitting side reads
// it once the task has ended.
func OpenRunDB(ctx context.Context, path string) (*Store, error) {
	return open(ctx, path, "DELETE", "FULL")
}

func open(ctx context.Context, path, journal, synchronous string) (*Store, error) {
	if strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("open store %s: the path may not contain '?' or '#'", path)
	}
	// Pragmas go in the DSN so that every pooled connection gets them.
	q := url.Values{}
	q.Set("_journal_mode", journal)
	q.Set("_busy_timeout", "30000")
	q.Set("_txlock", "immediate")
	q.Set("_foreign_keys", "1")
	q.Set("_synchronous", synchronous)
	db, err := sql.Open("sqlite3", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	s := &Store{db: db, path: path}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	return s, nil
}

// OpenReadOnly opens an existing database for reading only: the reading
// commands (ls, show, report, export, sample, doctor) never write and never
// create one. A database of an older schema is migrated first when it can be
// written; one in a workspace nobody can write here (a read-only mount or
// folder) is read as an immutable file, since SQLite cannot make its WAL
// index there and nothing can change the file either.
func OpenReadOnly(ctx context.Context, path string) (*Store, error) {
	if strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("open store %s: the path may not contain '?' or '#'", path)
	}
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	readOnly := !writable(filepath.Dir(path)) || !writable(path)
	st, v, err := openQueryOnly(ctx, path, false)
	if err != nil && readOnly {
		st, v, err = openQueryOnly(ctx, path, true)
	}
	if err != nil {
		return nil, err
	}
	switch {
	case v < 0:
		st.Close()
		return nil, fmt.Errorf("open store %s: schema version %d is not one vaelab ever wrote (PRAGMA user_version was changed by hand?); restore the database from a backup or point --db at another file", path, v)
	case v > schemaVersion:
		st.Close()
		return nil, fmt.Errorf("open store %s: schema version %d is newer than this vaelab understands (%d); use the newer vaelab that wrote it, or upgrade", path, v, schemaVersion)
	case v < schemaVersion && readOnly:
		st.Close()
		return nil, fmt.Errorf("open store %s: schema version %d is older than this vaelab's %d and the database is read-only here, so it cannot be migrated; run any vaelab command where it is writable once", path, v, schemaVersion)
	case v < schemaVersion:
		st.Close()
		rw, err := Open(ctx, path) // migrates, once, in an immediate transaction
		if err != nil {
			return nil, err
		}
		rw.Close()
		st, _, err = openQueryOnly(ctx, path, false)
		return st, err
	}
	return st, nil
}

// openQueryOnly opens path with writes refused (immutable: as a file that
// cannot change) and reads its schema version.
func openQueryOnly(ctx context.Context, path string, immutable bool) (*Store, int, error) {
	q := url.Values{}
	q.Set("_busy_timeout", "30000")
	q.Set("_query_only", "1")
	if immutable {
		q.Set("mode", "ro")
		q.Set("immutable", "1")
	}
	db, err := sql.Open("sqlite3", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, 0, fmt.Errorf("open store %s: %w", path, err)
	}
	var v int
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		db.Close()
		return nil, 0, fmt.Errorf("open store %s: %w", path, err)
	}
	return &Store{db: db, path: path}, v, nil
}

// writable reports whether this process may write path (a read-only mount
// answers no, also to root).
func writable(path string) bool { return syscall.Access(path, 2 /* W_OK */) == nil }

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// Path is the database file.
func (s *Store) Path() string { return s.path }

// storedPath is how a file's path is recorded: relative to the database's
// folder (the workspace) when it lies inside it, so that doctor, report and
// sample find run files from any working directory and after the workspace
// is moved; absolute otherwise. p is a path as this process sees it.
func (s *Store) storedPath(p string) string {
	abs, err := filepath.Abs(p)
	if err != nil {
		return p
	}
	root, err := filepath.Abs(filepath.Dir(s.path))
	if err != nil {
		return abs
	}
	if rel, err := filepath.Rel(root, abs); err == nil && filepath.IsLocal(rel) {
		return rel
	}
	return abs
}

// resolve turns a recorded path back into one this process can open.
// Databases written before schema 2 recorded paths relative to the working
// directory of the run, which is the workspace when vaelab ran there.
func (s *Store) resolve(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(filepath.Dir(s.path), p)
}

// migrate brings the schema to schemaVersion inside one immediate transaction,
// so processes that start together never both apply a migration.
func (s *Store) migrate(ctx context.Context) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		var v int
		if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
			return fmt.Errorf("read schema version: %w", err)
		}
		if v > schemaVersion {
			return fmt.Errorf("database schema version %d is newer than this vaelab understands (%d); upgrade vaelab", v, schemaVersion)
		}
		if v < 0 {
			return fmt.Errorf("database schema version %d is not one vaelab ever wrote (PRAGMA user_version was changed by hand?); restore the database from a backup or point --db at another file", v)
		}
		for ; v < schemaVersion; v++ {
			m := migrations()[v]
			if m.sql != "" {
				if _, err := tx.ExecContext(ctx, m.sql); err != nil {
					return fmt.Errorf("migrate schema to version %d: %w", v+1, err)
				}
			}
			if m.code == nil {
				continue
			}
			if err := m.code(ctx, tx); err != nil {
				return fmt.Errorf("migrate schema to version %d: %w", v+1, err)
			}
		}
		_, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", schemaVersion))
		return err
	})
}

// busyRetryFor bounds how long a transaction is retried while SQLite reports the
// database busy. The busy timeout covers most waits, but SQLite returns BUSY
// without waiting in some cases, such as while another connection switches a new
// database to WAL mode.
const busyRetryFor = time.Minute

// tx runs fn in an immediate transaction and commits it, or rolls back on error.
// A transaction that fails because the database is busy is retried from the
// start, so fn must only have effects through tx (or be safe to repeat).
func (s *Store) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	deadline := time.Now().Add(busyRetryFor)
	for wait := 5 * time.Millisecond; ; wait = min(2*wait, time.Second) {
		err := s.tx1(ctx, fn)
		if !isBusy(err) || time.Now().After(deadline) {
			return err
		}
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return err
		}
	}
}

func isBusy(err error) bool {
	var se sqlite3.Error
	return errors.As(err, &se) && (se.Code == sqlite3.ErrBusy || se.Code == sqlite3.ErrLocked)
}

func (s *Store) tx1(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	if err := fn(tx); err != nil {
		return errors.Join(err, rollback(tx))
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

func rollback(tx *sql.Tx) error {
	if err := tx.Rollback(); err != nil && !errors.Is(err, sql.ErrTxDone) {
		return fmt.Errorf("rollback: %w", err)
	}
	return nil
}

func now() string { return time.Now().UTC().Format(time.RFC3339Nano) }

// parseTime reads a stored timestamp; the zero time when absent.
func parseTime(s sql.NullString) time.Time {
	if !s.Valid {
		return time.Time{}
	}
	t, _ := time.Parse(time.RFC3339Nano, s.String)
	return t
}
