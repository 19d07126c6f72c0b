package main

import (
	"context"
	"database/sql"
	"errors"
	"github.com/vaelab/vaelab/internal/testenv"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vaelab/vaelab/runs"
)

const killSpec = `name: killme
dataset: {name: synthetic, size: 24, count: 600, test_fraction: 0.2}
model: {hidden: [128], latent: 4}
train: {epochs: 12, batch_size: 20}
eval: {batch_size: 60, grid_images: 8, samples: 60}
seeds: [1, 2]
`

// TestSIGKILLThenResume kills a sweep with SIGKILL once checkpoints exist,
// runs it again, and compares with a sweep that was never killed: every run
// done, the database intact, one value per step, the same curves and final metrics.
func TestSIGKILLThenResume(t *testing.T) {
	ref := referenceSweep(t, killSpec, nil)

	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "s.yaml"), []byte(killSpec), 0o644)
	cmd := exec.Command(binary, "run", "s.yaml", "--workers", "2")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "VAELAB_CACHE_DIR="+filepath.Join(dir, "cache"))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "vaelab.db")
	killed := false
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if countRows(t, db, "SELECT count(*) FROM artifacts WHERE kind='checkpoint'") >= 1 {
			cmd.Process.Signal(syscall.SIGKILL)
			killed = true
			break
		}
	}
	cmd.Wait()
	if !killed {
		t.Fatal("no checkpoint appeared within a minute")
	}
	if n := countRows(t, db, "SELECT count(*) FROM runs WHERE status='done'"); n == 2 {
		t.Fatal("the sweep finished before the kill landed; make the spec longer")
	}
	again := vaelab(t, dir, nil, "run", "s.yaml", "--workers", "2")
	if again.code != 0 || !strings.Contains(again.stdout, "finished:") || !strings.Contains(again.stdout, "resume") {
		t.Fatalf("second run: exit %d\n%s%s", again.code, again.stdout, again.stderr)
	}
	assertSameAsReference(t, filepath.Join(ref, "vaelab.db"), db, "killme")
}

// referenceSweep runs spec uninterrupted with 2 workers in a fresh workspace
// and returns the workspace.
func referenceSweep(t *testing.T, spec string, env []string) string {
	t.Helper()
	ref := t.TempDir()
	os.WriteFile(filepath.Join(ref, "s.yaml"), []byte(spec), 0o644)
	if r := vaelab(t, ref, env, "run", "s.yaml", "--workers", "2"); r.code != 0 {
		t.Fatalf("reference sweep: %s%s", r.stdout, r.stderr)
	}
	return ref
}

// assertSameAsReference checks that every run of experiment in db is done,
// the database is intact with one loss value per step, and each run's curves
// and final figures equal those of the uninterrupted sweep in refDB.
func assertSameAsReference(t *testing.T, refDB, db, experiment string) {
	t.Helper()
	if ok := queryString(t, db, "PRAGMA integrity_check"); ok != "ok" {
		t.Fatalf("integrity_check: %s", ok)
	}
	if n := countRows(t, db, "SELECT count(*) FROM runs r WHERE steps != (SELECT count(*) FROM metrics m WHERE m.run_id=r.id AND m.key='train/loss') OR steps != (SELECT max(step) FROM metrics m WHERE m.run_id=r.id AND m.key='train/loss')"); n != 0 {
		t.Fatalf("%d runs with missing or extra steps", n)
	}
	a, b := openRO(t, refDB), openRO(t, db)
	ra, _ := a.Runs(context.Background(), experiment)
	rb, _ := b.Runs(context.Background(), experiment)
	if len(ra) == 0 || len(ra) != len(rb) {
		t.Fatalf("%d runs, uninterrupted sweep %d", len(rb), len(ra))
	}
	for i := range ra {
		if rb[i].Status != runs.StatusDone || rb[i].ID != ra[i].ID {
			t.Fatalf("run %s is %s", rb[i].ID, rb[i].Status)
		}
		ma, _ := a.Metrics(context.Background(), ra[i].ID)
		mb, _ := b.Metrics(context.Background(), rb[i].ID)
		for key := range ma {
			if !slices.Equal(ma[key], mb[key]) {
				t.Fatalf("run %s: %s differs from the uninterrupted sweep", ra[i].ID, key)
			}
		}
		sa, _ := a.Summaries(context.Background(), ra[i].ID)
		sb, _ := b.Summaries(context.Background(), rb[i].ID)
		if len(sa) != len(sb) || len(sa) < 20 {
			t.Fatalf("run %s: %d summaries, uninterrupted %d", ra[i].ID, len(sb), len(sa))
		}
		for k, v := range sa { // every figure but wall times
			if !strings.Contains(k, "seconds") && !strings.Contains(k, "per_second") && sb[k].Value != v.Value {
				t.Errorf("run %s: %s %v, uninterrupted %v", ra[i].ID, k, sb[k].Value, v.Value)
			}
		}
	}
}

func openRO(t *testing.T, path string) *runs.Store {
	t.Helper()
	st, err := runs.OpenReadOnly(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// countRows runs a counting query on the database, 0 when it cannot be read yet.
func countRows(t *testing.T, path, q string) int {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		return 0
	}
	db, err := sql.Open("sqlite3", "file:"+path+"?_busy_timeout=5000&_query_only=1")
	if err != nil {
		return 0
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(q).Scan(&n); err != nil {
		return 0
	}
	return n
}

func queryString(t *testing.T, path, q string) string {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+path+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var s string
	if err := db.QueryRow(q).Scan(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestTwoProcessesOneSpec starts two sweeps of the same spec on the same
// database at once: every run is trained exactly once (one attempt), both
// processes exit cleanly, and neither meets "database is locked".
func TestTwoProcessesOneSpec(t *testing.T) {
	dir := t.TempDir()
	spec := strings.Replace(killSpec, "seeds: [1, 2]", "seeds: [1, 2, 3, 4, 5, 6]", 1)
	spec = strings.Replace(spec, "epochs: 12", "epochs: 3", 1)
	os.WriteFile(filepath.Join(dir, "s.yaml"), []byte(spec), 0o644)
	var cmds []*exec.Cmd
	var outs []*strings.Builder
	for range 2 {
		cmd := exec.Command(binary, "run", "s.yaml", "--workers", "1")
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "VAELAB_CACHE_DIR="+filepath.Join(dir, "cache"))
		out := &strings.Builder{}
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds, outs = append(cmds, cmd), append(outs, out)
	}
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("process %d: %v\n%s", i, err, outs[i])
		}
		if strings.Contains(strings.ToLower(outs[i].String()), "locked") {
			t.Fatalf("process %d met a lock error:\n%s", i, outs[i])
		}
	}
	db := filepath.Join(dir, "vaelab.db")
	if n := countRows(t, db, "SELECT count(*) FROM runs WHERE status='done' AND attempts=1"); n != 6 {
		t.Fatalf("%d of 6 runs done with a single attempt\n%s\n%s", n, outs[0], outs[1])
	}
	if a, b := strings.Count(outs[0].String(), "done        "), strings.Count(outs[1].String(), "done        "); a+b != 6 || a == 0 || b == 0 {
		t.Fatalf("processes trained %d and %d runs; want 6 in all, shared", a, b)
	}
}

// TestKillSoak kills a sweep with SIGKILL at 30 random moments, restarting it
// after each, then lets it finish: every run must end done, the database
// intact with one value per step, and every curve and figure equal to an
// uninterrupted sweep's. Kill moments are drawn uniformly over the sweep's
// length; the log says in which phase each landed.
func TestKillSoak(t *testing.T) {
	testenv.Full(t, "SIGKILL soak of a sweep, resumed bit-identically")
	const spec = `name: soak
dataset: {name: synthetic, size: 16, count: 500, test_fraction: 0.2}
model: {hidden: [64], latent: 4}
train: {epochs: 6, batch_size: 20}
eval: {batch_size: 100, grid_images: 8, samples: 100, iwae_k: 4}
seeds: [1, 2, 3, 4, 5, 6]
`
	env := []string{"VAELAB_CACHE_DIR=" + filepath.Join(t.TempDir(), "cache")}
	start := time.Now()
	ref := referenceSweep(t, spec, env)
	length := time.Since(start)
	start = time.Now()
	vaelab(t, ref, env, "run", "s.yaml") // nothing left to train: start-up only
	startup := time.Since(start)
	// Each attempt lives its start-up plus a random share of the work, 0.75/30
	// of it on average, so 30 kills land before the sweep can finish.
	work := length - startup

	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 0))
	t.Logf("uninterrupted sweep %v, start-up %v; kill moments drawn with seed %d", length.Round(time.Millisecond), startup.Round(time.Millisecond), seed)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "s.yaml"), []byte(spec), 0o644)
	db := filepath.Join(dir, "vaelab.db")
	phases := map[string]int{}
	kills := 0
	for attempt := 0; kills < 30; attempt++ {
		cmd := exec.Command(binary, "run", "s.yaml", "--workers", "2")
		cmd.Dir, cmd.Env = dir, append(os.Environ(), env...)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		select {
		case err := <-exited:
			t.Fatalf("attempt %d ended on its own (%v) after %d kills: the sweep is too short for the soak", attempt, err, kills)
		case <-time.After(startup + time.Duration(rng.Float64()*1.5*float64(work)/30)):
		}
		cmd.Process.Signal(syscall.SIGKILL)
		<-exited
		kills++
		phases[killPhase(t, dir, db)]++
	}
	t.Logf("kills by phase: %v", phases)
	final := vaelab(t, dir, env, "run", "s.yaml", "--workers", "2")
	if final.code != 0 {
		t.Fatalf("final run: exit %d\n%s%s", final.code, final.stdout, final.stderr)
	}
	assertSameAsReference(t, filepath.Join(ref, "vaelab.db"), db, "soak")
}

// killPhase says what the killed sweep was doing, from what it left: a
// checkpoint's temporary file, runs still running with all or some of their
// steps, or nothing yet.
func killPhase(t *testing.T, dir, db string) string {
	if tmp, _ := filepath.Glob(filepath.Join(dir, "vaelab-runs", "*", ".checkpoint.vck.*.tmp")); len(tmp) > 0 {
		return "checkpointing"
	}
	if countRows(t, db, "SELECT count(*) FROM runs WHERE status='running' AND steps = 6*(400/20)") > 0 {
		return "evaluation"
	}
	if countRows(t, db, "SELECT count(*) FROM runs WHERE status='running'") > 0 {
		return "training"
	}
	return "start-up"
}

// TestSIGINTThenResume: Ctrl-C during training exits with 130 and says how to
// resume; every run it stopped is interrupted with a checkpoint at the step
// it reached; the same command then finishes the sweep exactly as if it had
// never been stopped.
func TestSIGINTThenResume(t *testing.T) {
	ref := referenceSweep(t, killSpec, nil)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "s.yaml"), []byte(killSpec), 0o644)
	// Checkpoints only at the end, so that the one Ctrl-C leaves is its own.
	cmd := exec.Command(binary, "run", "s.yaml", "--workers", "2", "--checkpoint-every", "100")
	cmd.Dir = dir
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "vaelab.db")
	for deadline := time.Now().Add(time.Minute); countRows(t, db, "SELECT count(*) FROM metrics WHERE key='test/elbo'") < 2; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no epoch finished within a minute")
		}
	}
	cmd.Process.Signal(os.Interrupt)
	err := cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 130 || !strings.Contains(out.String(), "run `vaelab run s.yaml` again to resume") {
		t.Fatalf("after Ctrl-C: %v\n%s", err, out.String())
	}
	stopped := countRows(t, db, "SELECT count(*) FROM runs WHERE status='interrupted'")
	withCheckpoint := countRows(t, db, "SELECT count(*) FROM runs r WHERE status='interrupted' AND steps > 0 AND EXISTS (SELECT 1 FROM artifacts a WHERE a.run_id=r.id AND a.kind='checkpoint')")
	if stopped == 0 || withCheckpoint != stopped || countRows(t, db, "SELECT count(*) FROM runs WHERE status='running'") != 0 {
		t.Fatalf("%d runs interrupted, %d of them with a checkpoint\n%s", stopped, withCheckpoint, out.String())
	}
	again := vaelab(t, dir, nil, "run", "s.yaml", "--workers", "2", "--checkpoint-every", "100")
	if again.code != 0 || !strings.Contains(again.stdout, "resumed from the checkpoint") {
		t.Fatalf("second run: exit %d\n%s%s", again.code, again.stdout, again.stderr)
	}
	assertSameAsReference(t, filepath.Join(ref, "vaelab.db"), db, "killme")
}
