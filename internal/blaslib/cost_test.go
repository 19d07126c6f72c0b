//go:build cgo

package blaslib

import (
	"strings"
	"testing"

	"gonum.org/v1/gonum/blas/gonum"
)

func TestCoreCostNamesTheCoreAndBothSpeeds(t *testing.T) {
	if s := coreCost(installed{BLAS: gonum.Implementation{}, info: Info{Library: "gonum"}}); !strings.Contains(s, "no OpenBLAS") {
		t.Errorf("without OpenBLAS: %q", s)
	}
	lib := realOpenBLAS(t)
	for _, products := range []string{"vaelab avx512 kernels (test)", "OpenBLAS core X (test)"} {
		in := installed{BLAS: ownSgemm{BLAS: lib}, info: Info{Library: "OpenBLAS", Core: lib.CoreName(), Products: products}}
		s := coreCost(in)
		if !strings.Contains(s, lib.CoreName()) || strings.Count(s, "GFLOP/s") != 1 || !strings.Contains(s, "x)") {
			t.Fatalf("coreCost = %q; want the core %s and both speeds", s, lib.CoreName())
		}
		if own := strings.Contains(s, "costs them nothing"); own != strings.HasPrefix(products, "vaelab") {
			t.Errorf("products on %q: %q", products, s)
		}
		t.Log(s)
	}
}
