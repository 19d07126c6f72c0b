//go:build !unix

package threads

// lock does not lock here: processes started together may each measure,
// and each writes the file atomically.
func lock(string) (unlock func()) { return func() {} }
