package runs

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/vaelab/vaelab/internal/fault"
	"github.com/vaelab/vaelab/internal/safefile"
	"github.com/vaelab/vaelab/internal/termtext"
)

// RunsDirs returns the folders holding this store's run folders, resolved:
// the runs directory the store recorded when its first run was prepared,
// and the parents of the run folders recorded when runs were claimed (a
// store from before schema 6 may have several). Empty for a store with no
// run prepared yet.
func (s *Store) RunsDirs(ctx context.Context) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT DISTINCT dir FROM runs WHERE dir != ''")
	if err != nil {
		return nil, fmt.Errorf("read run folders: %w", err)
	}
	defer rows.Close()
	var dirs []string
	for rows.Next() {
		var d string
		if err := rows.Scan(&d); err != nil {
			return nil, err
		}
		parent := filepath.Dir(s.resolve(d))
		if r, err := safefile.Resolve(parent); err == nil {
			parent = r
		}
		if !slices.Contains(dirs, parent) {
			dirs = append(dirs, parent)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	recorded, err := s.RecordedRunsDir(ctx)
	if err != nil {
		return nil, err
	}
	if r, err := safefile.Resolve(recorded); recorded != "" && err == nil && !slices.Contains(dirs, r) {
		dirs = append(dirs, r)
	}
	slices.Sort(dirs)
	return dirs, nil
}

// CheckRunsDir refuses a runs directory that is a system folder, or that is
// not where this store's runs are: training there would start every
// interrupted run again from step 0 (its checkpoint is elsewhere) and spread
// one workspace's files over two folders. The error says where the runs are.
func (s *Store) CheckRunsDir(ctx context.Context, runsDir string) error {
	if err := CheckRunsDirPath(runsDir); err != nil {
		return err
	}
	recorded, err := s.RecordedRunsDir(ctx)
	if err != nil {
		return err
	}
	dirs, err := s.RunsDirs(ctx)
	if err != nil {
		return err
	}
	if recorded != "" { // the store's own record decides
		if r, err := safefile.Resolve(recorded); err == nil {
			recorded = r
		}
		dirs = []string{recorded}
	}
	if len(dirs) == 0 {
		return s.recordRunsDir(ctx, runsDir)
	}
	want, err := safefile.Resolve(runsDir)
	if err != nil {
		return fmt.Errorf("runs directory %s: %w", runsDir, err)
	}
	if slices.Contains(dirs, want) {
		return s.recordRunsDir(ctx, runsDir)
	}
	return fmt.Errorf("runs directory %s: the runs of %s are in %s; run with --runs-dir %s (or runs_dir in the settings). To move a workspace, move the database and its vaelab-runs folder together: run folders inside the database's folder are recorded relative to it",
		runsDir, s.path, strings.Join(dirs, " and "), dirs[0])
}

// CheckRunsDirPath refuses a system folder (/, /etc, /usr, /proc, a home
// folder itself, ...) as the runs directory: vaelab would fill it with run
// folders.
func CheckRunsDirPath(runsDir string) error {
	if r, bad := safefile.SystemDir(runsDir); bad {
		return fmt.Errorf("runs directory %s (%s): a system folder or a home folder itself; vaelab fills the runs directory with one folder per run: choose a folder of its own, e.g. vaelab-runs beside the database", runsDir, r)
	}
	return nil
}

// SpecHashes maps the sha256 of each stored experiment's spec to its name:
// an output path holding one of these texts is a spec, never overwritten.
func (s *Store) SpecHashes(ctx context.Context) (map[string]string, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT name, spec_hash FROM experiments")
	if err != nil {
		return nil, fmt.Errorf("read experiments: %w", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var name, hash string
		if err := rows.Scan(&name, &hash); err != nil {
			return nil, err
		}
		out[hash] = name
	}
	return out, rows.Err()
}

// GuardRecorded adds to g what the database at db records (when there is
// one): the folders of its runs, wherever they were trained. It refuses
// path, the value of flag, when it is an existing file holding a stored
// experiment's spec, so that a command given no spec still never overwrites
// one.
func GuardRecorded(ctx context.Context, db string, g *safefile.Guard, flag, path string) error {
	if _, err := os.Stat(db); err != nil {
		return nil
	}
	st, err := OpenReadOnly(ctx, db)
	if err != nil {
		return nil // the store's own checks report it; the path rules still hold
	}
	defer st.Close()
	dirs, _ := st.RunsDirs(ctx)
	for _, d := range dirs {
		g.Dir(d, "a folder of the workspace's runs")
	}
	specs, _ := st.SpecHashes(ctx)
	if b, err := safefile.Read(path, safefile.MaxSpec); err == nil {
		sum := sha256.Sum256(b)
		if name, ok := specs[hex.EncodeToString(sum[:])]; ok {
			return fmt.Errorf("%s %s: refusing to write there: it holds the spec of experiment %s, which vaelab never overwrites; name another file", flag, path, termtext.Safe(name))
		}
	}
	return nil
}

// CheckOutput refuses, before any work starts, an output path (the value of
// flag) that leads to the workspace's own files: the database with its WAL
// and shared memory, anything under the runs directory (ws's and those the
// database records), the settings file (settingsFile, "" for none), or one
// of specs (the spec being run). Every command that writes a file the user
// names calls it; "" (no output) passes. Its errors are the user's.
func CheckOutput(ctx context.Context, ws Workspace, settingsFile, flag, path string, specs ...string) error {
	if path == "" {
		return nil
	}
	var g safefile.Guard
	g.Store(ws.DB)
	g.Dir(ws.RunsDir, "the runs directory")
	if settingsFile != "" {
		g.File(settingsFile, "the settings file")
	}
	for _, spec := range specs {
		g.File(spec, "the spec being run")
	}
	if err := GuardRecorded(ctx, ws.DB, &g, flag, path); err != nil {
		return fault.User(err)
	}
	return fault.User(g.Check(flag, path))
}
