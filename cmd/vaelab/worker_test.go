package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestThreeWorkersTrainEveryRunOnce records a sweep for `vaelab worker`,
// starts three workers on it at once, as a scheduler starting N copies of
// one command would, and checks that every run trained exactly once (one
// attempt, one value per step, one evaluation), and that
// a worker started afterwards finds nothing left to train.
func TestThreeWorkersTrainEveryRunOnce(t *testing.T) {
	dir := t.TempDir()
	spec := strings.Replace(killSpec, "seeds: [1, 2]", "seeds: [1, 2, 3, 4, 5, 6]", 1)
	spec = strings.Replace(spec, "epochs: 12", "epochs: 3", 1)
	os.WriteFile(filepath.Join(dir, "s.yaml"), []byte(spec), 0o644)
	if r := vaelab(t, dir, nil, "run", "s.yaml", "--executor", "worker"); r.code != 0 || !strings.Contains(r.stdout, "vaelab worker --db vaelab.db --experiment killme") {
		t.Fatalf("run --executor worker: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	db := filepath.Join(dir, "vaelab.db")
	if n := countRows(t, db, "SELECT count(*) FROM runs WHERE status='pending'"); n != 6 {
		t.Fatalf("%d runs pending after --executor worker, want 6 (nothing trained)", n)
	}
	var cmds []*exec.Cmd
	var outs []*strings.Builder
	for range 3 {
		cmd := exec.Command(binary, "worker", "--db", db, "--experiment", "killme")
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "VAELAB_CACHE_DIR="+filepath.Join(dir, "cache"))
		out := &strings.Builder{}
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds, outs = append(cmds, cmd), append(outs, out)
	}
	trained := 0
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("worker %d: %v\n%s", i, err, outs[i])
		}
		if strings.Contains(strings.ToLower(outs[i].String()), "locked") {
			t.Fatalf("worker %d met a lock error:\n%s", i, outs[i])
		}
		trained += strings.Count(outs[i].String(), "done        ")
	}
	if n := countRows(t, db, "SELECT count(*) FROM runs WHERE status='done' AND attempts=1"); n != 6 || trained != 6 {
		t.Fatalf("%d of 6 runs done with one attempt, %d trainings logged; want 6 and 6\n%s\n%s\n%s", n, trained, outs[0], outs[1], outs[2])
	}
	if n := countRows(t, db, "SELECT count(*) FROM (SELECT run_id, step, key FROM metrics GROUP BY run_id, step, key HAVING count(*) > 1)"); n != 0 {
		t.Errorf("%d metric points recorded more than once", n)
	}
	if n := countRows(t, db, "SELECT count(*) FROM evaluations"); n != 6 {
		t.Errorf("%d evaluations, want 6", n)
	}
	r := vaelab(t, dir, nil, "worker", "--experiment", "killme")
	if r.code != 0 || strings.Contains(r.stdout, "done        ") {
		t.Errorf("a late worker: exit %d, trained something:\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := vaelab(t, dir, nil, "worker", "--experiment", "nosuch"); r.code == 0 || !strings.Contains(r.stderr, "nosuch") {
		t.Errorf("a worker for an unknown experiment: exit %d, %q", r.code, r.stderr)
	}
}
