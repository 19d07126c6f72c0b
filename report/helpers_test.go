package report

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"runtime"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/vaelab/vaelab/experiments"
	"github.com/vaelab/vaelab/metrics"
	"github.com/vaelab/vaelab/record"
	"github.com/vaelab/vaelab/vae"
)

// fakeStore is a workspace's records held in memory: the report's tests
// render from values, with no database. It answers record.Reader as the
// store does for what it holds (training summaries, no evaluations or
// artifacts unless a test adds them).
type fakeStore struct {
	exps   map[string]record.ExperimentInfo
	order  []string                     // experiment names, as recorded
	runs   map[string][]*record.RunInfo // by experiment, in expansion order
	series map[string]map[string][]record.Point
	sums   map[string]map[string]record.Summary
	events []record.Event
	tags   map[record.Target]map[string]string
	notes  map[record.Target][]record.Note
	arts   map[string]map[string]record.Artifact
}

var _ record.Reader = (*fakeStore)(nil)

func newFakeStore() *fakeStore {
	return &fakeStore{
		exps:   map[string]record.ExperimentInfo{},
		runs:   map[string][]*record.RunInfo{},
		series: map[string]map[string][]record.Point{},
		sums:   map[string]map[string]record.Summary{},
		tags:   map[record.Target]map[string]string{},
		notes:  map[record.Target][]record.Note{},
		arts:   map[string]map[string]record.Artifact{},
	}
}

// stamp is the fake's clock, fixed so that its records carry the same
// plausible times on every run of a test.
func stamp() time.Time { return time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC) }

// metricRow is one metric value at a step, as training writes it.
type metricRow struct {
	Step, Epoch int
	Key         string
	Value       float64
}

// record stores the experiment of spec and its runs, pending.
func (f *fakeStore) record(s *experiments.Spec, rs []experiments.Run) {
	t := stamp().Format(time.RFC3339Nano)
	if _, ok := f.exps[s.Name]; !ok {
		f.order = append(f.order, s.Name)
	}
	f.exps[s.Name] = record.ExperimentInfo{Experiment: record.Experiment{
		Name: s.Name, Description: s.Description, SpecText: string(s.Text), SpecHash: s.Hash,
		Provenance: record.Provenance{Version: "0.1.0-dev", GoVersion: runtime.Version(), BLAS: "gonum", Host: "fake"},
		CreatedAt:  t, StartedAt: t,
	}}
	f.runs[s.Name] = nil
	for _, r := range rs {
		f.runs[s.Name] = append(f.runs[s.Name], &record.RunInfo{
			ID: r.ID, Experiment: s.Name, Label: r.Label(), Variant: r.Variant, Varying: r.Varying(),
			Seed: r.Config.Seed, Status: record.StatusPending, Config: string(r.Config.Canonical()),
			EvalHash: r.Config.EvalHash(), InSpec: true, CreatedAt: stamp(),
		})
	}
}

// run finds a run by id.
func (f *fakeStore) run(id string) *record.RunInfo {
	for _, rs := range f.runs {
		for _, r := range rs {
			if r.ID == id {
				return r
			}
		}
	}
	return nil
}

// WriteMetrics adds points to a run's series (replacing those at the same
// step) and raises its step count, as training's writes do.
func (f *fakeStore) WriteMetrics(_ context.Context, runID string, rows []metricRow) error {
	r := f.run(runID)
	if r == nil {
		return fmt.Errorf("no run %s", runID)
	}
	if f.series[runID] == nil {
		f.series[runID] = map[string][]record.Point{}
	}
	touched := map[string]bool{}
	for _, m := range rows {
		pts := f.series[runID][m.Key]
		if i := slices.IndexFunc(pts, func(p record.Point) bool { return p.Step == m.Step }); i >= 0 {
			pts = slices.Delete(pts, i, i+1)
		}
		f.series[runID][m.Key] = append(pts, record.Point{Step: m.Step, Epoch: m.Epoch, Value: m.Value})
		touched[m.Key] = true
		r.Steps = max(r.Steps, m.Step)
	}
	for k := range touched {
		sort.SliceStable(f.series[runID][k], func(i, j int) bool { return f.series[runID][k][i].Step < f.series[runID][k][j].Step })
	}
	return nil
}

// PutSummaries stores final values of a run's training, replacing earlier
// ones of the same key.
func (f *fakeStore) PutSummaries(_ context.Context, runID string, sums []record.Summary) error {
	if f.sums[runID] == nil {
		f.sums[runID] = map[string]record.Summary{}
	}
	for _, s := range sums {
		f.sums[runID][s.Key] = s
	}
	return nil
}

// finish ends a run as the store does: its status, and a warning event
// unless it is done.
func (f *fakeStore) finish(runID, status, msg string, divergedStep, steps int) {
	r := f.run(runID)
	r.Status, r.Error, r.DivergedStep, r.Steps = status, msg, divergedStep, steps
	r.Owner, r.Host, r.BLAS, r.Version, r.Attempts = "fake/1", "fake", "gonum", "0.1.0-dev", 1
	r.StartedAt, r.FinishedAt, r.HeartbeatAt = stamp(), stamp().Add(5*time.Second), stamp().Add(5*time.Second)
	if status != record.StatusDone {
		f.events = append(f.events, record.Event{Time: stamp().Format(time.RFC3339Nano), RunID: runID, Level: "warn", Kind: status, Message: msg})
	}
}

// SetTags sets (or, for an empty value, removes) tags on a target.
func (f *fakeStore) SetTags(_ context.Context, t record.Target, kv map[string]string) error {
	if f.tags[t] == nil {
		f.tags[t] = map[string]string{}
	}
	for k, v := range kv {
		if v == "" {
			delete(f.tags[t], k)
			continue
		}
		f.tags[t][k] = v
	}
	return nil
}

// AddNote appends a note to a target.
func (f *fakeStore) AddNote(_ context.Context, t record.Target, text string) error {
	f.notes[t] = append(f.notes[t], record.Note{Time: stamp().Format(time.RFC3339Nano), Text: text})
	return nil
}

func (f *fakeStore) ListExperiments(ctx context.Context, o record.ListOptions) ([]record.ExperimentInfo, error) {
	var out []record.ExperimentInfo
	for _, n := range f.order {
		if o.Archived {
			continue // the fake archives nothing
		}
		if o.Tag != "" {
			if keep, _ := f.OnlyTagged(ctx, n, o.Tag, f.infos(n)); len(keep) == 0 {
				continue
			}
		}
		e, _ := f.Experiment(ctx, n)
		out = append(out, e)
	}
	return out, nil
}

func (f *fakeStore) Experiment(_ context.Context, name string) (record.ExperimentInfo, error) {
	e, ok := f.exps[name]
	if !ok {
		return e, fmt.Errorf("no experiment named %q (vaelab ls lists them)", name)
	}
	e.Counts, e.RunCount, e.NotInSpec = map[string]int{}, 0, 0
	for _, r := range f.runs[name] {
		if !r.InSpec {
			e.NotInSpec++
			continue
		}
		e.Counts[r.Status]++
		e.RunCount++
	}
	return e, nil
}

// infos copies an experiment's runs.
func (f *fakeStore) infos(experiment string) []record.RunInfo {
	out := make([]record.RunInfo, 0, len(f.runs[experiment]))
	for _, r := range f.runs[experiment] {
		c := *r
		c.Varying = maps.Clone(r.Varying)
		out = append(out, c)
	}
	return out
}

func (f *fakeStore) Runs(_ context.Context, experiment string) ([]record.RunInfo, error) {
	return f.infos(experiment), nil
}

func (f *fakeStore) OnlyTagged(_ context.Context, experiment, tag string, rs []record.RunInfo) ([]record.RunInfo, error) {
	if tag == "" {
		return rs, nil
	}
	k, v, ok := strings.Cut(tag, "=")
	if !ok || k == "" || v == "" {
		return nil, fmt.Errorf("tag %q: write key=value", tag)
	}
	onExperiment := f.tags[record.Target{Kind: "experiment", ID: experiment}][k] == v
	keep := slices.DeleteFunc(slices.Clone(rs), func(r record.RunInfo) bool {
		return !onExperiment && f.tags[record.Target{Kind: "run", ID: r.ID}][k] != v
	})
	if len(keep) == 0 {
		return nil, fmt.Errorf("no run of %s is tagged %s", experiment, tag)
	}
	return keep, nil
}

func (f *fakeStore) Metrics(_ context.Context, runID string) (map[string][]record.Point, error) {
	out := map[string][]record.Point{}
	for k, pts := range f.series[runID] {
		out[k] = slices.Clone(pts)
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
	for _, r := range f.runs[experiment] {
		if len(f.sums[r.ID]) > 0 {
			out[r.ID] = maps.Clone(f.sums[r.ID])
		}
	}
	return out, nil
}

func (f *fakeStore) Evaluations(context.Context, string) ([]record.Evaluation, error) {
	return nil, nil
}

func (f *fakeStore) ArtifactsAt(_ context.Context, runID, _ string) (map[string]record.Artifact, error) {
	out := maps.Clone(f.arts[runID])
	if out == nil {
		out = map[string]record.Artifact{}
	}
	return out, nil
}

func (f *fakeStore) Events(_ context.Context, experiment, runID string) ([]record.Event, error) {
	var out []record.Event
	for _, e := range f.events {
		if (runID != "" && e.RunID == runID) || (runID == "" && e.RunID == "" && e.Experiment == experiment) {
			out = append(out, e)
		}
	}
	return out, nil
}

func (f *fakeStore) Tags(_ context.Context, t record.Target) (map[string]string, error) {
	out := maps.Clone(f.tags[t])
	if out == nil {
		out = map[string]string{}
	}
	return out, nil
}

func (f *fakeStore) Notes(_ context.Context, t record.Target) ([]record.Note, error) {
	return slices.Clone(f.notes[t]), nil
}

// configNumber reads a numeric key of a run's canonical config, such as
// "objective.beta"; def when the config has none.
func configNumber(tb testing.TB, canonical []byte, key string, def float64) float64 {
	tb.Helper()
	var v any
	if err := json.Unmarshal(canonical, &v); err != nil {
		tb.Fatal(err)
	}
	for _, part := range strings.Split(key, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return def
		}
		v = m[part]
	}
	if x, ok := v.(float64); ok {
		return x
	}
	return def
}

// fakeExperiment records the runs of spec in a fake store as if they had
// trained: steps steps of curves and plausible final values drawn from
// seed. Runs of the variant named "unstable" diverge. No model is trained.
func fakeExperiment(tb testing.TB, spec string, steps int, seed uint64) (*fakeStore, string) {
	tb.Helper()
	ctx := context.Background()
	st := newFakeStore()
	s, err := experiments.Parse([]byte(spec), "fake.yaml")
	if err != nil {
		tb.Fatal(err)
	}
	rs, err := s.Expand()
	if err != nil {
		tb.Fatal(err)
	}
	st.record(s, rs)
	rng := rand.New(rand.NewPCG(seed, 1))
	id := metrics.ExtractorID()
	for _, r := range rs {
		beta := configNumber(tb, r.Config.Canonical(), "objective.beta", 1)
		rows := make([]metricRow, 0, steps*3)
		for step := 1; step <= steps; step++ {
			loss := 500 + 200/float64(step) + rng.NormFloat64()
			rows = append(rows, metricRow{Step: step, Epoch: 1 + step*5/steps, Key: vae.KeyLoss, Value: loss},
				metricRow{Step: step, Epoch: 1 + step*5/steps, Key: vae.KeyKL, Value: 10 / beta},
				metricRow{Step: step, Epoch: 1 + step*5/steps, Key: vae.KeyRecon, Value: loss - 10})
		}
		if err := st.WriteMetrics(ctx, r.ID, rows); err != nil {
			tb.Fatal(err)
		}
		sums := []record.Summary{
			{Key: "test/elbo", Value: -490 - 3*beta + rng.NormFloat64(), Protocol: "p"},
			{Key: "test/iwae", Value: -488 - 3*beta + rng.NormFloat64(), Protocol: "p"},
			{Key: "test/kl", Value: 10 / beta, Protocol: "p"},
			{Key: "test/recon", Value: 480 + beta + rng.NormFloat64(), Protocol: "p"},
			{Key: "samples/fd_" + id, Value: 0.5/beta + 0.01*rng.Float64(), Protocol: "p"},
			{Key: "samples/kid_" + id, Value: 0.005/beta + 1e-4*rng.Float64(), Protocol: "p"},
			{Key: "samples/sharpness_laplacian", Value: 0.4 + 0.1*rng.Float64(), Protocol: "p"},
			{Key: "recon/sharpness_laplacian", Value: 0.5 + 0.1*rng.Float64(), Protocol: "p"},
			{Key: "posterior/active_units", Value: float64(rng.IntN(16)), Protocol: "p"},
			{Key: "stability/loss_spikes", Value: float64(rng.IntN(2)), Protocol: "p"},
		}
		if err := st.PutSummaries(ctx, r.ID, sums); err != nil {
			tb.Fatal(err)
		}
		if r.Variant == "unstable" {
			st.finish(r.ID, record.StatusDiverged, "train/loss is not finite at step 7", 7, 7)
		} else {
			st.finish(r.ID, record.StatusDone, "", 0, steps)
		}
	}
	return st, s.Name
}
