package vae

import (
	"fmt"
	"runtime"
	"strings"

	G "gorgonia.org/gorgonia"
)

// BLAS names the BLAS implementation Gorgonia uses in this process and the
// thread budget, since both change the last bits of results.
func BLAS() string {
	name := fmt.Sprintf("%T", G.WhichBLAS())
	name = strings.TrimPrefix(name, "*")
	if strings.HasPrefix(name, "gonum.") || strings.Contains(name, "gonum") {
		name = "gonum.org/v1/gonum/blas/gonum (pure Go)"
	}
	return fmt.Sprintf("%s, GOMAXPROCS=%d", name, runtime.GOMAXPROCS(0))
}
