package blaslib_test

import (
	"testing"

	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/blas/gonum"
	G "gorgonia.org/gorgonia"

	"github.com/vaelab/vaelab/experiments"
	"github.com/vaelab/vaelab/internal/blaslib"
	"github.com/vaelab/vaelab/report"
	"github.com/vaelab/vaelab/runs"
	"github.com/vaelab/vaelab/vae"
)

// The packages whose import must not change the process's BLAS.
var (
	_ = experiments.Load
	_ = report.WriteFile
	_ = runs.Open
	_ = vae.NewModel
)

// atLoad is what Gorgonia and gonum use once every package above has been
// initialised, before any test (or setup) runs.
var atLoad = struct{ gorgonia, blas64 any }{G.WhichBLAS(), blas64.Implementation()}

// TestImportsLeaveTheBLASAlone: importing vae, experiments, runs or report
// leaves Gorgonia's and gonum's BLAS as they are until Setup installs one.
func TestImportsLeaveTheBLASAlone(t *testing.T) {
	if _, ok := atLoad.gorgonia.(gonum.Implementation); !ok {
		t.Errorf("after import Gorgonia uses %T, want its default gonum.Implementation", atLoad.gorgonia)
	}
	if _, ok := atLoad.blas64.(gonum.Implementation); !ok {
		t.Errorf("after import blas64 uses %T, want its default gonum.Implementation", atLoad.blas64)
	}
	if got := blaslib.Current(); got.Library != "gonum" {
		t.Errorf("Current() before setup = %v, want gonum's default", got)
	}
	info, err := blaslib.Setup(blaslib.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := blaslib.Current(); got != info {
		t.Errorf("after Setup, Current() = %v, want %v", got, info)
	}
	if _, still := G.WhichBLAS().(gonum.Implementation); still && info.Library == "OpenBLAS" {
		t.Error("Setup chose OpenBLAS but Gorgonia still uses gonum")
	}
}
