package main

// Regression tests for issue 28 ("nothing a user does can destroy or hide
// the record"): each names the defect it covers.

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// filesOf reads every file under dir, by path relative to it.
func filesOf(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			b, _ := os.ReadFile(p)
			rel, _ := filepath.Rel(dir, p)
			files[rel] = b
		}
		return nil
	})
	return files
}

// Defect 1 (acceptance 3): every command that writes a file, with its output
// pointed at the store, its WAL, a checkpoint or the spec (directly or
// through a symlinked folder), is refused with a message before any work,
// and the store, the run files and the spec are byte-identical afterwards.
func TestOutputsNeverOverwriteTheRecord(t *testing.T) {
	root := t.TempDir()
	ws := filepath.Join(root, "ws")
	os.MkdirAll(ws, 0o755)
	spec := filepath.Join(ws, "s.yaml")
	os.WriteFile(spec, []byte(misuseSpec), 0o644)
	if r := vaelab(t, ws, nil, "run", "s.yaml"); r.code != 0 {
		t.Fatalf("run: %s%s", r.stdout, r.stderr)
	}
	id := regexp.MustCompile(`(?m)^([0-9a-f]{16})`).FindString(vaelab(t, ws, nil, "ls", "misuse").stdout)
	checkpoint := filepath.Join("vaelab-runs", id, "checkpoint.vck")
	if _, err := os.Stat(filepath.Join(ws, checkpoint)); err != nil {
		t.Fatalf("no checkpoint to aim at: %v", err)
	}
	os.Symlink(ws, filepath.Join(root, "link")) // the workspace seen through a symlinked folder
	before := filesOf(t, ws)
	targets := []string{"vaelab.db", "vaelab.db-wal", "vaelab.db-shm", checkpoint, "s.yaml",
		filepath.Join(root, "link", "vaelab.db"), filepath.Join(root, "link", checkpoint),
		filepath.Join("vaelab-runs", id, "new-file.html")}
	commands := map[string][]string{
		"report":            {"report", "misuse", "-o"},
		"run --report":      {"run", "s.yaml", "--report"},
		"evaluate --report": {"evaluate", "s.yaml", "--report"},
		"export":            {"export", "misuse", "-o"},
		"sample":            {"sample", id, "-o"},
		"data show":         {"data", "show", "synthetic", "-n", "4", "-o"},
	}
	for name, args := range commands {
		for _, target := range targets {
			r := vaelab(t, ws, nil, append(args, target)...)
			if r.code == 0 || !strings.Contains(r.stderr, "refusing to write there") {
				t.Errorf("%s %s: exit %d, %q; want a refusal naming the file", name, target, r.code, r.stderr)
			}
		}
	}
	// data fetch writes into the data directory: aimed into a run's folder.
	r := vaelab(t, ws, nil, "data", "fetch", "frey", "--url", "http://127.0.0.1:1/", "--data-dir", filepath.Join("vaelab-runs", id))
	if r.code == 0 || !strings.Contains(r.stderr, "refusing to write there") {
		t.Errorf("data fetch into a run folder: exit %d, %q; want a refusal", r.code, r.stderr)
	}
	after := filesOf(t, ws)
	for f, b := range before {
		if f == "vaelab.db-shm" { // SQLite's shared-memory index, rewritten by any reader
			continue
		}
		if !bytes.Equal(after[f], b) {
			t.Errorf("%s changed (%d bytes before, %d after)", f, len(b), len(after[f]))
		}
	}
	for f := range after {
		if _, ok := before[f]; !ok && !strings.HasPrefix(f, "decoded-cache") && f != "vaelab.db-shm" && f != "vaelab.db-wal" {
			t.Errorf("%s was written", f)
		}
	}
}
