package serve

import (
	"context"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vaelab/vaelab/experiments"
	"github.com/vaelab/vaelab/metrics"
	"github.com/vaelab/vaelab/record"
	"github.com/vaelab/vaelab/vae"
)

// fakeStore is a workspace held in memory: the view's tests need no
// database. Series are synthesised when read (steps points of keys keys
// per run, the same on every read), so that a fake of 10,000 runs costs no
// memory and the benchmark measures the server, not the fake.
type fakeStore struct {
	mu     sync.Mutex
	exp    record.ExperimentInfo
	runs   []record.RunInfo
	byID   map[string]int // index in runs
	sums   map[string]map[string]record.Summary
	arts   map[string]map[string]record.Artifact // by run, by kind
	steps  int
	keys   []string
	events []record.Event
}

var _ record.Reader = (*fakeStore)(nil)

// newFake records the runs of spec as trained for steps steps with nkeys
// series each, every run done.
func newFake(tb testing.TB, spec string, steps, nkeys int) *fakeStore {
	tb.Helper()
	s, err := experiments.Parse([]byte(spec), "fake.yaml")
	if err != nil {
		tb.Fatal(err)
	}
	rs, err := s.Expand()
	if err != nil {
		tb.Fatal(err)
	}
	t := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	f := &fakeStore{steps: steps, byID: map[string]int{}, sums: map[string]map[string]record.Summary{}, arts: map[string]map[string]record.Artifact{}}
	f.exp = record.ExperimentInfo{Experiment: record.Experiment{Name: s.Name, Description: "fake", SpecText: string(s.Text), SpecHash: s.Hash,
		Provenance: record.Provenance{Version: "test", GoVersion: "go", BLAS: "gonum", Host: "fake"}, CreatedAt: t.Format(time.RFC3339), StartedAt: t.Format(time.RFC3339)}}
	f.keys = []string{vae.KeyELBO, vae.KeyLoss, vae.KeyRecon, vae.KeyKL, vae.KeyGradNorm, vae.KeyBeta, vae.KeyLR, vae.KeyTestELBO, vae.KeyTestKL, vae.KeyTestRecon}
	for len(f.keys) < nkeys {
		f.keys = append(f.keys, fmt.Sprintf("train/extra_%d", len(f.keys)))
	}
	f.keys = f.keys[:nkeys]
	rng := rand.New(rand.NewPCG(1, 2))
	id := metrics.ExtractorID()
	for i, r := range rs {
		f.byID[r.ID] = len(f.runs)
		f.runs = append(f.runs, record.RunInfo{ID: r.ID, Experiment: s.Name, Label: r.Label(), Variant: r.Variant, Varying: r.Varying(), Seed: r.Config.Seed,
			Status: record.StatusDone, Steps: steps, Attempts: 1, Config: string(r.Config.Canonical()), EvalHash: r.Config.EvalHash(), InSpec: true,
			CreatedAt: t.Add(time.Duration(i) * time.Millisecond), StartedAt: t, FinishedAt: t.Add(time.Minute)})
		beta := float64(1 + i%7)
		f.sums[r.ID] = map[string]record.Summary{
			"test/elbo":          {Key: "test/elbo", Value: -490 - 3*beta + rng.NormFloat64(), Protocol: "p"},
			"test/kl":            {Key: "test/kl", Value: 10 / beta, Protocol: "p"},
			"test/recon":         {Key: "test/recon", Value: 480 + beta, Protocol: "p"},
			"samples/fd_" + id:   {Key: "samples/fd_" + id, Value: 0.5/beta + 0.01*rng.Float64(), Protocol: "p"},
			"samples/kid_" + id:  {Key: "samples/kid_" + id, Value: 0.005 / beta, Protocol: "p"},
			"posterior/active_u": {Key: "posterior/active_u", Value: 3, Protocol: "p"},
		}
	}
	return f
}

func (f *fakeStore) setStatus(id, status string, steps int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range f.runs {
		if f.runs[i].ID == id {
			f.runs[i].Status, f.runs[i].Steps = status, steps
		}
	}
}

func (f *fakeStore) ListExperiments(ctx context.Context, _ record.ListOptions) ([]record.ExperimentInfo, error) {
	e, _ := f.Experiment(ctx, f.exp.Name)
	return []record.ExperimentInfo{e}, nil
}

func (f *fakeStore) Experiment(_ context.Context, name string) (record.ExperimentInfo, error) {
	if name != f.exp.Name {
		return record.ExperimentInfo{}, fmt.Errorf("no experiment named %q", name)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	e := f.exp
	e.Counts = map[string]int{}
	for _, r := range f.runs {
		e.Counts[r.Status]++
		e.RunCount++
	}
	return e, nil
}

func (f *fakeStore) Runs(_ context.Context, experiment string) ([]record.RunInfo, error) {
	if experiment != f.exp.Name {
		return nil, fmt.Errorf("no experiment named %q", experiment)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.runs), nil
}

func (f *fakeStore) OnlyTagged(_ context.Context, _, _ string, rs []record.RunInfo) ([]record.RunInfo, error) {
	return rs, nil
}

func (f *fakeStore) run(id string) (record.RunInfo, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if i, ok := f.byID[id]; ok {
		return f.runs[i], true
	}
	return record.RunInfo{}, false
}

// Metrics synthesises a run's series: a falling loss with noise, the same
// for the same run on every read, up to the run's steps.
func (f *fakeStore) Metrics(_ context.Context, runID string) (map[string][]record.Point, error) {
	r, ok := f.run(runID)
	if !ok {
		return map[string][]record.Point{}, nil
	}
	var seed uint64
	for _, c := range runID {
		seed = seed*31 + uint64(c)
	}
	rng := rand.New(rand.NewPCG(seed, 7))
	out := make(map[string][]record.Point, len(f.keys))
	for k, key := range f.keys {
		pts := make([]record.Point, 0, r.Steps)
		for step := 1; step <= r.Steps; step++ {
			v := float64(k+1)*100 + 200/math.Sqrt(float64(step)) + rng.NormFloat64()
			if strings.HasSuffix(key, "elbo") {
				v = -v
			}
			pts = append(pts, record.Point{Step: step, Epoch: 1 + step*10/max(1, f.steps), Value: v})
		}
		out[key] = pts
	}
	return out, nil
}

func (f *fakeStore) Summaries(_ context.Context, runID string) (map[string]record.Summary, error) {
	return maps.Clone(f.sums[runID]), nil
}

func (f *fakeStore) SummariesAt(ctx context.Context, runID, _ string) (map[string]record.Summary, error) {
	return f.Summaries(ctx, runID)
}

func (f *fakeStore) ExperimentSummaries(_ context.Context, experiment string) (map[string]map[string]record.Summary, error) {
	out := map[string]map[string]record.Summary{}
	for _, r := range f.runs {
		out[r.ID] = maps.Clone(f.sums[r.ID])
	}
	return out, nil
}

func (f *fakeStore) Evaluations(_ context.Context, runID string) ([]record.Evaluation, error) {
	r, ok := f.run(runID)
	if !ok {
		return nil, nil
	}
	return []record.Evaluation{{Hash: r.EvalHash, Config: "{}", Seconds: 1, CreatedAt: time.Date(2026, 12, 1, 12, 1, 0, 0, time.UTC)}}, nil
}

func (f *fakeStore) ArtifactsAt(_ context.Context, runID, evalHash string) (map[string]record.Artifact, error) {
	out := map[string]record.Artifact{}
	for k, a := range f.arts[runID] {
		if a.EvalHash == "" || a.EvalHash == evalHash {
			out[k] = a
		}
	}
	return out, nil
}

func (f *fakeStore) Events(_ context.Context, _, runID string) ([]record.Event, error) {
	var out []record.Event
	for _, e := range f.events {
		if e.RunID == runID {
			out = append(out, e)
		}
	}
	return out, nil
}

func (f *fakeStore) Tags(context.Context, record.Target) (map[string]string, error) {
	return map[string]string{}, nil
}

func (f *fakeStore) Notes(context.Context, record.Target) ([]record.Note, error) { return nil, nil }
