package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vaelab/vaelab/data"
	"github.com/vaelab/vaelab/internal/testenv"
)

// TestDataFetchVerifiesDownloads serves Frey Face from a local server: a good
// copy is stored and verifies; a corrupted one exits non-zero naming the
// dataset and both hashes, and leaves nothing in the data directory.
func TestDataFetchVerifiesDownloads(t *testing.T) {
	shared := testenv.SharedData(t, data.FreyFile)
	frey, err := os.ReadFile(filepath.Join(shared, data.FreyFile))
	if err != nil {
		t.Fatal(err)
	}
	corrupt := append([]byte(nil), frey...)
	corrupt[5000] ^= 0x40
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/corrupt":
			w.Write(corrupt)
			return
		case "/cut":
			w.Header().Set("Content-Length", "1100584")
			w.Write(frey[:300000])
			panic(http.ErrAbortHandler) // drop the connection mid-transfer
		}
		w.Write(frey)
	}))
	defer srv.Close()
	dir := t.TempDir()
	dataDir := filepath.Join(dir, "data")
	env := []string{"VAELAB_DATA_DIR=" + dataDir}

	bad := vaelab(t, dir, env, "data", "fetch", "frey", "--url", srv.URL+"/corrupt")
	badSum, _ := data.FileSHA256(writeTemp(t, corrupt))
	if bad.code != 1 || !strings.Contains(bad.stderr, "download frey") || !strings.Contains(bad.stderr, badSum) || !strings.Contains(bad.stderr, data.FreySHA256) {
		t.Fatalf("corrupt download: exit %d, %q", bad.code, bad.stderr)
	}
	if entries, _ := os.ReadDir(filepath.Join(dataDir, "frey")); len(entries) != 0 {
		t.Fatalf("corrupt download left %v", entries)
	}

	cut := vaelab(t, dir, env, "data", "fetch", "frey", "--url", srv.URL+"/cut")
	cutSum, _ := data.FileSHA256(writeTemp(t, frey[:300000]))
	if cut.code != 1 || !strings.Contains(cut.stderr, "download frey") || !strings.Contains(cut.stderr, cutSum) || !strings.Contains(cut.stderr, data.FreySHA256) {
		t.Fatalf("cut download: exit %d, %q", cut.code, cut.stderr)
	}
	if entries, _ := os.ReadDir(filepath.Join(dataDir, "frey")); len(entries) != 0 {
		t.Fatalf("cut download left %v", entries)
	}

	good := vaelab(t, dir, env, "data", "fetch", "frey", "--url", srv.URL+"/frey_rawface.mat")
	if good.code != 0 || !strings.Contains(good.stdout, "downloaded and verified") {
		t.Fatalf("download: exit %d, %s%s", good.code, good.stdout, good.stderr)
	}
	if v := vaelab(t, dir, env, "data", "verify", "frey"); v.code != 0 || !strings.Contains(v.stdout, "frey: ok") {
		t.Fatalf("verify: exit %d, %s%s", v.code, v.stdout, v.stderr)
	}
	ls := vaelab(t, dir, env, "data", "ls")
	if !regexpMatch(`(?m)^frey\s+frey/frey_rawface.mat\s+yes`, ls.stdout) || !regexpMatch(`(?m)^olivetti\s+\S+\s+no`, ls.stdout) {
		t.Fatalf("data ls:\n%s", ls.stdout)
	}
	if v := vaelab(t, dir, env, "data", "verify", "olivetti"); v.code != 1 || !strings.Contains(v.stderr, "olivetti") {
		t.Fatalf("verify of a missing dataset: exit %d, %q", v.code, v.stderr)
	}
	// CelebA: listed with its published md5; a zip that is not the official
	// one is named as such.
	if !regexpMatch(`(?m)^celeba\s+celeba/img_align_celeba.zip\s+no\s+md5 00d2c5bc6d35`, ls.stdout) {
		t.Fatalf("data ls lacks celeba:\n%s", ls.stdout)
	}
	os.MkdirAll(filepath.Join(dataDir, "celeba"), 0o755)
	os.WriteFile(filepath.Join(dataDir, data.CelebAZip), []byte("PK not the official zip"), 0o644)
	if v := vaelab(t, dir, env, "data", "verify", "celeba"); v.code != 1 || !strings.Contains(v.stderr, "not the official file's 00d2c5bc6d35e252742224ab0c1e8fcb") {
		t.Fatalf("verify of a foreign celeba zip: exit %d, %q", v.code, v.stderr)
	}
}

func writeTemp(t *testing.T, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestRealDatasetRun trains a small sweep on Olivetti resized to 32×32 and
// draws a dataset grid.
func TestRealDatasetRun(t *testing.T) {
	shared := testenv.SharedData(t, data.OlivettiFile)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "oli.yaml"), []byte(`
name: olivetti-small
dataset: {name: olivetti, size: 32, test_fraction: 0.1}
model: {hidden: [32], latent: 4, likelihood: gaussian, sigma: 0.1}
train: {epochs: 2, batch_size: 40}
eval: {batch_size: 40, grid_images: 16}
seeds: [1, 2]
`), 0o644)
	env := []string{"VAELAB_DATA_DIR=" + shared}
	r := vaelab(t, dir, env, "run", "oli.yaml")
	if r.code != 0 || !strings.Contains(r.stdout, "finished: 2 done") {
		t.Fatalf("olivetti run: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	show := vaelab(t, dir, env, "data", "show", "olivetti", "-o", "grid.png", "-n", "16")
	if show.code != 0 || !strings.Contains(show.stdout, "360 train and 40 test images of 64x64x1") {
		t.Fatalf("data show: exit %d, %s%s", show.code, show.stdout, show.stderr)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "grid.png")); err != nil || string(b[1:4]) != "PNG" {
		t.Fatalf("grid.png: %v", err)
	}
}
