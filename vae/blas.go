package vae

import (
	"fmt"
	"os"
	"runtime"

	"gonum.org/v1/gonum/blas/blas64"
	G "gorgonia.org/gorgonia"
)

// Matrix products, nearly all of training's time, run in OpenBLAS when the
// library can be opened at run time (Debian: apt-get install libopenblas0),
// else in gonum's pure-Go BLAS. VAELAB_BLAS=gonum forces the pure-Go one and
// VAELAB_BLAS=openblas makes a missing OpenBLAS an error. Results agree to
// rounding across the two, and are bit-identical run to run within one.
//
// The choice is made once per process, here, because Gorgonia keeps its BLAS
// in a package variable that every graph uses. gonum's mat package (the
// evaluation metrics) is given the same BLAS: its own splits large products
// over every core, which would take the cores that parallel runs are using.
var blasName = chooseBLAS()

const gonumBLAS = "gonum.org/v1/gonum/blas/gonum (pure Go)"

func chooseBLAS() string {
	want := os.Getenv("VAELAB_BLAS")
	switch want {
	case "gonum":
		return gonumBLAS
	case "", "auto", "openblas":
	default:
		fmt.Fprintf(os.Stderr, "vaelab: VAELAB_BLAS=%q is not one of auto, openblas, gonum; using auto\n", want)
	}
	if impl, name, ok := loadOpenBLAS(); ok {
		G.Use(impl)
		blas64.Use(impl)
		return "OpenBLAS (" + name + ", 1 thread per training)"
	}
	if want == "openblas" {
		fmt.Fprintln(os.Stderr, "vaelab: VAELAB_BLAS=openblas but no OpenBLAS library could be opened (install libopenblas0); using gonum's pure-Go BLAS")
	}
	return gonumBLAS
}

// BLAS names the BLAS implementation in use in this process and the thread
// budget, since both change the last bits of results.
func BLAS() string {
	return fmt.Sprintf("%s, GOMAXPROCS=%d", blasName, runtime.GOMAXPROCS(0))
}
