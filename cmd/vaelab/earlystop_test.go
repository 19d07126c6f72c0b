package main

import (
	"context"
	"fmt"
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

const searchSpec = `name: search
dataset: {name: synthetic, size: 16, count: 600, test_fraction: 0.2}
model: {hidden: [64], latent: 3}
train: {epochs: 6, batch_size: 20}
eval: {batch_size: 60, grid_images: 8, samples: 60}
seeds: [1, 2]
sweep:
  random:
    trials: 9
    seed: 4
    method: sobol
    params:
      train.learning_rate: {log_uniform: [0.0003, 0.03]}
      objective.beta: {uniform: [0.5, 2]}
  early_stop: {rungs: [1, 3], eta: ETA}
`

// outcome is each run's final status and, for stopped runs, the reason.
func outcome(t *testing.T, dir string) map[string]string {
	t.Helper()
	return outcomeOf(t, dir, "search")
}

func outcomeOf(t *testing.T, dir, experiment string) map[string]string {
	t.Helper()
	st := openRO(t, filepath.Join(dir, "vaelab.db"))
	rs, err := st.Runs(context.Background(), experiment)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, r := range rs {
		out[r.ID] = r.Status
		if r.Status == runs.StatusStopped {
			out[r.ID] += ": " + r.Error
		}
	}
	return out
}

// Successive halving decides the same after 5 SIGKILLs at random moments
// and restarts as in a sweep never killed: the same runs stopped, at the same
// rungs, for the same reasons, and the finished ones with the same curves;
// no run is promoted, and doctor finds the store consistent. Running the
// spec again with a smaller eta promotes stopped runs, which then end with
// the series of a run never stopped.
func TestEarlyStopDecidesTheSameAfterKills(t *testing.T) {
	testenv.Full(t, "successive halving killed at every rung decides as uninterrupted")
	spec := strings.Replace(searchSpec, "ETA", "3", 1)
	ref := referenceSweep(t, spec, nil)
	want := outcome(t, ref)
	stopped := 0
	for _, s := range want {
		if strings.HasPrefix(s, runs.StatusStopped) {
			stopped++
		}
	}
	if stopped != 16 { // 9 configurations → 3 → 1, two seeds each: 2 runs go on to the end
		t.Fatalf("%d of 18 runs stopped, want 16: %v", stopped, want)
	}

	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "s.yaml"), []byte(spec), 0o644)
	rng := rand.New(rand.NewPCG(3, 3))
	for kill := range 5 {
		cmd := exec.Command(binary, "run", "s.yaml", "--workers", "2")
		cmd.Dir = dir
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(50+rng.IntN(700)) * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		db := filepath.Join(dir, "vaelab.db")
		t.Logf("kill %d: %d runs paused, %d stopped, %d done, %d metric rows", kill+1,
			countRows(t, db, "SELECT count(*) FROM runs WHERE status='paused'"), countRows(t, db, "SELECT count(*) FROM runs WHERE status='stopped'"),
			countRows(t, db, "SELECT count(*) FROM runs WHERE status='done'"), countRows(t, db, "SELECT count(*) FROM metrics"))
	}
	if r := vaelab(t, dir, nil, "run", "s.yaml", "--workers", "2"); r.code != 0 {
		t.Fatalf("run after the kills: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	got := outcome(t, dir)
	for id, s := range want {
		if got[id] != s {
			t.Errorf("run %s: %q after the kills, %q in the sweep never killed", id, got[id], s)
		}
	}
	db := filepath.Join(dir, "vaelab.db")
	if n := countRows(t, db, "SELECT count(*) FROM events WHERE kind='promoted'"); n != 0 {
		t.Errorf("%d promotions under an unchanged budget", n)
	}
	if r := vaelab(t, dir, nil, "doctor"); r.code != 0 {
		t.Errorf("doctor after the kills: exit %d\n%s", r.code, r.stdout)
	}
	finishedSame(t, ref, dir, want)
	if r := vaelab(t, dir, nil, "report", "search", "-o", "r.html"); r.code != 0 {
		t.Fatalf("report: %s", r.stderr)
	}
	page, _ := os.ReadFile(filepath.Join(dir, "r.html"))
	for _, want := range []string{"<td>rung 1: epoch 1</td><td>9</td><td>6</td><td>3</td>", "<td>rung 2: epoch 3</td><td>3</td><td>2</td><td>1</td>", "Trials across the searched parameters", "test/elbo vs objective.beta (uniform)"} {
		if !strings.Contains(string(page), want) {
			t.Errorf("the report's search section lacks %q", want)
		}
	}

	// A larger budget: eta 2 keeps more at each rung.
	os.WriteFile(filepath.Join(dir, "s.yaml"), []byte(strings.Replace(searchSpec, "ETA", "2", 1)), 0o644)
	if r := vaelab(t, dir, nil, "run", "s.yaml", "--workers", "2"); r.code != 0 || !strings.Contains(r.stdout, "resume") {
		t.Fatalf("run with eta 2: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	promoted := countRows(t, db, "SELECT count(*) FROM events WHERE kind='promoted'")
	if promoted == 0 {
		t.Fatal("eta 2 promoted nothing")
	}
	// Each run promoted and finished equals an uninterrupted run of its config.
	whole := strings.Replace(strings.Replace(searchSpec, "  early_stop: {rungs: [1, 3], eta: ETA}\n", "", 1), "name: search", "name: search", 1)
	full := referenceSweep(t, whole, nil)
	a, b := openRO(t, filepath.Join(full, "vaelab.db")), openRO(t, db)
	rs, _ := b.Runs(context.Background(), "search")
	compared := 0
	for _, r := range rs {
		if r.Status != runs.StatusDone || !strings.HasPrefix(want[r.ID], runs.StatusStopped) {
			continue
		}
		ma, _ := a.Metrics(context.Background(), r.ID)
		mb, _ := b.Metrics(context.Background(), r.ID)
		for key := range ma {
			if !slices.Equal(ma[key], mb[key]) {
				t.Fatalf("promoted run %s: %s differs from an uninterrupted run", r.ID, key)
			}
		}
		compared++
	}
	if compared == 0 {
		t.Fatal("no promoted run finished")
	}
	t.Logf("%d promotion events; %d promoted runs finished equal to uninterrupted ones", promoted, compared)
}

// finishedSame: the runs done in both sweeps have the same curves.
func finishedSame(t *testing.T, refDir, dir string, want map[string]string) {
	t.Helper()
	finishedSameIn(t, refDir, dir, want)
}

func finishedSameIn(t *testing.T, refDir, dir string, want map[string]string) {
	t.Helper()
	a, b := openRO(t, filepath.Join(refDir, "vaelab.db")), openRO(t, filepath.Join(dir, "vaelab.db"))
	for id, s := range want {
		if s != runs.StatusDone {
			continue
		}
		ma, _ := a.Metrics(context.Background(), id)
		mb, _ := b.Metrics(context.Background(), id)
		for key := range ma {
			if !slices.Equal(ma[key], mb[key]) {
				t.Errorf("run %s: %s differs from the sweep never killed", id, key)
			}
		}
	}
}

// Asynchronous successive halving promotes configurations while others
// still train, logs each promotion with the ranks it compared, stops the
// rest once nothing qualifies, and leaves a consistent store.
func TestAsyncEarlyStopPromotesAndStops(t *testing.T) {
	dir := t.TempDir()
	spec := strings.Replace(strings.Replace(searchSpec, "ETA", "3", 1), "eta: 3}", "eta: 3, decisions: async}", 1)
	os.WriteFile(filepath.Join(dir, "s.yaml"), []byte(spec), 0o644)
	r := vaelab(t, dir, nil, "run", "s.yaml", "--workers", "2")
	if r.code != 0 || !strings.Contains(r.stdout, "asha        promoted from rung 1") {
		t.Fatalf("run: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	db := filepath.Join(dir, "vaelab.db")
	done, stopped := countRows(t, db, "SELECT count(*) FROM runs WHERE status='done'"), countRows(t, db, "SELECT count(*) FROM runs WHERE status='stopped'")
	if done == 0 || stopped == 0 || done+stopped != 18 {
		t.Fatalf("%d done and %d stopped of 18", done, stopped)
	}
	st := openRO(t, db)
	events, _ := st.Events(context.Background(), "", "")
	promotions := 0
	for _, e := range events {
		if e.Kind != "asha-promoted" {
			continue
		}
		promotions++
		var rung, epoch, rank, of, top int
		var metric string
		var v float64
		var seeds int
		if n, _ := fmtSscanf(e.Message, "promoted from rung %d (epoch %d): %s %g (mean over %d seeds) ranks %d of the %d configurations that completed the rung; the top %d qualify", &rung, &epoch, &metric, &v, &seeds, &rank, &of, &top); n != 8 || rank > top || top != of/3 {
			t.Errorf("promotion event %q: rank %d, top %d of %d", e.Message, rank, top, of)
		}
	}
	if promotions == 0 {
		t.Error("no promotion events")
	}
	t.Logf("%d done, %d stopped, %d promotion events (one per run of a promoted configuration)", done, stopped, promotions)
	if r := vaelab(t, dir, nil, "doctor"); r.code != 0 {
		t.Errorf("doctor: exit %d\n%s", r.code, r.stdout)
	}
	if again := vaelab(t, dir, nil, "run", "s.yaml", "--workers", "2"); again.code != 0 || strings.Contains(again.stdout, "done        ") {
		t.Errorf("a second run trained more: exit %d\n%s%s", again.code, again.stdout, again.stderr)
	}
}

func fmtSscanf(s, format string, args ...any) (int, error) { return fmt.Sscanf(s, format, args...) }
