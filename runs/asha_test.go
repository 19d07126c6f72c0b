package runs

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
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

// syncSpec is ashaSpec with synchronous halving: one configuration of three
// survives the rung at epoch 1, two are stopped there.
var syncSpec = strings.Replace(ashaSpec, ", decisions: async}", "}", 1)

// Defect 3 of issue 28: a search's early stopping belongs to the search. A
// full-budget spec with the same configurations (the same run ids) trains
// the runs the search stopped, resuming them from their checkpoints, and
// ends each with the curves of a run never stopped.
func TestFullBudgetSpecTrainsWhatASearchStopped(t *testing.T) {
	full := strings.Replace(strings.Replace(syncSpec, "  early_stop: {rungs: [1], eta: 3}\n", "", 1), "name: tiny", "name: baseline", 1)
	ref, refDir := openTemp(t)
	if _, res := runSpec(t, newScheduler(ref, refDir), full); res.Done != 3 {
		t.Fatalf("reference: %+v", res)
	}
	for _, decisions := range []string{"sync", "async"} {
		t.Run(decisions, func(t *testing.T) {
			st, dir := openTemp(t)
			sc := newScheduler(st, dir)
			search := syncSpec
			if decisions == "async" {
				search = ashaSpec
			}
			if _, res := runSpec(t, sc, search); res.EarlyStopped != 2 {
				t.Fatalf("search: %+v, want 2 stopped", res)
			}
			p, res := runSpec(t, sc, full)
			if len(p.ToTrain) != 2 || res.Done != 2 {
				t.Fatalf("full budget: %d to train, %+v (%s); want the 2 stopped runs trained", len(p.ToTrain), res, p.Note)
			}
			want, got := statuses(t, ref, "baseline"), statuses(t, st, "baseline")
			for label, w := range want {
				g := got[label]
				if g.Status != StatusDone || g.ID != w.ID {
					t.Errorf("%s: %s (%s), want done", label, g.Status, g.ID)
				}
				ma, _ := ref.Metrics(context.Background(), w.ID)
				mb, _ := st.Metrics(context.Background(), g.ID)
				for key := range ma {
					if !slices.Equal(ma[key], mb[key]) {
						t.Errorf("%s: %s differs from a run never stopped", label, key)
					}
				}
			}
			resumed := 0
			for _, r := range got {
				events, _ := st.Events(context.Background(), "", r.ID)
				for _, e := range events {
					if e.Kind == "resume" {
						resumed++
					}
				}
			}
			if resumed < 2 {
				t.Errorf("%d resume events, want the 2 stopped runs resumed from their checkpoints", resumed)
			}
			// Running the search again changes nothing: its runs are trained.
			if p, res := runSpec(t, sc, search); len(p.ToTrain) != 0 || res.Done != 0 {
				t.Errorf("the search again: %d to train, %+v", len(p.ToTrain), res)
			}
		})
	}
}

// A worker killed after writing a checkpoint but before recording it leaves
// the store with an older file's sha256; a resume records the newer file
// (TestUnrecordedCheckpointWithItsCurvesResumes), but a run that the next
// decision stops is not resumed. The decision records it when the store
// holds the run's curves up to it, so doctor finds the store clean; without
// them, or with a file it cannot read, the file is left for doctor to
// report, and the run stays stopped.
func TestStoppedRunsUnrecordedCheckpointIsRecorded(t *testing.T) {
	for _, tc := range []struct {
		name, spec string
		damaged    bool
	}{{"sync", syncSpec, false}, {"async", ashaSpec, false}, {"sync, a damaged file", syncSpec, true}} {
		t.Run(tc.name, func(t *testing.T) {
			st, dir := openTemp(t)
			sc := newScheduler(st, dir)
			sc.Workers = 1
			if _, res := runSpec(t, sc, tc.spec); res.Done != 1 || res.EarlyStopped != 2 {
				t.Fatalf("sweep: %+v, want 1 done and 2 stopped", res)
			}
			var victim RunInfo
			for _, r := range statuses(t, st, "tiny") {
				if r.Status == StatusStopped && (victim.ID == "" || r.ID < victim.ID) {
					victim = r
				}
			}
			ctx := context.Background()
			path := filepath.Join(victim.Dir, checkpointFile)
			if err := st.PutArtifact(ctx, Artifact{RunID: victim.ID, Kind: "checkpoint", Path: path, SHA256: strings.Repeat("0", 64), Bytes: 1}); err != nil {
				t.Fatal(err)
			}
			if _, err := st.db.ExecContext(ctx, "UPDATE runs SET status=? WHERE id=?", StatusInterrupted, victim.ID); err != nil {
				t.Fatal(err)
			}
			if tc.damaged {
				b, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, b[:len(b)/2], 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if _, res := runSpec(t, sc, tc.spec); res.Failed != 0 || res.Stopped != nil {
				t.Fatalf("rerun: %+v", res)
			}
			if s := statuses(t, st, "tiny")[victim.Label].Status; s != StatusStopped {
				t.Fatalf("the killed run is %s after the rerun, want stopped again", s)
			}
			findings, err := st.Check(ctx)
			if err != nil {
				t.Fatal(err)
			}
			flagged := false
			for _, f := range findings {
				if f.Kind == "artifact" && f.RunID == victim.ID && tc.damaged {
					flagged = true
					continue
				}
				t.Errorf("doctor: %s %s: %s", f.Kind, f.RunID, f.Detail)
			}
			if tc.damaged && !flagged {
				t.Errorf("a damaged checkpoint was recorded; doctor should still report it: %+v", findings)
			}
		})
	}
}

// The stopped run's checkpoint is recorded only while the run is stopped
// and its record is the one seen: a process that promoted and resumed the
// run meanwhile keeps its own record.
func TestRecordStoppedCheckpointKeepsANewerRecord(t *testing.T) {
	st, dir := openTemp(t)
	if _, res := runSpec(t, newScheduler(st, dir), syncSpec); res.EarlyStopped != 2 {
		t.Fatalf("sweep: %+v, want 2 stopped", res)
	}
	ctx := context.Background()
	byStatus := map[string]RunInfo{}
	for _, r := range statuses(t, st, "tiny") {
		byStatus[r.Status] = r
	}
	for i, tc := range []struct {
		name  string
		run   RunInfo
		seen  func(recorded string) string
		wants bool
	}{
		{"stopped, record as seen", byStatus[StatusStopped], func(r string) string { return r }, true},
		{"stopped, record changed since", byStatus[StatusStopped], func(string) string { return strings.Repeat("1", 64) }, false},
		{"done (resumed elsewhere)", byStatus[StatusDone], func(r string) string { return r }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			arts, err := st.Artifacts(ctx, tc.run.ID)
			if err != nil {
				t.Fatal(err)
			}
			before := arts["checkpoint"]
			sum := strings.Repeat(fmt.Sprintf("%x", 10+i), 64) // another sha256 in each case
			a := Artifact{RunID: tc.run.ID, Kind: "checkpoint", Path: before.Path, SHA256: sum, Bytes: 7}

			if err := st.recordStoppedCheckpoint(ctx, a, tc.seen(before.SHA256)); err != nil {
				t.Fatal(err)
			}
			arts, _ = st.Artifacts(ctx, tc.run.ID)
			if got := arts["checkpoint"].SHA256 == a.SHA256; got != tc.wants {
				t.Errorf("recorded %v, want %v (record %.12s)", got, tc.wants, arts["checkpoint"].SHA256)
			}
		})
	}
}
