package main

import (
	"github.com/vaelab/vaelab/internal/testenv"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestDiskFullThenFreed runs a sweep in a workspace on a 2 MB tmpfs: it must
// stop with a disk-full error that names the file it could not write, leave
// the database intact, and finish with the same command once space is freed.
// Mounting needs root (CI runs as root); elsewhere the test is skipped.
func TestDiskFullThenFreed(t *testing.T) {
	testenv.Full(t, "a sweep on a full 2 MB tmpfs, then resumed")
	for _, tc := range []struct{ name, spec, names string }{
		// 4 runs of about 75k parameters: each checkpoint is 1.5 MB (weights
		// and Adam moments), so the second checkpoint written does not fit.
		{"checkpoint", "name: full\ndataset: {name: synthetic, size: 24, count: 300, test_fraction: 0.2}\nmodel: {hidden: [64], latent: 4}\ntrain: {epochs: 3, batch_size: 30}\neval: {batch_size: 60, grid_images: 8, samples: 60}\nseeds: [1, 2, 3, 4]\n", "write vaelab-runs/"},
		// A tiny model trained with batch size 1: its metric rows fill the disk.
		{"metrics", "name: full\ndataset: {name: synthetic, size: 8, count: 2000, test_fraction: 0.2}\nmodel: {hidden: [4], latent: 2}\ntrain: {epochs: 3, batch_size: 1}\neval: {batch_size: 60, grid_images: 8, samples: 60}\nseeds: [1, 2, 3, 4]\n", "vaelab.db"},
	} {
		t.Run(tc.name, func(t *testing.T) { diskFullThenFreed(t, tc.spec, tc.names) })
	}
}

func diskFullThenFreed(t *testing.T, spec, names string) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root; run the tests as root to include the disk-full test")
	}
	ws := filepath.Join(t.TempDir(), "ws")
	os.MkdirAll(ws, 0o755)
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", ws).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs here (%v: %s); the disk-full test needs a machine that allows it", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", ws).Run() })

	os.WriteFile(filepath.Join(ws, "s.yaml"), []byte(spec), 0o644)
	env := []string{"VAELAB_CACHE_DIR=" + filepath.Join(t.TempDir(), "cache")}
	first := vaelab(t, ws, env, "run", "s.yaml", "--workers", "1")
	msg := first.stdout + first.stderr
	if first.code != 1 || !strings.Contains(msg, "disk full") || !strings.Contains(msg, names) {
		t.Fatalf("sweep on a full disk: exit %d, want 1 and a disk-full error naming the file\n%s", first.code, msg)
	}
	if !strings.Contains(first.stderr, "free space, then run `vaelab run s.yaml` again") {
		t.Errorf("the error does not say how to finish: %s", first.stderr)
	}
	db := filepath.Join(ws, "vaelab.db")
	if ok := queryString(t, db, "PRAGMA integrity_check"); ok != "ok" {
		t.Fatalf("integrity_check after the disk filled: %s", ok)
	}
	if n := countRows(t, db, "SELECT count(*) FROM runs WHERE status='running'"); n != 0 {
		t.Fatalf("%d runs left running", n)
	}
	done := countRows(t, db, "SELECT count(*) FROM runs WHERE status='done'")
	t.Logf("first attempt: exit %d, %d of 4 runs done; %s", first.code, done, strings.TrimSpace(first.stderr))
	// The last good checkpoint is still there and whole.
	var ckpt string
	filepath.Walk(filepath.Join(ws, "vaelab-runs"), func(p string, info os.FileInfo, err error) error {
		if err == nil && info.Name() == "checkpoint.vck" {
			ckpt = p
		}
		return nil
	})
	if ckpt == "" {
		t.Fatal("no checkpoint kept")
	}
	if r := vaelab(t, ws, env, "doctor"); r.code != 0 {
		t.Fatalf("doctor after the disk filled: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	if out, err := exec.Command("mount", "-o", "remount,size=64m", ws).CombinedOutput(); err != nil {
		t.Fatalf("remount larger: %v: %s", err, out)
	}
	again := vaelab(t, ws, env, "run", "s.yaml", "--workers", "1")
	if again.code != 0 {
		t.Fatalf("after freeing space: exit %d\n%s%s", again.code, again.stdout, again.stderr)
	}
	if n := countRows(t, db, "SELECT count(*) FROM runs WHERE status='done'"); n != 4 {
		t.Fatalf("%d of 4 runs done after freeing space", n)
	}
	if ok := queryString(t, db, "PRAGMA integrity_check"); ok != "ok" {
		t.Fatalf("integrity_check at the end: %s", ok)
	}
	if n := countRows(t, db, "SELECT count(*) FROM runs r WHERE steps != (SELECT count(*) FROM metrics m WHERE m.run_id=r.id AND m.key='train/loss')"); n != 0 {
		t.Fatalf("%d runs with missing or extra steps", n)
	}
}
