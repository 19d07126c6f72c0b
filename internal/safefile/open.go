// Package safefile is where vaelab opens the files it reads and checks the
// paths it writes: a file is read only when it is a regular file within a
// size limit for its kind (a FIFO would block, /dev/zero would fill memory),
// and an output path may never lead to the workspace's own records (the
// database, its WAL, run files, the spec being run).
package safefile

import (
	"fmt"
	"io"
	"io/fs"
	"os"
)

// Size limits by kind of file, checked before a byte is read. Each is far
// above what vaelab writes for that kind, and far below what would exhaust a
// machine's memory.
const (
	MaxSpec       = 1 << 20 // a YAML spec
	MaxSettings   = 1 << 20 // .vaelab.yaml
	MaxCheckpoint = 4 << 30 // a model checkpoint with its optimiser state
	MaxFit        = 1 << 30 // a post-hoc sampler's fit (JSON)
	MaxImage      = 1 << 30 // one image file (its pixels are capped separately)
	MaxManifest   = 1 << 28 // a Slurm job's manifest
	MaxSmall      = 1 << 16 // a one-line state file (a job id)
	MaxPackage    = 1 << 30 // a downloaded package tarball
	MaxWeights    = 1 << 28 // a feature extractor's weights
	NoLimit       = -1
)

// Open opens path for reading when it is a regular file of at most max bytes
// (max < 0: any size). It opens without blocking (a FIFO with no writer
// would otherwise hang the open) and checks the opened file itself, so a
// file swapped for a FIFO or a device between a check and the open is
// refused too. A symlink is followed: its target must be regular.
func Open(path string, max int64) (*os.File, int64, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|nonBlocking, 0)
	if err != nil {
		return nil, 0, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, 0, fmt.Errorf("%s is %s, not a regular file; vaelab reads only regular files: put the file itself there", path, Kind(fi.Mode()))
	}
	if max >= 0 && fi.Size() > max {
		f.Close()
		return nil, 0, fmt.Errorf("%s is %s, more than the %s vaelab reads from a file of this kind: it is not a file vaelab wrote, or it was replaced", path, ByteSize(fi.Size()), ByteSize(max))
	}
	if err := clearNonBlocking(f); err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, fi.Size(), nil
}

// Read reads a whole regular file of at most max bytes (max < 0: any size);
// anything else is refused before a byte is read.
func Read(path string, max int64) ([]byte, error) {
	f, size, err := Open(path, max)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b := make([]byte, size)
	if _, err := io.ReadFull(f, b); err != nil {
		return nil, fmt.Errorf("%s changed size while being read: %w", path, err)
	}
	// A file that grew after the size check is read only up to that size:
	// a further byte means it changed under us.
	if n, _ := f.Read(make([]byte, 1)); n > 0 {
		return nil, fmt.Errorf("%s grew while being read; read it again when nothing writes it", path)
	}
	return b, nil
}

// Kind names a file mode's type for messages: "a FIFO", "a device", ...
func Kind(m fs.FileMode) string {
	switch {
	case m.IsRegular():
		return "a regular file"
	case m&fs.ModeSymlink != 0:
		return "a symlink"
	case m.IsDir():
		return "a folder"
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return "a special file"
}

// ByteSize formats n for messages.
func ByteSize(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

// RecordedLimit is the read limit for a file whose size vaelab recorded
// when it wrote it: room for a changed file to be read and then refused by
// its checksum with a precise message, never more than ceiling.
func RecordedLimit(recorded, ceiling int64) int64 {
	return min(ceiling, 2*max(recorded, 0)+1<<20)
}
