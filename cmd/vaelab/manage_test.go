package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Run management from the command line: tag, note, archive, rm, and ls and
// report filtering by tag (issue 28).
func TestTagNoteArchiveRemove(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "s.yaml"), []byte(misuseSpec), 0o644)
	os.WriteFile(filepath.Join(dir, "o.yaml"), []byte(strings.Replace(misuseSpec, "name: misuse", "name: other", 1)), 0o644)
	for _, s := range []string{"s.yaml", "o.yaml"} {
		if r := vaelab(t, dir, nil, "run", s); r.code != 0 {
			t.Fatalf("run %s: %s%s", s, r.stdout, r.stderr)
		}
	}
	db := filepath.Join(dir, "vaelab.db")
	id := queryString(t, db, "SELECT run_id FROM experiment_runs WHERE experiment='misuse' ORDER BY position LIMIT 1")
	steps := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"tag", id, "paper=fig2"}, 0, "paper=fig2"},
		{[]string{"tag", id, "nonsense"}, 2, "key=value"},
		{[]string{"note", id, "collapsed: KL near 0"}, 0, "noted"},
		{[]string{"note", "misuse", "first try"}, 0, "noted on experiment misuse"},
		{[]string{"show", id}, 0, "collapsed: KL near 0"},
		{[]string{"export", "misuse"}, 0, "paper=fig2,collapsed: KL near 0"},
		{[]string{"ls", "misuse", "--tag", "paper=fig2"}, 0, id},
		{[]string{"ls", "--tag", "paper=none"}, 0, "EXPERIMENT"},
		{[]string{"report", "--tag", "paper=fig2", "-o", "t.html"}, 0, "report: t.html"},
		{[]string{"archive", "misuse"}, 0, "archived"},
		{[]string{"report", "misuse", "-o", "a.html"}, 1, "archived"},
		{[]string{"report", "misuse", "--archived", "-o", "a.html"}, 0, "report"},
		{[]string{"ls", "--archived"}, 0, "misuse"},
		{[]string{"unarchive", "misuse"}, 0, "restored"},
		{[]string{"rm", id, "--yes"}, 1, "--force"},
		{[]string{"rm", "misuse"}, 1, "nothing deleted"},
		{[]string{"rm", "misuse", "--yes"}, 0, "removed experiment misuse: 0 runs"},
		{[]string{"ls"}, 0, "other"},
	}
	for _, s := range steps {
		r := vaelab(t, dir, nil, s.args...)
		if r.code != s.code || !strings.Contains(r.stdout+r.stderr, s.want) {
			t.Errorf("vaelab %s: exit %d, want %d and %q:\n%s%s", strings.Join(s.args, " "), r.code, s.code, s.want, r.stdout, r.stderr)
		}
	}
	if r := vaelab(t, dir, nil, "ls"); strings.Contains(r.stdout, "misuse") {
		t.Errorf("ls still lists the removed experiment:\n%s", r.stdout)
	}
	page, _ := os.ReadFile(filepath.Join(dir, "t.html"))
	if !strings.Contains(string(page), "collapsed: KL near 0") || !strings.Contains(string(page), "first try") {
		t.Error("the report shows neither the run's nor the experiment's note")
	}
}

// Defect 9 of issue 28: report --runs with an id no run has is an error, not
// an empty page; report A A lists A's runs once.
func TestReportRunFilterAndRepeatedExperiment(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "s.yaml"), []byte(misuseSpec), 0o644)
	if r := vaelab(t, dir, nil, "run", "s.yaml"); r.code != 0 {
		t.Fatalf("run: %s%s", r.stdout, r.stderr)
	}
	if r := vaelab(t, dir, nil, "report", "misuse", "--runs", "deadbeef", "-o", "r.html"); r.code == 0 || !strings.Contains(r.stderr, "deadbeef") {
		t.Errorf("report --runs deadbeef: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := vaelab(t, dir, nil, "report", "misuse", "misuse", "-o", "r.html"); r.code != 0 {
		t.Fatalf("report A A: exit %d\n%s", r.code, r.stderr)
	}
	page, _ := os.ReadFile(filepath.Join(dir, "r.html"))
	id := queryString(t, filepath.Join(dir, "vaelab.db"), "SELECT id FROM runs LIMIT 1")
	if n := strings.Count(string(page), `id="run-`+id+`"`); n != 1 {
		t.Errorf("report A A shows run %s %d times, want once", id, n)
	}
}
