//go:build unix

package data

import (
	"fmt"
	"os"
	"syscall"
)

// mapFile maps a regular file read-only and shared: every run of a process
// reads the same pages, and processes on one machine share them through
// the page cache. The mapping lives as long as the process.
func mapFile(path string) ([]byte, error) {
	f, size, err := openRegular(path, -1)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if size == 0 {
		return nil, fmt.Errorf("%s is empty", path)
	}
	b, err := syscall.Mmap(int(f.Fd()), 0, int(size), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("map %s: %w", path, err)
	}
	// Minibatches read images at random: no read-ahead around each one.
	syscall.Madvise(b, syscall.MADV_RANDOM)
	return b, nil
}

// lockFile takes an exclusive advisory lock on path (created if missing),
// waiting for another holder; waiting reports once through wait. The lock
// ends with unlock or the process.
func lockFile(path string, wait func()) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		if wait != nil {
			wait()
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
	}
	return func() { syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() }, nil
}
