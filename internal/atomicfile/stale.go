package atomicfile

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
)

// A temporary file's name carries its writer: the process id and a short
// hash of the host name (hosts share run folders on a cluster). A writer
// killed mid-write (SIGKILL, power loss) cannot remove its file; whoever
// next sweeps the folder on the same host removes it once that process is
// gone. Files of live writers and of other hosts are left alone.
var staleName = regexp.MustCompile(`\.vaelab-([0-9]+)-([0-9a-f]{8})\.[^.]*\.tmp$`)

func hostTag() string {
	h, _ := os.Hostname()
	sum := sha256.Sum256([]byte(h))
	return hex.EncodeToString(sum[:4])
}

func writerTag() string { return fmt.Sprintf("vaelab-%d-%s", os.Getpid(), hostTag()) }

// TempPattern is the os.CreateTemp pattern of a temporary file for path
// written by this process: SweepStale removes it if the process is killed.
func TempPattern(path string) string { return "." + filepath.Base(path) + "." + writerTag() + ".*.tmp" }

// SweepStale removes the temporary files that writers on this host left in
// dir, and in its subfolders down to depth levels, when those writers are
// no longer running. It returns the paths removed; errors are ignored (a
// sweep is a courtesy: a file it cannot remove stays, harmless).
func SweepStale(dir string, depth int) []string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var removed []string
	host := hostTag()
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		if e.IsDir() {
			if depth > 0 {
				removed = append(removed, SweepStale(p, depth-1)...)
			}
			continue
		}
		m := staleName.FindStringSubmatch(e.Name())
		if m == nil || m[2] != host || !e.Type().IsRegular() {
			continue
		}
		if pid, err := strconv.Atoi(m[1]); err == nil && !processAlive(pid) && os.Remove(p) == nil {
			removed = append(removed, p)
		}
	}
	return removed
}
