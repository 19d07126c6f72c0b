//go:build !cgo

package blaslib

// openOpenBLAS: without cgo there is no way to call OpenBLAS.
func openOpenBLAS() (lib library, ok bool) { return nil, false }
