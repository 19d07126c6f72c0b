package runs

import (
	"context"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/vaelab/vaelab/data"
)

// snapshot is everything stored about a run: records and its files' bytes.
func snapshot(t *testing.T, st *Store, id string) map[string]any {
	t.Helper()
	ctx := context.Background()
	r, err := st.FindRun(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	r.Experiment, r.Label, r.Varying, r.Variant, r.InSpec = "", "", nil, "", false // per experiment
	m, _ := st.Metrics(ctx, id)
	sums, _ := st.Summaries(ctx, id)
	evals, _ := st.Evaluations(ctx, id)
	out := map[string]any{"run": r, "metrics": m, "summaries": sums, "evaluations": evals}
	arts, _ := st.Artifacts(ctx, id)
	for kind, a := range arts {
		sum, err := data.FileSHA256(a.Path)
		if err != nil || sum != a.SHA256 {
			t.Fatalf("run %s: %s file %s: %v (sha256 %s, recorded %s)", id, kind, a.Path, err, sum, a.SHA256)
		}
		out["artifact "+kind] = a
	}
	return out
}

// Acceptance 5 of issue 28: removing one experiment of two that share runs
// deletes its own runs (records and files) and leaves the other's runs,
// metrics and artifacts untouched; a shared run is refused by rm RUN
// without force; tags, notes and archiving are recorded and listed.
func TestRemoveExperimentKeepsSharedRuns(t *testing.T) {
	ctx := context.Background()
	st, dir := openTemp(t)
	sc := newScheduler(st, dir)
	a := strings.Replace(tinySpec, "seeds: [1]", "seeds: [1, 2]", 1)
	b := strings.Replace(strings.Replace(a, "seeds: [1, 2]", "seeds: [2, 3]", 1), "name: tiny", "name: other", 1)
	if _, res := runSpec(t, sc, a); res.Done != 2 {
		t.Fatalf("a: %+v", res)
	}
	if _, res := runSpec(t, sc, b); res.Done != 1 {
		t.Fatalf("b: %+v", res)
	}
	own, shared, other := statuses(t, st, "tiny")["seed=1"], statuses(t, st, "tiny")["seed=2"], statuses(t, st, "other")["seed=3"]
	before := map[string]map[string]any{shared.ID: snapshot(t, st, shared.ID), other.ID: snapshot(t, st, other.ID)}

	if err := st.SetTags(ctx, Target{Kind: "run", ID: shared.ID}, map[string]string{"paper": "fig2"}); err != nil {
		t.Fatal(err)
	}
	if err := st.AddNote(ctx, Target{Kind: "experiment", ID: "tiny"}, "β too low: posterior collapse"); err != nil {
		t.Fatal(err)
	}
	if ids, _ := st.Tagged(ctx, "other", "paper", "fig2"); len(ids) != 1 || ids[0] != shared.ID {
		t.Errorf("runs of other tagged paper=fig2: %v", ids)
	}
	if _, err := st.Remove(ctx, Target{Kind: "run", ID: shared.ID}, false); err == nil || !strings.Contains(err.Error(), "--force") {
		t.Errorf("removing a shared run without force: %v", err)
	}
	if err := st.Archive(ctx, "tiny", true); err != nil {
		t.Fatal(err)
	}
	if l, _ := st.ListExperiments(ctx, ListOptions{}); len(l) != 1 || l[0].Name != "other" {
		t.Errorf("ls without archived: %v", l)
	}
	if l, _ := st.ListExperiments(ctx, ListOptions{All: true}); len(l) != 2 {
		t.Errorf("ls --all: %d experiments", len(l))
	}

	rm, err := st.Remove(ctx, Target{Kind: "experiment", ID: "tiny"}, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(rm.Runs) != 1 || rm.Runs[0] != own.ID || len(rm.Kept) != 1 || rm.Bytes == 0 || len(rm.Problems) > 0 {
		t.Fatalf("removal: %+v", rm)
	}
	if _, err := st.FindRun(ctx, own.ID); err == nil {
		t.Error("the removed experiment's own run is still recorded")
	}
	if _, err := os.Stat(own.Dir); !os.IsNotExist(err) {
		t.Errorf("its folder %s: %v", own.Dir, err)
	}
	if _, err := st.Experiment(ctx, "tiny"); err == nil {
		t.Error("the experiment is still recorded")
	}
	for id, want := range before {
		if got := snapshot(t, st, id); !reflect.DeepEqual(got, want) {
			t.Errorf("run %s of the other experiment changed:\n%v\n%v", id, got, want)
		}
	}
	if rs, _ := st.Runs(ctx, "other"); len(rs) != 2 {
		t.Errorf("other has %d runs, want 2", len(rs))
	}
	var check string
	if err := st.db.QueryRowContext(ctx, "PRAGMA foreign_key_check").Scan(&check); err == nil {
		t.Errorf("foreign key check: %s", check)
	}
}

// Defect 9 of issue 28: a database whose user_version was set to -1 is an
// error that says what to do, from Open and OpenReadOnly, never a panic.
func TestNegativeSchemaVersionIsAnError(t *testing.T) {
	st, dir := openTemp(t)
	if _, err := st.db.Exec("PRAGMA user_version = -1"); err != nil {
		t.Fatal(err)
	}
	path := dir + "/vaelab.db"
	for name, open := range map[string]func(context.Context, string) (*Store, error){"Open": Open, "OpenReadOnly": OpenReadOnly} {
		func() {
			defer func() {
				if p := recover(); p != nil {
					t.Errorf("%s panicked: %v", name, p)
				}
			}()
			if s, err := open(context.Background(), path); err == nil || !strings.Contains(err.Error(), "schema version -1") {
				if s != nil {
					s.Close()
				}
				t.Errorf("%s: %v", name, err)
			}
		}()
	}
}

// Defect 6 of issue 28: doctor finds a run stuck interrupted (nothing will
// train it until its spec runs again) and says how to resume it.
func TestDoctorListsInterruptedRuns(t *testing.T) {
	st, dir := openTemp(t)
	sc := newScheduler(st, dir)
	if res := stopAtStep(t, sc, tinySpec, 3); res.Interrupted != 1 {
		t.Fatalf("result %+v, want 1 interrupted", res)
	}
	f, err := st.Check(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range f {
		if strings.Contains(x.Detail, "interrupted") && strings.Contains(x.Detail, "vaelab run") && strings.Contains(x.Detail, "tiny") {
			return
		}
	}
	t.Fatalf("findings %+v: none names the interrupted run and how to resume it", f)
}
