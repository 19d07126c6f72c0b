package runs

import (
	"context"
	"path/filepath"
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
