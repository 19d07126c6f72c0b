//go:build unix

package threads

import (
	"os"
	"syscall"
)

// lock takes an exclusive advisory lock on path (created if missing),
// waiting for another holder. It returns a no-op when it cannot lock: the
// lock only spares processes started together a measurement each.
func lock(path string) (unlock func()) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return func() {}
	}
	if syscall.Flock(int(f.Fd()), syscall.LOCK_EX) != nil {
		f.Close()
		return func() {}
	}
	return func() { syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() }
}
