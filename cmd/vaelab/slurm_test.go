package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vaelab/vaelab/internal/testenv"
)

// startSlurm brings up the single-node test cluster of
// scripts/slurm-test-cluster.sh and returns the environment that points
// Slurm's commands at it. Without root or the packages the test is skipped,
// except under CI, where it fails with the script's (and daemons') errors.
func startSlurm(t *testing.T) []string {
	t.Helper()
	testenv.Full(t, "Slurm: a one-node cluster trains, cancels, detaches and syncs sweeps")
	need := func(why string) {
		if testenv.InCI() {
			t.Fatalf("the Slurm integration test cannot run: %s (.ci/run installs slurm-wlm and munge and runs as root)", why)
		}
		t.Skipf("skipping the Slurm integration test: %s (needs root and apt-get install -y slurm-wlm munge)", why)
	}
	if os.Geteuid() != 0 {
		need("not root")
	}
	for _, b := range []string{"munged", "slurmctld", "slurmd", "sbatch"} {
		if _, err := exec.LookPath(b); err != nil {
			need(b + " is not installed")
		}
	}
	dir := t.TempDir()
	script := abs(t, "../../scripts/slurm-test-cluster.sh")
	out, err := exec.Command(script, "up", dir).CombinedOutput()
	if err != nil {
		exec.Command(script, "down", dir).Run()
		t.Fatalf("the Slurm test cluster did not start: %v\n%s", err, out)
	}
	env := []string{"SLURM_CONF=" + filepath.Join(dir, "slurm.conf")}
	t.Cleanup(func() {
		// Leave no job behind for the next test, then stop the daemons.
		withEnv(exec.Command("scancel", "--user=root"), env).Run()
		exec.Command(script, "down", dir).Run()
	})
	return env
}

func withEnv(cmd *exec.Cmd, env []string) *exec.Cmd {
	cmd.Env = append(os.Environ(), env...)
	return cmd
}

// TestSlurmSweepMatchesLocal runs a 4-run sweep through a real Slurm cluster
// and checks the main database against a local run of the same spec: the
// same run ids and statuses, curves and final figures.
func TestSlurmSweepMatchesLocal(t *testing.T) {
	env := startSlurm(t)
	spec := "name: slurmy\ndataset: {name: synthetic, size: 16, count: 300, test_fraction: 0.2}\nmodel: {hidden: [32], latent: 4}\ntrain: {epochs: 3, batch_size: 20}\neval: {batch_size: 60, grid_images: 8, samples: 60}\nseeds: [1, 2, 3, 4]\n"
	local, cluster := t.TempDir(), t.TempDir()
	for _, d := range []string{local, cluster} {
		os.WriteFile(filepath.Join(d, "s.yaml"), []byte(spec), 0o644)
	}
	if r := vaelab(t, local, nil, "run", "s.yaml"); r.code != 0 {
		t.Fatalf("local sweep: %s%s", r.stdout, r.stderr)
	}
	r := vaelab(t, cluster, env, "run", "s.yaml", "--executor", "slurm", "--poll", "500ms", "--cpus-per-task", "1")
	if r.code != 0 || !strings.Contains(r.stdout, "submitted 4 runs as job array") || strings.Count(r.stdout, "done        ") != 4 {
		t.Fatalf("slurm sweep: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	assertSameAsReference(t, filepath.Join(local, "vaelab.db"), filepath.Join(cluster, "vaelab.db"), "slurmy")
	// Running it again submits nothing.
	if again := vaelab(t, cluster, env, "run", "s.yaml", "--executor", "slurm"); again.code != 0 || strings.Contains(again.stdout, "submitted") {
		t.Fatalf("second run: exit %d\n%s%s", again.code, again.stdout, again.stderr)
	}
}

// TestSlurmCancelledTaskResumes cancels one task with scancel mid-run: its run
// is marked interrupted, running the spec again submits only that run, which
// resumes from its checkpoint and ends as a run never stopped would.
func TestSlurmCancelledTaskResumes(t *testing.T) {
	env := startSlurm(t)
	spec := "name: cancelme\ndataset: {name: synthetic, size: 16, count: 600, test_fraction: 0.2}\nmodel: {hidden: [64], latent: 4}\ntrain: {epochs: 120, batch_size: 20}\neval: {batch_size: 60, grid_images: 8, samples: 60}\nseeds: [1, 2]\n"
	local, cluster := t.TempDir(), t.TempDir()
	for _, d := range []string{local, cluster} {
		os.WriteFile(filepath.Join(d, "s.yaml"), []byte(spec), 0o644)
	}
	cmd := exec.Command(binary, "run", "s.yaml", "--executor", "slurm", "--poll", "500ms")
	cmd.Dir, cmd.Env = cluster, append(os.Environ(), env...)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Once the second run has a checkpoint, cancel its task.
	var job string
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("no checkpoint within 2 minutes\n%s", out.String())
		}
		ids, _ := filepath.Glob(filepath.Join(cluster, "vaelab-runs", "slurm", "*", "job_id"))
		ckpts, _ := filepath.Glob(filepath.Join(cluster, "vaelab-runs", "*", "checkpoint.vck"))
		if len(ids) == 1 && len(ckpts) == 2 {
			b, _ := os.ReadFile(ids[0])
			job = strings.TrimSpace(string(b))
			break
		}
	}
	if b, err := withEnv(exec.Command("scancel", job+"_1"), env).CombinedOutput(); err != nil {
		t.Fatalf("scancel %s_1: %v %s", job, err, b)
	}
	err := cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 130 || !strings.Contains(out.String(), "ended CANCELLED; run the spec again to resume from its checkpoint") {
		t.Fatalf("after scancel: %v\n%s", err, out.String())
	}
	db := filepath.Join(cluster, "vaelab.db")
	if n := countRows(t, db, "SELECT count(*) FROM runs WHERE status='interrupted' AND steps > 0"); n != 1 {
		t.Fatalf("%d interrupted runs with steps, want 1\n%s", n, out.String())
	}
	again := vaelab(t, cluster, env, "run", "s.yaml", "--executor", "slurm", "--poll", "500ms")
	if again.code != 0 || !strings.Contains(again.stdout, "submitted 1 run as job array") {
		t.Fatalf("second run: exit %d\n%s%s", again.code, again.stdout, again.stderr)
	}
	logs, _ := filepath.Glob(filepath.Join(cluster, "vaelab-runs", "slurm", "*", "task-0.log"))
	resumed := false
	for _, l := range logs {
		b, _ := os.ReadFile(l)
		resumed = resumed || strings.Contains(string(b), "resumed from the checkpoint")
	}
	if !resumed {
		t.Fatal("the resubmitted task did not resume from the checkpoint")
	}
	if r := vaelab(t, local, nil, "run", "s.yaml", "--workers", "2"); r.code != 0 {
		t.Fatalf("local sweep: %s%s", r.stdout, r.stderr)
	}
	assertSameAsReference(t, filepath.Join(local, "vaelab.db"), db, "cancelme")
}

// TestSlurmDetachThenSync: Ctrl-C on the submitting vaelab stops waiting but
// leaves the job running; `vaelab sync --wait` imports the runs when their
// tasks end.
func TestSlurmDetachThenSync(t *testing.T) {
	env := startSlurm(t)
	dir := t.TempDir()
	spec := "name: detach\ndataset: {name: synthetic, size: 16, count: 600, test_fraction: 0.2}\nmodel: {hidden: [64], latent: 4}\ntrain: {epochs: 30, batch_size: 20}\neval: {batch_size: 60, grid_images: 8, samples: 60}\nseeds: [1, 2]\n"
	os.WriteFile(filepath.Join(dir, "s.yaml"), []byte(spec), 0o644)
	cmd := withEnv(exec.Command(binary, "run", "s.yaml", "--executor", "slurm", "--poll", "500ms"), env)
	cmd.Dir = dir
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(time.Minute); !strings.Contains(out.String(), "submitted 2 runs"); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("nothing submitted within a minute\n%s", out.String())
		}
	}
	cmd.Process.Signal(os.Interrupt)
	err := cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 130 || !strings.Contains(out.String(), "vaelab sync s.yaml --wait") {
		t.Fatalf("after Ctrl-C: %v\n%s", err, out.String())
	}
	db := filepath.Join(dir, "vaelab.db")
	if n := countRows(t, db, "SELECT count(*) FROM runs WHERE status='running' AND owner LIKE 'slurm:%'"); n != 2 {
		t.Fatalf("%d runs still owned by Slurm after detaching, want 2\n%s", n, out.String())
	}
	// A local sweep of the same spec leaves Slurm's runs alone.
	if r := vaelab(t, dir, env, "run", "s.yaml"); r.code != 0 || !strings.Contains(r.stdout, "2 running in another process (left alone)") {
		t.Fatalf("local run while Slurm trains: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	sync := vaelab(t, dir, env, "sync", "s.yaml", "--wait", "--poll", "500ms")
	if sync.code != 0 || !strings.Contains(sync.stdout, "imported: 2 done") {
		t.Fatalf("sync: exit %d\n%s%s", sync.code, sync.stdout, sync.stderr)
	}
	if n := countRows(t, db, "SELECT count(*) FROM runs WHERE status='done'"); n != 2 {
		t.Fatalf("%d runs done after sync", n)
	}
}

// TestSlurmEarlyStopMatchesLocal: successive halving through Slurm, a job
// array per phase with the decisions made by the submitting process, stops
// and finishes the same runs, for the same reasons and with the same curves,
// as the local pool.
func TestSlurmEarlyStopMatchesLocal(t *testing.T) {
	env := startSlurm(t)
	spec := "name: search\ndataset: {name: synthetic, size: 16, count: 300, test_fraction: 0.2}\nmodel: {hidden: [32], latent: 4}\n" +
		"train: {epochs: 3, batch_size: 20}\neval: {batch_size: 60, grid_images: 8, samples: 60}\nseeds: [1]\n" +
		"sweep:\n  random: {trials: 4, seed: 2, params: {train.learning_rate: {log_uniform: [0.0003, 0.03]}}}\n  early_stop: {rungs: [1], eta: 2}\n"
	local, cluster := t.TempDir(), t.TempDir()
	for _, d := range []string{local, cluster} {
		os.WriteFile(filepath.Join(d, "s.yaml"), []byte(spec), 0o644)
	}
	if r := vaelab(t, local, nil, "run", "s.yaml"); r.code != 0 {
		t.Fatalf("local sweep: %s%s", r.stdout, r.stderr)
	}
	r := vaelab(t, cluster, env, "run", "s.yaml", "--executor", "slurm", "--poll", "500ms", "--cpus-per-task", "1")
	if r.code != 0 || !strings.Contains(r.stdout, "submitted 4 runs as job array") || !strings.Contains(r.stdout, "submitted 2 runs as job array") {
		t.Fatalf("slurm sweep: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	want, got := outcomeOf(t, local, "search"), outcomeOf(t, cluster, "search")
	if len(want) != 4 {
		t.Fatalf("local sweep: %v", want)
	}
	for id, s := range want {
		if got[id] != s {
			t.Errorf("run %s: %q on Slurm, %q locally", id, got[id], s)
		}
	}
	finishedSameIn(t, local, cluster, want)
}
