// Package testenv is what tests share: the real-face datasets (a missing one fails
// under CI=true, skips elsewhere), the BLAS setup, and fixtures (specs, heap sampling).
package testenv

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/vaelab/vaelab/internal/blaslib"
)

// SharedData returns the folder holding the shared datasets and checks that rel
// exists in it. The folder is VAELAB_TEST_DATA, default ../shared/data; a
// relative path is taken from the project root (the folder holding go.mod).
func SharedData(t testing.TB, rel string) string {
	t.Helper()
	dir := os.Getenv("VAELAB_TEST_DATA")
	if dir == "" {
		dir = filepath.Join("..", "shared", "data")
	}
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(projectRoot(t), dir)
	}
	if _, err := os.Stat(filepath.Join(dir, rel)); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("test data %s missing under CI: %v", rel, err)
		}
		t.Skipf("test data %s not found (set VAELAB_TEST_DATA): %v", rel, err)
	}
	return dir
}

// DlibWeights returns the folder holding the dlib face descriptor's two
// model files: VAELAB_TEST_DLIB, default the data directory's dlib-face
// folder (where vaelab data fetch dlib-face installs them). Missing: a
// failure under CI=true, a skip elsewhere.
func DlibWeights(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("VAELAB_TEST_DLIB")
	if dir == "" {
		home, _ := os.UserCacheDir()
		dir = filepath.Join(home, "vaelab", "dlib-face")
	}
	for _, f := range []string{"face_recognition_model.bin", "face_recognition_model-weights_manifest.json"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			if InCI() {
				t.Fatalf("dlib face descriptor weights missing under CI: %v (vaelab data fetch dlib-face)", err)
			}
			t.Skipf("dlib face descriptor weights not found: %v (run vaelab data fetch dlib-face, or set VAELAB_TEST_DLIB)", err)
		}
	}
	return dir
}

// projectRoot is the nearest folder at or above the working directory that holds go.mod.
func projectRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the working directory")
		}
		dir = parent
	}
}

// FullEnv is the switch for the full suite: VAELAB_FULL=1 runs the long
// checks (kill soaks, the two-runner soak, large end-to-end runs, Slurm, the
// browser) that the default `go test ./...` leaves out; .ci/run sets it.
const FullEnv = "VAELAB_FULL"

// FullSuite reports whether the full suite was asked for (VAELAB_FULL=1).
func FullSuite() bool { return os.Getenv(FullEnv) == "1" }

// Full skips t unless the full suite runs, saying what the test checks and
// how to run it, so a skip in the fast suite is never mistaken for a pass.
func Full(t testing.TB, what string) {
	t.Helper()
	if !FullSuite() {
		t.Skipf("full suite only (%s); run with %s=1", what, FullEnv)
	}
}

// InCI reports whether the tests run under CI (CI=true), where missing
// prerequisites are failures rather than skips.
func InCI() bool { return os.Getenv("CI") == "true" }

// Main is a test package's TestMain for packages that compute: it sets up
// the BLAS (SetupBLAS), then runs the tests.
func Main(m *testing.M) {
	SetupBLAS()
	os.Exit(m.Run())
}

// SetupBLAS is for a test package's TestMain: it sets up the BLAS as the CLI
// does (VAELAB_BLAS chooses; default auto), so that tests train on the fast
// path that users get, and exits when the setting is wrong.
func SetupBLAS() {
	threads, _ := strconv.Atoi(os.Getenv("VAELAB_THREADS")) // a number, for benchmarks; else 1
	if _, err := blaslib.Setup(blaslib.Options{Choice: os.Getenv("VAELAB_BLAS"), Warn: os.Stderr, Threads: threads}); err != nil {
		fmt.Fprintln(os.Stderr, "testenv:", err)
		os.Exit(2)
	}
}
