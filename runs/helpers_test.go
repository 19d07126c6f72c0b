package runs

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vaelab/vaelab/experiments"
)

// tinySpec is a spec small enough to train in well under a second per run.
const tinySpec = `
name: tiny
dataset: {name: synthetic, size: 10, count: 120, test_fraction: 0.25}
model: {hidden: [8], latent: 2}
train: {epochs: 2, batch_size: 30}
eval: {batch_size: 30, grid_images: 8}
seeds: [1]
`

// fourEpochs is tinySpec trained for 4 epochs of 3 steps, checkpointing after each.
var fourEpochs = strings.Replace(tinySpec, "train: {epochs: 2, batch_size: 30}", "train: {epochs: 4, batch_size: 30}", 1)

// stopAtStep prepares spec and runs it until the sweep's k-th training step,
// then cancels it, as Ctrl-C would.
func stopAtStep(t *testing.T, sc *Scheduler, spec string, k int) Result {
	t.Helper()
	s, rs := parseSpec(t, spec)
	p, err := sc.Prepare(context.Background(), s, rs)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	steps := 0
	sc.OnStep = func() {
		if steps++; steps == k {
			cancel()
		}
	}
	defer func() { sc.OnStep = nil }()
	return sc.Execute(ctx, p)
}

func parseSpec(t *testing.T, text string) (*experiments.Spec, []experiments.Run) {
	t.Helper()
	spec, err := experiments.Parse([]byte(text), "test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	rs, err := spec.Expand()
	if err != nil {
		t.Fatal(err)
	}
	return spec, rs
}

func openTemp(t *testing.T) (*Store, string) {
	t.Helper()
	dir := t.TempDir()
	st, err := Open(context.Background(), filepath.Join(dir, "vaelab.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st, dir
}

func newScheduler(st *Store, dir string) *Scheduler {
	return &Scheduler{Store: st, Workers: 2, DataDir: filepath.Join(dir, "no-data"), RunsDir: filepath.Join(dir, "runs")}
}

// runSpec prepares and executes a spec, failing the test on errors.
func runSpec(t *testing.T, sc *Scheduler, text string) (*Plan, Result) {
	t.Helper()
	spec, rs := parseSpec(t, text)
	p, err := sc.Prepare(context.Background(), spec, rs)
	if err != nil {
		t.Fatal(err)
	}
	return p, sc.Execute(context.Background(), p)
}

func statuses(t *testing.T, st *Store, experiment string) map[string]RunInfo {
	t.Helper()
	rs, err := st.Runs(context.Background(), experiment)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]RunInfo{}
	for _, r := range rs {
		out[r.Label] = r
	}
	return out
}
