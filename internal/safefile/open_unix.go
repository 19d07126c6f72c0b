//go:build unix

package safefile

import (
	"os"
	"syscall"
)

const nonBlocking = syscall.O_NONBLOCK

// clearNonBlocking restores blocking reads on a file opened non-blocking
// (regular files ignore the flag; this keeps reads plain anyway).
func clearNonBlocking(f *os.File) error {
	sc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := sc.Control(func(fd uintptr) { serr = syscall.SetNonblock(int(fd), false) }); err != nil {
		return err
	}
	return serr
}
