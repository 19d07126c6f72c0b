package runs

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The store records its runs directory when the first run is prepared, so a
// second runs directory is refused before any run folder exists, with an
// error that names the recorded one; the recorded one keeps working after the
// workspace (database and runs folder together) is moved.
func TestStoreRecordsItsRunsDir(t *testing.T) {
	ctx := context.Background()
	st, dir := openTemp(t)
	sc := newScheduler(st, dir)
	spec, rs := parseSpec(t, tinySpec)
	if _, err := sc.Prepare(ctx, spec, rs); err != nil { // prepared, nothing trained
		t.Fatal(err)
	}
	got, err := st.RecordedRunsDir(ctx)
	if err != nil || got != sc.RunsDir {
		t.Fatalf("recorded runs directory %q, %v; want %q", got, err, sc.RunsDir)
	}
	other := &Scheduler{Store: st, Workers: 1, DataDir: sc.DataDir, RunsDir: filepath.Join(dir, "elsewhere")}
	_, err = other.Prepare(ctx, spec, rs)
	if err == nil || !strings.Contains(err.Error(), sc.RunsDir) {
		t.Fatalf("another runs directory: %v; want a refusal naming %s", err, sc.RunsDir)
	}
	if _, err := sc.Prepare(ctx, spec, rs); err != nil {
		t.Fatalf("the recorded runs directory again: %v", err)
	}
	st.Close()

	moved := t.TempDir()
	if err := os.Rename(filepath.Join(dir, "vaelab.db"), filepath.Join(moved, "vaelab.db")); err != nil {
		t.Fatal(err)
	}
	st2, err := Open(ctx, filepath.Join(moved, "vaelab.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	if got, _ := st2.RecordedRunsDir(ctx); got != filepath.Join(moved, "runs") {
		t.Errorf("after moving the workspace the runs directory is %q; want %q (recorded relative to the database)", got, filepath.Join(moved, "runs"))
	}
}

// A store written before schema 6 gets the runs directory its runs agree on.
func TestMigrationRecordsTheRunsDirOfExistingRuns(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		dirs []string
		want string
	}{
		{"one folder", []string{"vaelab-runs/a", "vaelab-runs/b"}, "vaelab-runs"},
		{"two folders", []string{"x/a", "y/b"}, ""},
		{"no runs", nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, dir := openTemp(t)
			if _, err := st.db.ExecContext(ctx, "DELETE FROM workspace"); err != nil {
				t.Fatal(err)
			}
			for i, d := range tc.dirs {
				if _, err := st.db.ExecContext(ctx, "INSERT INTO runs (id, config, seed, status, created_at, dir) VALUES (?, '{}', 1, 'done', 'now', ?)", string(rune('a'+i)), d); err != nil {
					t.Fatal(err)
				}
			}
			tx, err := st.db.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := migrateWorkspace(ctx, tx); err != nil {
				t.Fatal(err)
			}
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
			want := ""
			if tc.want != "" {
				want = filepath.Join(dir, tc.want)
			}
			if got, err := st.RecordedRunsDir(ctx); err != nil || got != want {
				t.Errorf("recorded %q, %v; want %q", got, err, want)
			}
		})
	}
}
