// Package atomicfile writes files so that readers see the old content or the whole
// new content, never a part: temporary file, fsync, rename.
package atomicfile

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Write writes a file through write into a temporary file beside path,
// syncs it and renames it over path, so readers see the old file or the whole
// new one, never a part. It returns the file's sha256 and size.
func Write(path string, perm os.FileMode, write func(io.Writer) error) (sum string, size int64, err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), TempPattern(path))
	if err != nil {
		return "", 0, fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // fails harmlessly after the rename
	h := sha256.New()
	cw := &countingWriter{w: io.MultiWriter(tmp, h)}
	err = write(cw)
	if err == nil {
		err = tmp.Chmod(perm)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return "", 0, fmt.Errorf("write %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), cw.n, nil
}

// WriteTarget writes a file the user named (an -o PATH) as Write does, but
// refuses to replace anything that is not a regular file (a device, FIFO,
// socket, folder or symlink: renaming over it would replace the node itself),
// and keeps an existing file's permission bits; a new file gets 0644.
func WriteTarget(path string, write func(io.Writer) error) (sum string, size int64, err error) {
	perm := os.FileMode(0o644)
	fi, err := os.Lstat(path)
	switch {
	case err == nil && !fi.Mode().IsRegular():
		return "", 0, fmt.Errorf("write %s: it is %s, not a regular file; vaelab replaces only regular files: name a regular file or a new path", path, kindOf(fi.Mode()))
	case err == nil:
		perm = fi.Mode().Perm()
	case !os.IsNotExist(err):
		return "", 0, fmt.Errorf("write %s: %w", path, err)
	}
	SweepStale(filepath.Dir(path), 0) // an earlier write of it killed mid-way
	return Write(path, perm, write)
}

func kindOf(m os.FileMode) string {
	switch {
	case m&os.ModeSymlink != 0:
		return "a symlink"
	case m.IsDir():
		return "a folder"
	case m&os.ModeNamedPipe != 0:
		return "a FIFO"
	case m&os.ModeSocket != 0:
		return "a socket"
	case m&os.ModeDevice != 0:
		return "a device"
	}
	return "a special file"
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
