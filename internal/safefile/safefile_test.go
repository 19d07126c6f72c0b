package safefile

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestOpenRefusesSpecialAndHugeFiles(t *testing.T) {
	dir := t.TempDir()
	regular := filepath.Join(dir, "ok")
	os.WriteFile(regular, []byte("hello"), 0o644)
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	zero := filepath.Join(dir, "zero")
	os.Symlink("/dev/zero", zero)
	for _, tc := range []struct {
		path string
		max  int64
		want string // "" when the read succeeds
	}{
		{regular, 5, ""},
		{regular, NoLimit, ""},
		{regular, 4, "more than the 4 bytes"},
		{fifo, NoLimit, "a FIFO"},
		{zero, NoLimit, "a device"},
		{dir, NoLimit, "a folder"},
	} {
		done := make(chan error, 1)
		go func() { _, err := Read(tc.path, tc.max); done <- err }()
		select {
		case err := <-done:
			if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
				t.Errorf("Read(%s, %d) = %v, want %q", tc.path, tc.max, err, tc.want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("Read(%s) blocked", tc.path)
		}
	}
}

func TestGuardRefusesPathsLeadingToProtectedFiles(t *testing.T) {
	dir := t.TempDir()
	ws := filepath.Join(dir, "ws")
	os.MkdirAll(filepath.Join(ws, "vaelab-runs", "abc"), 0o755)
	db := filepath.Join(ws, "vaelab.db")
	os.WriteFile(db, []byte("db"), 0o644)
	os.WriteFile(filepath.Join(ws, "spec.yaml"), []byte("x"), 0o644)
	os.Symlink(ws, filepath.Join(dir, "link"))                            // a symlinked folder
	os.Symlink(db, filepath.Join(dir, "dblink"))                          // a symlink to the store
	os.Link(db, filepath.Join(dir, "hard"))                               // a hard link to the store
	os.Symlink(filepath.Join(ws, "gone"), filepath.Join(dir, "dangling")) // to a new file, fine
	var g Guard
	g.Store(db)
	g.Dir(filepath.Join(ws, "vaelab-runs"), "the runs directory")
	g.File(filepath.Join(ws, "spec.yaml"), "the spec being run")
	for _, tc := range []struct {
		out, want string
	}{
		{db, "workspace database"},
		{db + "-wal", "wal file"},
		{db + "-shm", "shm file"},
		{filepath.Join(dir, "link", "vaelab.db"), "workspace database"},
		{filepath.Join(dir, "link", "vaelab.db-wal"), "wal file"},
		{filepath.Join(dir, "dblink"), "workspace database"},
		{filepath.Join(dir, "hard"), "workspace database"},
		{filepath.Join(ws, "vaelab-runs", "abc", "checkpoint.vck"), "runs directory"},
		{filepath.Join(dir, "link", "vaelab-runs", "new", "x.html"), "runs directory"},
		{filepath.Join(ws, "vaelab-runs"), "runs directory"},
		{filepath.Join(dir, "link", "spec.yaml"), "spec being run"},
		{filepath.Join(ws, "report.html"), ""},
		{filepath.Join(dir, "dangling"), ""},
		{filepath.Join(ws, "vaelab-runs2", "x"), ""},
	} {
		err := g.Check("-o", tc.out)
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("Check(%s) = %v, want %q", tc.out, err, tc.want)
		}
	}
}

func TestSystemDir(t *testing.T) {
	home, _ := os.UserHomeDir()
	for _, tc := range []struct {
		dir  string
		want bool
	}{
		{"/", true}, {"/etc", true}, {"/usr/local/x", true}, {"/proc", true}, {"/dev/shm", true},
		{"/sys", true}, {"/bin", true}, {home, home != ""}, {t.TempDir(), false},
		{filepath.Join(home, "work", "runs"), false},
	} {
		if _, got := SystemDir(tc.dir); got != tc.want {
			t.Errorf("SystemDir(%q) = %v, want %v", tc.dir, got, tc.want)
		}
	}
}
