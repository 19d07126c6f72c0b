package runs

import (
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/vaelab/vaelab/internal/blaslib"
)

// Version is vaelab's release version.
const Version = "0.1.0-dev"

// CurrentProvenance describes this process: the vaelab build (revision and dirty
// flag from the Go build info, when the binary was built from a VCS checkout),
// Go version, BLAS (library, version, kernels, threads; GOMAXPROCS) and host.
func CurrentProvenance() Provenance {
	p := Provenance{Version: Version, VCSRevision: "unknown (built without VCS stamping)", GoVersion: runtime.Version(), BLAS: blasText(blaslib.Current(), runtime.GOMAXPROCS(0))}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				p.VCSRevision = s.Value
			case "vcs.modified":
				p.VCSModified = s.Value == "true"
			}
		}
	}
	host, err := os.Hostname()
	if err != nil {
		host = "unknown"
	}
	p.Host = fmt.Sprintf("%s (%s/%s, %d CPUs)", host, runtime.GOOS, runtime.GOARCH, runtime.NumCPU())
	return p
}

// blasText is the BLAS's line, with its thread count where the line names
// none (gonum's without vaelab's products: its parallel ops still use them,
// and they change a run's last bits), and GOMAXPROCS with the usable cores
// when the setup added its spare P. It is text in the
// store's blas columns, so the record needs no new column.
func blasText(b blaslib.Info, gomaxprocs int) string {
	line, n := b.String(), max(b.Threads, 1)
	if !strings.Contains(line, fmt.Sprintf(" %d thread", n)) {
		line += fmt.Sprintf(", %d thread", n)
		if n != 1 {
			line += "s"
		}
	}
	line += fmt.Sprintf(", GOMAXPROCS=%d", gomaxprocs)
	if b.Cores > 0 && gomaxprocs == b.Cores+1 {
		line += fmt.Sprintf(" (%d usable cores and a spare P for the runtime)", b.Cores)
	}
	return line
}

// VersionLine is what vaelab --version prints after "vaelab ": the
// version, and the commit it was built from when the build recorded one.
func VersionLine(p Provenance) string {
	v := p.Version
	if p.VCSRevision != "" && !strings.HasPrefix(p.VCSRevision, "unknown") {
		v += " (commit " + p.VCSRevision
		if p.VCSModified {
			v += ", modified"
		}
		v += ")"
	}
	return v
}

// owner identifies this process as the worker of a run: host and pid.
func owner() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s/%d", host, os.Getpid())
}

// ownerAlive reports whether the worker named by ownerID ("host/pid") may still
// be running a run: its heartbeat is recent and, when it is on this host, its
// process exists. A stale worker that wakes up later cannot overwrite the new
// attempt: Finish only updates a run still owned by the caller.
//
// A run claimed for a remote scheduler's task is alive for this test
// whatever its heartbeat (its worker writes elsewhere): only that
// scheduler's records settle it (see executor.holdsClaim).
func ownerAlive(ownerID string, heartbeat time.Time, staleAfter time.Duration) bool {
	for _, e := range executors() {
		if e.holdsClaim != nil && e.holdsClaim(ownerID) {
			return true
		}
	}
	if time.Since(heartbeat) > staleAfter {
		return false
	}
	host, _ := os.Hostname()
	i := strings.LastIndexByte(ownerID, '/')
	if i < 0 || ownerID[:i] != host {
		return true
	}
	pid, err := strconv.Atoi(ownerID[i+1:])
	if err != nil {
		return true
	}
	err = syscall.Kill(pid, 0)
	return pid == os.Getpid() || err == nil || err == syscall.EPERM
}
