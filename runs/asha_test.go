package runs

import (
	"context"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
)

// ashaSpec: three configurations of one seed, rungs at epoch 1, eta 3: the
// third to reach the rung makes the first promotion, which trains to epoch 4.
var ashaSpec = strings.Replace(fourEpochs, "seeds: [1]\n", `seeds: [1]
sweep:
  grid:
    - {key: objective.beta, values: [0.5, 1, 2]}
  early_stop: {rungs: [1], eta: 3, decisions: async}
`, 1)

// lineWatch calls fn on every log line that contains what.
type lineWatch struct {
	what string
	fn   func()
}

func (w lineWatch) Write(p []byte) (int, error) {
	if strings.Contains(string(p), w.what) {
		w.fn()
	}
	return len(p), nil
}

// Defect 2 of issue 28: ASHA stopped (Ctrl-C or a kill) while a promoted
// configuration trains past its rung left that run interrupted for good:
// every rerun trained nothing. The rerun must resume it from its checkpoint
// to the end, evaluated, with the curves of a sweep never stopped.
func TestASHAResumesAPromotedRunAfterAStop(t *testing.T) {
	ref, refDir := openTemp(t)
	refSc := newScheduler(ref, refDir)
	refSc.Workers = 1
	if _, res := runSpec(t, refSc, ashaSpec); res.Done != 1 || res.EarlyStopped != 2 {
		t.Fatalf("uninterrupted sweep: %+v, want 1 done and 2 stopped", res)
	}

	st, dir := openTemp(t)
	sc := newScheduler(st, dir)
	sc.Workers = 1
	spec, rs := parseSpec(t, ashaSpec)
	p, err := sc.Prepare(context.Background(), spec, rs)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var promoted atomic.Bool
	var after atomic.Int32
	sc.Log = lineWatch{"asha        promoted", func() { promoted.Store(true) }}
	sc.OnStep = func() {
		// Epoch 1 ends at step 3: stop in the promoted run's third epoch.
		if promoted.Load() && after.Add(1) == 4 {
			cancel()
		}
	}
	if res := sc.Execute(ctx, p); res.Interrupted != 1 {
		t.Fatalf("stopped sweep: %+v, want 1 interrupted", res)
	}
	sc.OnStep, sc.Log = nil, nil

	p, res := runSpec(t, sc, ashaSpec)
	if res.Done != 1 {
		t.Errorf("rerun: %+v (%s), want the promoted run done", res, p.Note)
	}
	want, got := statuses(t, ref, "tiny"), statuses(t, st, "tiny")
	for label, w := range want {
		g := got[label]
		if g.Status != w.Status {
			t.Errorf("%s: %s after the rerun, %s in the sweep never stopped", label, g.Status, w.Status)
		}
		if w.Status != StatusDone {
			continue
		}
		evals, _ := st.Evaluations(context.Background(), g.ID)
		if len(evals) != 1 {
			t.Errorf("%s: %d evaluations, want 1", label, len(evals))
		}
		ma, _ := ref.Metrics(context.Background(), w.ID)
		mb, _ := st.Metrics(context.Background(), g.ID)
		for key := range ma {
			if !slices.Equal(ma[key], mb[key]) {
				t.Errorf("%s: %s differs from the sweep never stopped", label, key)
			}
		}
	}
}
