//go:build !cgo

package vae

import "gonum.org/v1/gonum/blas/gonum"

type openBLAS struct{ gonum.Implementation }

// loadOpenBLAS: without cgo there is no way to call OpenBLAS.
func loadOpenBLAS() (impl *openBLAS, name string, ok bool) { return nil, "", false }
