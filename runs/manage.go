package runs

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/vaelab/vaelab/internal/fault"
	"github.com/vaelab/vaelab/internal/termtext"
)

// Run management: tags, notes, archived experiments and removal. A Target
// (record.Target) is what a command names: an experiment (by its exact
// name, first) or a run (by id or unique prefix).

// FindTarget resolves a name to an experiment, else to a run.
func (s *Store) FindTarget(ctx context.Context, name string) (Target, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, "SELECT count(*) FROM experiments WHERE name=?", name).Scan(&n); err != nil {
		return Target{}, fmt.Errorf("find %q: %w", name, err)
	}
	if n == 1 {
		return Target{Kind: "experiment", ID: name}, nil
	}
	r, err := s.FindRun(ctx, name)
	if err != nil {
		return Target{}, fmt.Errorf("%q is neither an experiment (vaelab ls lists them) nor a run: %w", name, err)
	}
	return Target{Kind: "run", ID: r.ID}, nil
}

// SetTags sets (or, for an empty value, removes) tags on a target.
func (s *Store) SetTags(ctx context.Context, t Target, kv map[string]string) error {
	keys := make([]string, 0, len(kv))
	for k := range kv {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return s.tx(ctx, func(tx *sql.Tx) error {
		for _, k := range keys {
			q, args := "INSERT OR REPLACE INTO tags (kind, target, key, value, created_at) VALUES (?,?,?,?,?)", []any{t.Kind, t.ID, k, kv[k], now()}
			if kv[k] == "" {
				q, args = "DELETE FROM tags WHERE kind=? AND target=? AND key=?", []any{t.Kind, t.ID, k}
			}
			if _, err := tx.ExecContext(ctx, q, args...); err != nil {
				return fmt.Errorf("tag %s: %w", t, err)
			}
		}
		return nil
	})
}

// Tags returns a target's tags.
func (s *Store) Tags(ctx context.Context, t Target) (map[string]string, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT key, value FROM tags WHERE kind=? AND target=?", t.Kind, t.ID)
	if err != nil {
		return nil, fmt.Errorf("read the tags of %s: %w", t, err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return nil, err
		}
		out[k] = v
	}
	return out, rows.Err()
}

// AddNote appends a note to a target.
func (s *Store) AddNote(ctx context.Context, t Target, text string) error {
	if strings.TrimSpace(text) == "" {
		return fmt.Errorf("note on %s: the text is empty", t)
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "INSERT INTO notes (kind, target, text, created_at) VALUES (?,?,?,?)", t.Kind, t.ID, text, now())
		return err
	})
}

// Notes returns a target's notes, oldest first.
func (s *Store) Notes(ctx context.Context, t Target) ([]Note, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT created_at, text FROM notes WHERE kind=? AND target=? ORDER BY id", t.Kind, t.ID)
	if err != nil {
		return nil, fmt.Errorf("read the notes of %s: %w", t, err)
	}
	defer rows.Close()
	var out []Note
	for rows.Next() {
		var n Note
		if err := rows.Scan(&n.Time, &n.Text); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// Archive hides an experiment from ls and reports (archived true) or
// restores it.
func (s *Store) Archive(ctx context.Context, name string, archived bool) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		var at any
		if archived {
			at = now()
		}
		res, err := tx.ExecContext(ctx, "UPDATE experiments SET archived_at=? WHERE name=?", at, name)
		if err != nil {
			return fmt.Errorf("archive %q: %w", name, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("no experiment named %q in %s (vaelab ls --all lists them)", name, s.path)
		}
		return nil
	})
}

// Archived reports whether an experiment is archived.
func (s *Store) Archived(ctx context.Context, name string) (bool, error) {
	var at sql.NullString
	err := s.db.QueryRowContext(ctx, "SELECT archived_at FROM experiments WHERE name=?", name).Scan(&at)
	if errors.Is(err, sql.ErrNoRows) {
		return false, fmt.Errorf("no experiment named %q in %s (vaelab ls lists them)", name, s.path)
	}
	return at.Valid, err
}

// ParseTag reads key=value (value may be empty only when empty is true).
func ParseTag(s string, empty bool) (string, string, error) {
	k, v, ok := strings.Cut(s, "=")
	k = strings.TrimSpace(k)
	if !ok || k == "" || (v == "" && !empty) {
		return "", "", fmt.Errorf("tag %q: write key=value", s)
	}
	return k, v, nil
}

// Tagged returns the ids of an experiment's runs that carry key=value,
// directly or through the experiment's own tag.
func (s *Store) Tagged(ctx context.Context, experiment, key, value string) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT er.run_id FROM experiment_runs er WHERE er.experiment=? AND (
		EXISTS (SELECT 1 FROM tags t WHERE t.kind='run' AND t.target=er.run_id AND t.key=? AND t.value=?) OR
		EXISTS (SELECT 1 FROM tags t WHERE t.kind='experiment' AND t.target=er.experiment AND t.key=? AND t.value=?))
		ORDER BY er.position`, experiment, key, value, key, value)
	if err != nil {
		return nil, fmt.Errorf("read the runs of %q tagged %s=%s: %w", experiment, key, value, err)
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

// ListExperiments lists the stored experiments as ls shows them.
func (s *Store) ListExperiments(ctx context.Context, o ListOptions) ([]ExperimentInfo, error) {
	all, err := s.Experiments(ctx)
	if err != nil {
		return nil, err
	}
	var out []ExperimentInfo
	for _, e := range all {
		archived, err := s.Archived(ctx, e.Name)
		if err != nil {
			return nil, err
		}
		if (o.Archived && !archived) || (!o.Archived && !o.All && archived) {
			continue
		}
		if o.Tag != "" {
			k, v, err := ParseTag(o.Tag, false)
			if err != nil {
				return nil, err
			}
			ids, err := s.Tagged(ctx, e.Name, k, v)
			if err != nil {
				return nil, err
			}
			tags, err := s.Tags(ctx, Target{Kind: "experiment", ID: e.Name})
			if err != nil {
				return nil, err
			}
			if len(ids) == 0 && tags[k] != v {
				continue
			}
		}
		out = append(out, e)
	}
	return out, nil
}

// Removal is what Remove deleted.
type Removal struct {
	Runs       []string // run ids whose records and files were deleted
	Kept       []string // runs another experiment uses: only unlinked
	Experiment string   // the experiment deleted, "" for a run
	Bytes      int64    // bytes of files freed
	Files      int
	// Problems are files that could not be deleted (the records are gone).
	Problems []string
}

// Remove deletes a target's records and files. A run that another
// experiment also uses is refused unless force; removing an experiment
// deletes its own runs and only unlinks those another experiment uses
// (deletes them too with force). A run some live process is training is
// always refused. The records go in one transaction, then the files:
// recorded artifacts and the run's folder.
func (s *Store) Remove(ctx context.Context, t Target, force bool) (Removal, error) {
	var rm Removal
	var dirs []string
	var files []string
	err := s.tx(ctx, func(tx *sql.Tx) error {
		rm, dirs, files = Removal{}, nil, nil
		var ids []string
		if t.Kind == "experiment" {
			rm.Experiment = t.ID
			linked, err := queryStrings(ctx, tx, "SELECT run_id FROM experiment_runs WHERE experiment=? ORDER BY position", t.ID)
			if err != nil {
				return err
			}
			for _, id := range linked {
				others, err := queryStrings(ctx, tx, "SELECT experiment FROM experiment_runs WHERE run_id=? AND experiment<>?", id, t.ID)
				if err != nil {
					return err
				}
				if len(others) > 0 && !force {
					rm.Kept = append(rm.Kept, id)
					continue
				}
				ids = append(ids, id)
			}
		} else {
			others, err := queryStrings(ctx, tx, "SELECT experiment FROM experiment_runs WHERE run_id=? ORDER BY experiment", t.ID)
			if err != nil {
				return err
			}
			if len(others) > 1 && !force {
				return fmt.Errorf("run %s belongs to %d experiments (%s): removing it changes each of them; pass --force to remove it anyway", t.ID, len(others), strings.Join(others, ", "))
			}
			ids = []string{t.ID}
		}
		for _, id := range ids {
			var status, owner, dir string
			var hb sql.NullString
			if err := tx.QueryRowContext(ctx, "SELECT status, owner, dir, heartbeat_at FROM runs WHERE id=?", id).Scan(&status, &owner, &dir, &hb); err != nil {
				return fmt.Errorf("read run %s: %w", id, err)
			}
			if status == StatusRunning && ownerAlive(owner, parseTime(hb), staleAfter) {
				return fmt.Errorf("run %s is being trained by %s: stop that process first", id, owner)
			}
			paths, err := queryStrings(ctx, tx, "SELECT path FROM artifacts WHERE run_id=?", id)
			if err != nil {
				return err
			}
			for _, p := range paths {
				files = append(files, s.resolve(p))
			}
			if dir != "" {
				aliases, _ := queryStrings(ctx, tx, "SELECT old_id FROM run_aliases WHERE run_id=?", id)
				// Only a folder named for the run: never a folder a
				// damaged record could point at.
				if d := s.resolve(dir); filepath.Base(d) == id || slices.Contains(aliases, filepath.Base(d)) {
					dirs = append(dirs, d)
				}
			}
		}
		if _, err := tx.ExecContext(ctx, "PRAGMA defer_foreign_keys = ON"); err != nil {
			return err
		}
		for _, id := range ids {
			for _, tb := range slices.Backward(runTables()) {
				if _, err := tx.ExecContext(ctx, fmt.Sprintf("DELETE FROM %s WHERE %s=?", tb[0], tb[1]), id); err != nil {
					return fmt.Errorf("remove run %s: %s: %w", id, tb[0], err)
				}
			}
			for _, q := range []string{"DELETE FROM tags WHERE kind='run' AND target=?", "DELETE FROM notes WHERE kind='run' AND target=?"} {
				if _, err := tx.ExecContext(ctx, q, id); err != nil {
					return fmt.Errorf("remove run %s: %w", id, err)
				}
			}
		}
		if t.Kind == "experiment" {
			for _, q := range []string{"DELETE FROM experiment_runs WHERE experiment=?", "DELETE FROM events WHERE experiment=? AND run_id=''",
				"DELETE FROM tags WHERE kind='experiment' AND target=?", "DELETE FROM notes WHERE kind='experiment' AND target=?", "DELETE FROM experiments WHERE name=?"} {
				if _, err := tx.ExecContext(ctx, q, t.ID); err != nil {
					return fmt.Errorf("remove experiment %q: %w", t.ID, err)
				}
			}
		}
		rm.Runs = ids
		return nil
	})
	if err != nil {
		return rm, err
	}
	for _, f := range files {
		if info, err := os.Lstat(f); err == nil && info.Mode().IsRegular() {
			if err := os.Remove(f); err != nil {
				rm.Problems = append(rm.Problems, err.Error())
				continue
			}
			rm.Bytes += info.Size()
			rm.Files++
		}
	}
	for _, d := range dirs {
		n, size := folderSize(d)
		if err := os.RemoveAll(d); err != nil {
			rm.Problems = append(rm.Problems, err.Error())
			continue
		}
		rm.Files += n
		rm.Bytes += size
	}
	return rm, nil
}

// folderSize counts the regular files under dir and their bytes.
func folderSize(dir string) (n int, size int64) {
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if info, err := d.Info(); err == nil {
				n++
				size += info.Size()
			}
		}
		return nil
	})
	return n, size
}

func queryStrings(ctx context.Context, tx *sql.Tx, q string, args ...any) ([]string, error) {
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// ParseTags reads the key=value arguments of vaelab tag (key= removes the
// tag); a malformed one is the user's error.
func ParseTags(args []string) (map[string]string, error) {
	kv := map[string]string{}
	for _, a := range args {
		k, v, err := ParseTag(a, true)
		if err != nil {
			return nil, fault.User(err)
		}
		kv[k] = v
	}
	return kv, nil
}

// Tag is vaelab tag: it sets kv on the run or experiment called name and
// returns that target with all its tags.
func (s *Store) Tag(ctx context.Context, name string, kv map[string]string) (Target, map[string]string, error) {
	t, err := s.FindTarget(ctx, name)
	if err != nil {
		return t, nil, err
	}
	if err := s.SetTags(ctx, t, kv); err != nil {
		return t, nil, err
	}
	tags, err := s.Tags(ctx, t)
	return t, tags, err
}

// Note is vaelab note: it writes text on the run or experiment called name;
// an empty text is the user's error.
func (s *Store) Note(ctx context.Context, name, text string) (Target, error) {
	t, err := s.FindTarget(ctx, name)
	if err != nil {
		return t, err
	}
	return t, fault.User(s.AddNote(ctx, t, text))
}

// ArchiveAll is vaelab archive (archived) and unarchive: it hides or
// restores each named experiment in turn, saying so on w, and stops at the
// first it cannot.
func (s *Store) ArchiveAll(ctx context.Context, names []string, archived bool, w io.Writer) error {
	for _, name := range names {
		if err := s.Archive(ctx, name, archived); err != nil {
			return err
		}
		what := "restored"
		if archived {
			what = "archived (vaelab ls --archived lists it; vaelab unarchive restores it)"
		}
		fmt.Fprintf(w, "%s: %s\n", termtext.Safe(name), what)
	}
	return nil
}

// RemoveAsked is vaelab rm: it resolves name, asks on w for a y or yes read
// from answers before deleting (nil answers: asked already, --yes), removes
// the target (Remove) and says what was freed, kept and left behind.
func (s *Store) RemoveAsked(ctx context.Context, name string, force bool, answers io.Reader, w io.Writer) error {
	t, err := s.FindTarget(ctx, name)
	if err != nil {
		return err
	}
	if answers != nil {
		fmt.Fprintf(w, "delete %s with its records and files? [y/N] ", termtext.Safe(t.String()))
		line, _ := bufio.NewReader(answers).ReadString('\n')
		if a := strings.ToLower(strings.TrimSpace(line)); a != "y" && a != "yes" {
			return errors.New("nothing deleted (answer y, or pass --yes)")
		}
	}
	rm, err := s.Remove(ctx, t, force)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "removed %s: %s, %d files, %s freed\n", termtext.Safe(t.String()), Plural(len(rm.Runs), "run"), rm.Files, sizeText(rm.Bytes))
	if len(rm.Kept) > 0 {
		fmt.Fprintf(w, "kept %s another experiment uses (unlinked from this one): %s\n", Plural(len(rm.Kept), "run"), strings.Join(rm.Kept, " "))
	}
	for _, p := range rm.Problems {
		fmt.Fprintf(w, "warning: %s\n", termtext.Safe(p))
	}
	return nil
}

// sizeText is a byte count for people: 12.3 kB, 4.5 MB.
func sizeText(n int64) string {
	switch {
	case n >= 1e9:
		return fmt.Sprintf("%.1f GB", float64(n)/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	}
	return fmt.Sprintf("%.1f kB", float64(n)/1e3)
}
