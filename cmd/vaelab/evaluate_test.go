package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/vaelab/vaelab/runs"
)

// copyWorkspace copies a committed workspace fixture into a temporary folder.
func copyWorkspace(t *testing.T, fixture string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(abs(t, fixture))); err != nil {
		t.Fatal(err)
	}
	return dir
}

// checkReportAndDoctor: the experiment's report renders every run's three
// image grids, and doctor finds nothing wrong.
func checkReportAndDoctor(t *testing.T, dir, experiment string, runs int) {
	t.Helper()
	if r := vaelab(t, dir, nil, "report", experiment, "-o", "r.html"); r.code != 0 {
		t.Fatalf("report: %s", r.stderr)
	}
	page, _ := os.ReadFile(filepath.Join(dir, "r.html"))
	if n := strings.Count(string(page), `<img class="grid"`); n < runs*3 || strings.Contains(string(page), "image file unreadable") {
		t.Errorf("the report shows %d image grids (or an unreadable one)", n)
	}
	if r := vaelab(t, dir, nil, "doctor"); r.code != 0 {
		t.Errorf("doctor: exit %d\n%s", r.code, r.stdout)
	}
}

// ids are the run ids a command printed at the start of its lines.
func ids(out string) []string {
	return regexp.MustCompile(`(?m)^([0-9a-f]{16})\b`).FindAllString(out, -1)
}

// A workspace recorded with schema 2, whose run ids hashed the eval settings
// (committed under testdata, made by the code before evaluation left the
// identity): it migrates once, its runs are found under their new ids and
// also by their old ones, its report renders, doctor is clean, and running
// its spec trains nothing. Two runs that differed only in eval settings
// become one run with both evaluations; a run left interrupted resumes from
// its checkpoint, which carries the old id.
func TestSchema2WorkspaceMigrates(t *testing.T) {
	dir := copyWorkspace(t, "testdata/v2-workspace")
	db := filepath.Join(dir, "vaelab.db")
	if v := queryString(t, db, "PRAGMA user_version"); v != "2" {
		t.Fatalf("the fixture has schema %s, want 2", v)
	}
	oldID := queryString(t, db, "SELECT run_id FROM experiment_runs WHERE experiment='fixture-v2' ORDER BY position LIMIT 1")
	ls := vaelab(t, dir, nil, "ls", "fixture-v2")
	if ls.code != 0 || strings.Count(ls.stdout, " done ") != 4 {
		t.Fatalf("ls: exit %d\n%s%s", ls.code, ls.stdout, ls.stderr)
	}
	if v := queryString(t, db, "PRAGMA user_version"); v != strconv.Itoa(runs.SchemaVersion) {
		t.Errorf("after the first read the schema is %s, want %d", v, runs.SchemaVersion)
	}
	plan := vaelab(t, dir, nil, "plan", "spec.yaml")
	if got, want := strings.Join(ids(ls.stdout), " "), strings.Join(ids(plan.stdout), " "); got != want || got == "" {
		t.Fatalf("stored ids %q are not the ids the spec expands to now %q", got, want)
	}
	if show := vaelab(t, dir, nil, "show", oldID[:8]); show.code != 0 || !strings.Contains(show.stdout, "run        "+ids(ls.stdout)[0]) {
		t.Errorf("the old id %s does not find its run: exit %d\n%s%s", oldID, show.code, show.stdout, show.stderr)
	}
	checkReportAndDoctor(t, dir, "fixture-v2", 4)
	steps := countRows(t, db, "SELECT count(*) FROM metrics WHERE key='train/loss'")
	r := vaelab(t, dir, nil, "run", "spec.yaml")
	if r.code != 0 || !strings.Contains(r.stdout, "all 4 runs are finished") || strings.Contains(r.stdout, "done        ") || strings.Contains(r.stdout, "re-scor") {
		t.Fatalf("run of the fixture's spec did something: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	// The two runs of fixture-v2-evals trained the same model.
	ev := vaelab(t, dir, nil, "ls", "fixture-v2-evals")
	if got := ids(ev.stdout); len(got) != 1 {
		t.Fatalf("fixture-v2-evals has %d runs after migration, want 1 (merged)\n%s", len(got), ev.stdout)
	}
	show := vaelab(t, dir, nil, "show", ids(ev.stdout)[0])
	if n := len(regexp.MustCompile(`(?m)^evaluation `).FindAllString(show.stdout, -1)); n != 2 || !strings.Contains(show.stdout, "merged") {
		t.Errorf("the merged run lists %d evaluations (want 2) or no merge event:\n%s", n, show.stdout)
	}

	// The interrupted run resumes from its checkpoint in its old folder.
	res := vaelab(t, dir, nil, "run", "resume.yaml")
	if res.code != 0 || !strings.Contains(res.stdout, "resume ") || !strings.Contains(res.stdout, "1 done") {
		t.Fatalf("run of the interrupted run: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	if got := countRows(t, db, "SELECT count(*) FROM metrics WHERE key='train/loss'"); got != steps {
		t.Errorf("resuming after the last checkpoint trained %d steps", got-steps)
	}
	if s := vaelab(t, dir, nil, "sample", ids(ls.stdout)[1], "-o", "s.png"); s.code != 0 {
		t.Errorf("sample of a migrated run: %s", s.stderr)
	}
}

// Changing only eval: in a finished spec re-scores its runs without a
// training step; vaelab evaluate does the same on demand; show and the
// report give the new values with the new evaluation hash.
func TestChangedEvalRescoresWithoutTraining(t *testing.T) {
	dir := copyWorkspace(t, "testdata/v2-workspace")
	db := filepath.Join(dir, "vaelab.db")
	vaelab(t, dir, nil, "ls") // migrates (which merges two runs' curves into one)
	steps := countRows(t, db, "SELECT count(*) FROM metrics")
	spec, _ := os.ReadFile(filepath.Join(dir, "spec.yaml"))
	changed := strings.Replace(string(spec), "samples: 40", "samples: 30", 1)
	os.WriteFile(filepath.Join(dir, "spec.yaml"), []byte(changed), 0o644)
	r := vaelab(t, dir, nil, "run", "spec.yaml", "--report", "r.html")
	if r.code != 0 || !strings.Contains(r.stdout, "re-scoring 4") || strings.Count(r.stdout, "evaluated ") != 4 || strings.Contains(r.stdout, "done        ") {
		t.Fatalf("run with changed eval settings: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if got := countRows(t, db, "SELECT count(*) FROM metrics"); got != steps {
		t.Fatalf("re-scoring wrote %d metric rows: it trained", got-steps)
	}
	hash := queryString(t, db, "SELECT eval_hash FROM experiment_runs WHERE experiment='fixture-v2' LIMIT 1")
	id := queryString(t, db, "SELECT run_id FROM experiment_runs WHERE experiment='fixture-v2' LIMIT 1")
	show := vaelab(t, dir, nil, "show", id)
	if !strings.Contains(show.stdout, "evaluation "+hash+"*") || !strings.Contains(show.stdout, "N=30 real test images") {
		t.Errorf("show does not give the new evaluation %s with N=30:\n%s", hash, show.stdout)
	}
	page, _ := os.ReadFile(filepath.Join(dir, "r.html"))
	if !strings.Contains(string(page), hash) {
		t.Errorf("the report does not name evaluation %s", hash)
	}
	again := vaelab(t, dir, nil, "run", "spec.yaml")
	if again.code != 0 || strings.Contains(again.stdout, "re-scor") {
		t.Fatalf("a second run re-scored again:\n%s", again.stdout)
	}
	e := vaelab(t, dir, nil, "evaluate", "fixture-v2")
	if e.code != 0 || strings.Count(e.stdout, "evaluated ") != 4 {
		t.Fatalf("evaluate: exit %d\n%s%s", e.code, e.stdout, e.stderr)
	}
	if got := countRows(t, db, "SELECT count(*) FROM metrics"); got != steps {
		t.Fatalf("evaluate wrote %d metric rows", got-steps)
	}
	if n := countRows(t, db, "SELECT count(*) FROM evaluations WHERE eval_hash='"+hash+"'"); n != 4 {
		t.Errorf("%d evaluations under %s, want 4", n, hash)
	}
	if bad := vaelab(t, dir, nil, "evaluate", "no-such-experiment"); bad.code == 0 || !strings.Contains(bad.stderr, "neither a spec file nor an experiment") {
		t.Errorf("evaluate of an unknown name: exit %d %s", bad.code, bad.stderr)
	}
}
