//go:build !cgo

package vae

type openBLAS struct{}

// loadOpenBLAS: without cgo there is no way to call OpenBLAS.
func loadOpenBLAS() (impl *openBLAS, name string, ok bool) { return nil, "", false }
