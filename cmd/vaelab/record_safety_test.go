package main

// Regression tests for issue 28 ("nothing a user does can destroy or hide
// the record"): each names the defect it covers.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
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

// vaelabWithin runs the binary as vaelab does, killing it after limit; ok
// is false when it had to be killed.
func vaelabWithin(t *testing.T, dir string, limit time.Duration, args ...string) (r result, ok bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Dir = dir
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "VAELAB_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "VAELAB_CACHE_DIR="+filepath.Join(dir, "decoded-cache"))
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if ctx.Err() != nil {
		return result{-1, out.String(), errOut.String()}, false
	}
	code := 0
	if ee, isExit := err.(*exec.ExitError); isExit {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{code, out.String(), errOut.String()}, true
}

// Defect 8 (acceptance 4): a FIFO and a link to /dev/zero in place of
// recorded artifacts, a checkpoint replaced by a huge file and a FIFO as
// .vaelab.yaml are each refused at once, named, never read whole.
func TestSpecialFilesAreRefusedQuickly(t *testing.T) {
	ws := t.TempDir()
	os.WriteFile(filepath.Join(ws, "s.yaml"), []byte(misuseSpec), 0o644)
	if r := vaelab(t, ws, nil, "run", "s.yaml"); r.code != 0 {
		t.Fatalf("run: %s%s", r.stdout, r.stderr)
	}
	ids := regexp.MustCompile(`(?m)^([0-9a-f]{16})`).FindAllString(vaelab(t, ws, nil, "ls", "misuse").stdout, -1)
	if len(ids) != 2 {
		t.Fatalf("want 2 runs, got %v", ids)
	}
	pngs, _ := filepath.Glob(filepath.Join(ws, "vaelab-runs", ids[0], "*", "*.png"))
	if len(pngs) < 2 {
		t.Fatalf("want 2 image artifacts to replace, got %v", pngs)
	}
	fifo, zero := pngs[0], pngs[1]
	os.Remove(fifo)
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	os.Remove(zero)
	os.Symlink("/dev/zero", zero)
	r, ok := vaelabWithin(t, ws, 5*time.Second, "doctor")
	if !ok {
		t.Fatalf("doctor with a FIFO and /dev/zero as artifacts did not return within 5 s")
	}
	for _, p := range []string{fifo, zero} {
		if r.code == 0 || !strings.Contains(r.stdout, filepath.Base(p)) {
			t.Errorf("doctor: exit %d, does not name %s:\n%s%s", r.code, p, r.stdout, r.stderr)
		}
	}
	// A checkpoint replaced by a file far larger than the one recorded is
	// refused by its size before it is read (a sparse file: no disk used).
	ck := filepath.Join(ws, "vaelab-runs", ids[1], "checkpoint.vck")
	if err := os.Truncate(ck, 64<<20); err != nil {
		t.Fatal(err)
	}
	r, ok = vaelabWithin(t, ws, 30*time.Second, "sample", ids[1], "-o", "x.png")
	if !ok || r.code == 0 || !strings.Contains(r.stderr, "more than") {
		t.Errorf("sample with a huge checkpoint: exit %d, %q; want a refusal by size", r.code, r.stderr)
	}
	if err := syscall.Mkfifo(filepath.Join(ws, ".vaelab.yaml"), 0o644); err != nil {
		t.Fatal(err)
	}
	r, ok = vaelabWithin(t, ws, 5*time.Second, "ls")
	if !ok || r.code == 0 || !strings.Contains(r.stderr, ".vaelab.yaml") {
		t.Errorf("a FIFO as .vaelab.yaml: returned %v, exit %d, %q; want a refusal naming it", ok, r.code, r.stderr)
	}
}

// Defect 7: the runs directory must be where the store's runs are (another
// one would retrain interrupted runs from step 0), and a system folder or
// the home folder itself is refused before anything is created.
func TestRunsDirIsTheStoresOwn(t *testing.T) {
	ws := t.TempDir()
	os.WriteFile(filepath.Join(ws, "s.yaml"), []byte(misuseSpec), 0o644)
	if r := vaelab(t, ws, nil, "run", "s.yaml"); r.code != 0 {
		t.Fatalf("run: %s%s", r.stdout, r.stderr)
	}
	r := vaelab(t, ws, nil, "run", "s.yaml", "--runs-dir", "moved")
	if r.code == 0 || !strings.Contains(r.stderr, filepath.Join(ws, "vaelab-runs")) {
		t.Errorf("run with another --runs-dir: exit %d, %q; want an error saying where the runs are", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(ws, "moved")); err == nil {
		t.Error("the refused runs directory was created")
	}
	home := filepath.Join(ws, "home")
	os.Mkdir(home, 0o755)
	for _, dir := range []string{"/proc", home} {
		r := vaelab(t, ws, []string{"HOME=" + home}, "run", "s.yaml", "--db", "fresh.db", "--runs-dir", dir)
		if r.code == 0 || !strings.Contains(r.stderr, "system folder") {
			t.Errorf("--runs-dir %s: exit %d, %q; want a refusal", dir, r.code, r.stderr)
		}
	}
	if entries, _ := os.ReadDir(home); len(entries) != 0 {
		t.Errorf("the home folder got %d entries", len(entries))
	}
}

// Defect 9: SIGHUP (a closed terminal) and SIGQUIT stop a sweep as Ctrl-C
// does: exit 130, the stopped runs marked interrupted, none left running.
func TestHangupAndQuitInterruptRuns(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGHUP, syscall.SIGQUIT} {
		t.Run(sig.String(), func(t *testing.T) {
			dir := t.TempDir()
			os.WriteFile(filepath.Join(dir, "s.yaml"), []byte(killSpec), 0o644)
			cmd := exec.Command(binary, "run", "s.yaml", "--workers", "1")
			cmd.Dir = dir
			var out strings.Builder
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			db := filepath.Join(dir, "vaelab.db")
			for deadline := time.Now().Add(time.Minute); countRows(t, db, "SELECT count(*) FROM metrics WHERE key='test/elbo'") < 1; time.Sleep(20 * time.Millisecond) {
				if time.Now().After(deadline) {
					cmd.Process.Kill()
					t.Fatal("no epoch finished within a minute")
				}
			}
			cmd.Process.Signal(sig)
			err := cmd.Wait()
			code := cmd.ProcessState.ExitCode()
			if code != 130 {
				t.Errorf("after %v: exit %d (%v), want 130\n%s", sig, code, err, out.String())
			}
			if n := countRows(t, db, "SELECT count(*) FROM runs WHERE status='running'"); n != 0 {
				t.Errorf("after %v: %d runs left running", sig, n)
			}
			if n := countRows(t, db, "SELECT count(*) FROM runs WHERE status='interrupted'"); n == 0 {
				t.Errorf("after %v: no run marked interrupted", sig)
			}
		})
	}
}

// Defect 9: temporary files a killed writer left (a grid, a checkpoint, a
// report) are removed by the next run and the next write of that output,
// once their process is gone; a live writer's are kept.
func TestStaleTemporaryFilesAreSwept(t *testing.T) {
	ws := t.TempDir()
	os.WriteFile(filepath.Join(ws, "s.yaml"), []byte(misuseSpec), 0o644)
	if r := vaelab(t, ws, nil, "run", "s.yaml"); r.code != 0 {
		t.Fatalf("run: %s%s", r.stdout, r.stderr)
	}
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	sum := sha256.Sum256([]byte(host))
	tag := func(pid int) string { return fmt.Sprintf("vaelab-%d-%s", pid, hex.EncodeToString(sum[:4])) }
	evals, _ := filepath.Glob(filepath.Join(ws, "vaelab-runs", "*", "eval-*"))
	if len(evals) == 0 {
		t.Fatal("no evaluation folder")
	}
	stale := []string{
		filepath.Join(evals[0], ".samples.png."+tag(dead.Process.Pid)+".123.tmp"),
		filepath.Join(filepath.Dir(evals[0]), ".checkpoint.vck."+tag(dead.Process.Pid)+".456.tmp"),
		filepath.Join(ws, ".r.html."+tag(dead.Process.Pid)+".789.tmp"),
	}
	live := filepath.Join(evals[0], ".samples.png."+tag(os.Getpid())+".1.tmp")
	for _, f := range append(stale, live) {
		os.WriteFile(f, []byte("partial"), 0o644)
	}
	if r := vaelab(t, ws, nil, "run", "s.yaml"); r.code != 0 {
		t.Fatalf("second run: %s%s", r.stdout, r.stderr)
	}
	if r := vaelab(t, ws, nil, "report", "misuse", "-o", "r.html"); r.code != 0 {
		t.Fatalf("report: %s%s", r.stdout, r.stderr)
	}
	for _, f := range stale {
		if _, err := os.Stat(f); err == nil {
			t.Errorf("%s left by a killed writer is still there", f)
		}
	}
	if _, err := os.Stat(live); err != nil {
		t.Errorf("a live writer's temporary file was removed: %v", err)
	}
}

// Defect 8: data fetch --file reads only a regular package tarball: a FIFO
// is refused at once instead of blocking the open forever.
func TestFetchFileMustBeRegular(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "package.tgz")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	r, ok := vaelabWithin(t, dir, 5*time.Second, "data", "fetch", "dlib-face", "--file", fifo, "--data-dir", filepath.Join(dir, "data"))
	if !ok || r.code == 0 || !strings.Contains(r.stderr, "not a regular file") {
		t.Errorf("data fetch --file FIFO: returned %v, exit %d, %q; want a refusal", ok, r.code, r.stderr)
	}
}
