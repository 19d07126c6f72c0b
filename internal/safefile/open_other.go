//go:build !unix

package safefile

import "os"

const nonBlocking = 0

func clearNonBlocking(*os.File) error { return nil }
