package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sample --sampler draws from the run's stored fit: the grid it writes is
// the evaluation's own grid of that sampler, byte for byte. A sampler the run
// was never evaluated with is fitted on the spot, and says so; misuse is a
// usage error.
func TestSampleFromAStoredSamplerFit(t *testing.T) {
	dir := t.TempDir()
	spec := "name: fits\ndataset: {name: synthetic, size: 10, count: 120, test_fraction: 0.25}\nmodel: {hidden: [8], latent: 2}\n" +
		"train: {epochs: 2, batch_size: 30}\neval: {batch_size: 30, grid_images: 8, samplers: [prior, gmm], gmm_components: 3}\nseeds: [1]\n"
	os.WriteFile(filepath.Join(dir, "s.yaml"), []byte(spec), 0o644)
	if r := vaelab(t, dir, nil, "run", "s.yaml"); r.code != 0 {
		t.Fatalf("run: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	id := ids(vaelab(t, dir, nil, "ls", "fits").stdout)[0]
	r := vaelab(t, dir, nil, "sample", id, "--sampler", "gmm", "-n", "8", "-o", "gmm.png")
	if r.code != 0 || strings.Contains(r.stdout, "fitted it now") {
		t.Fatalf("sample --sampler gmm: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	got, _ := os.ReadFile(filepath.Join(dir, "gmm.png"))
	stored, err := filepath.Glob(filepath.Join(dir, "vaelab-runs", id, "eval-*", "samples_gmm.png"))
	if err != nil || len(stored) != 1 {
		t.Fatalf("stored gmm grids: %v %v", stored, err)
	}
	want, _ := os.ReadFile(stored[0])
	if len(got) == 0 || !bytes.Equal(got, want) {
		t.Error("sample --sampler gmm differs from the evaluation's gmm grid: the stored fit was not used")
	}
	fresh := vaelab(t, dir, nil, "sample", id, "--sampler", "two_stage", "-n", "8", "-o", "two.png")
	if fresh.code != 0 || !strings.Contains(fresh.stdout, "no stored two_stage fit for these settings: fitted it now") {
		t.Fatalf("sample --sampler two_stage: exit %d\n%s%s", fresh.code, fresh.stdout, fresh.stderr)
	}
	for _, args := range [][]string{{"--sampler", "vae2"}, {"--sampler", "gmm", "--kind", "traversals"}} {
		if r := vaelab(t, dir, nil, append([]string{"sample", id}, args...)...); r.code != 2 || !strings.Contains(r.stderr, "--sampler") {
			t.Errorf("sample %v: exit %d, %q", args, r.code, r.stderr)
		}
	}
}
