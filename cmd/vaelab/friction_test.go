package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Defect 10 of issue 28: a dataset path that does not exist (and that no
// url downloads) is refused by plan, naming the key, with nothing written;
// vaelab --version prints the version.
func TestPlanRefusesAMissingDatasetPathAndVersionPrints(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "data"), 0o755)
	os.WriteFile(filepath.Join(dir, "s.yaml"), []byte("name: dp\ndataset: {name: folder, path: faces/imgs, size: 8}\nseeds: [1]\n"), 0o644)
	env := []string{"VAELAB_DATA_DIR=" + filepath.Join(dir, "data")}
	for _, cmd := range []string{"plan", "run"} {
		r := vaelab(t, dir, env, cmd, "s.yaml")
		if r.code != 2 || !strings.Contains(r.stderr, "dataset.path") || !strings.Contains(r.stderr, "s.yaml:2") {
			t.Errorf("%s with a missing dataset path: exit %d\n%s%s", cmd, r.code, r.stdout, r.stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "vaelab.db")); err == nil {
		t.Error("a database was written for a spec refused at plan time")
	}
	r := vaelab(t, dir, nil, "--version")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "vaelab ") {
		t.Errorf("--version: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}
