package main

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// export --curves writes every stored point of a trained run in long
// format, to standard output or -o; with a format other than csv it is
// refused.
func TestExportCurves(t *testing.T) {
	dir := t.TempDir()
	spec := "name: curves\ndataset: {name: synthetic, size: 10, count: 120, test_fraction: 0.25}\nmodel: {hidden: [8], latent: 2}\ntrain: {epochs: 2, batch_size: 30}\neval: {batch_size: 30, grid_images: 8, samples: 30}\nseeds: [1]\n"
	os.WriteFile(filepath.Join(dir, "s.yaml"), []byte(spec), 0o644)
	if r := vaelab(t, dir, nil, "run", "s.yaml"); r.code != 0 {
		t.Fatalf("run: %s%s", r.stdout, r.stderr)
	}
	out := vaelab(t, dir, nil, "export", "curves", "--curves")
	if out.code != 0 {
		t.Fatalf("export --curves: exit %d, %s", out.code, out.stderr)
	}
	recs, err := csv.NewReader(strings.NewReader(out.stdout)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(recs[0], ",") != "experiment,run_id,label,seed,step,epoch,key,value" || len(recs) < 2 {
		t.Fatalf("export --curves:\n%.500s", out.stdout)
	}
	keys := map[string]bool{}
	for _, rec := range recs[1:] {
		keys[rec[6]] = true
		if rec[0] != "curves" || rec[3] != "1" {
			t.Fatalf("row %q", rec)
		}
	}
	if !keys["train/loss"] {
		t.Errorf("no train/loss points among the keys %v", keys)
	}
	if r := vaelab(t, dir, nil, "export", "curves", "--curves", "-o", "curves.csv"); r.code != 0 {
		t.Fatalf("export --curves -o: exit %d, %s", r.code, r.stderr)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "curves.csv")); err != nil || string(b) != out.stdout {
		t.Errorf("-o wrote %d bytes (%v), standard output had %d", len(b), err, len(out.stdout))
	}
	if r := vaelab(t, dir, nil, "export", "curves", "--curves", "--format", "md"); r.code != 1 || !strings.Contains(r.stderr, "only as csv") {
		t.Errorf("export --curves --format md: exit %d, %q", r.code, r.stderr)
	}
}
