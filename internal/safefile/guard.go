package safefile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Guard lists what an output path must never lead to: the workspace
// database with its WAL and shared-memory files, the run folders, the spec
// being run. A path is compared after resolving symlinks (also a path that
// does not exist yet, through its parent folders) and by file identity, so a
// symlinked folder, a hard link or a bind mount does not get around it.
type Guard struct {
	files, dirs []protected
}

type protected struct{ path, what string }

// Store protects a database file and the files SQLite keeps beside it.
func (g *Guard) Store(path string) {
	if path == "" {
		return
	}
	g.File(path, "the workspace database")
	for _, suffix := range []string{"-wal", "-shm", "-journal"} {
		g.File(path+suffix, "the workspace database's "+strings.TrimPrefix(suffix, "-")+" file")
	}
}

// File protects one file; what names it in the refusal.
func (g *Guard) File(path, what string) {
	if path != "" {
		g.files = append(g.files, protected{path, what})
	}
}

// Dir protects a folder and everything under it.
func (g *Guard) Dir(path, what string) {
	if path != "" {
		g.dirs = append(g.dirs, protected{path, what})
	}
}

// Check refuses out (the value of the flag named flag) when it leads to a
// protected file or into a protected folder.
func (g *Guard) Check(flag, out string) error {
	if out == "" {
		return nil
	}
	r, err := Resolve(out)
	if err != nil {
		return fmt.Errorf("%s %s: %w", flag, out, err)
	}
	outInfo, outErr := os.Stat(r)
	for _, p := range g.files {
		rp, err := Resolve(p.path)
		if err != nil {
			continue
		}
		same := rp == r
		if !same && outErr == nil {
			if pi, err := os.Stat(rp); err == nil {
				same = os.SameFile(outInfo, pi)
			}
		}
		if same {
			return refusal(flag, out, p.what, rp)
		}
	}
	for _, d := range g.dirs {
		rd, err := Resolve(d.path)
		if err != nil {
			continue
		}
		if r == rd || strings.HasPrefix(r, rd+string(filepath.Separator)) || rd == string(filepath.Separator) {
			return refusal(flag, out, d.what, rd)
		}
		// A bind mount of the folder elsewhere: compare each existing
		// ancestor of the output with the folder itself.
		di, err := os.Stat(rd)
		if err != nil {
			continue
		}
		for a := r; ; a = filepath.Dir(a) {
			if ai, err := os.Stat(a); err == nil && os.SameFile(ai, di) {
				return refusal(flag, out, d.what, rd)
			}
			if a == filepath.Dir(a) {
				break
			}
		}
	}
	return nil
}

func refusal(flag, out, what, target string) error {
	return fmt.Errorf("%s %s: refusing to write there: it leads to %s (%s), which vaelab never overwrites; name another file", flag, out, what, target)
}

// Resolve returns the absolute path that p leads to once every symlink is
// followed. For a path that does not exist yet, the longest existing prefix
// is resolved and the rest appended, since that is where a new file would
// be created. A symlink whose target is missing resolves to that target.
func Resolve(p string) (string, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", err
	}
	for range 64 { // bounds a chain of dangling symlinks
		real, err := filepath.EvalSymlinks(abs)
		if err == nil {
			return real, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
		// A dangling symlink: continue with its target.
		if t, lerr := os.Readlink(abs); lerr == nil {
			if !filepath.IsAbs(t) {
				t = filepath.Join(filepath.Dir(abs), t)
			}
			abs = filepath.Clean(t)
			continue
		}
		parent := filepath.Dir(abs)
		if parent == abs {
			return abs, nil
		}
		rp, err := Resolve(parent)
		if err != nil {
			return "", err
		}
		return filepath.Join(rp, filepath.Base(abs)), nil
	}
	return "", fmt.Errorf("too many levels of symbolic links")
}

// SystemDir reports whether dir (resolved) is a folder vaelab must never
// fill with run folders: the filesystem root, a system folder or anything
// in one of the kernel's or the system's trees, or a home folder itself. It
// returns the resolved path for messages.
func SystemDir(dir string) (string, bool) {
	r, err := Resolve(dir)
	if err != nil {
		return dir, false
	}
	exact := []string{"/", "/home", "/root", "/var", "/opt", "/mnt", "/media", "/srv", "/tmp", "/run"}
	if h, err := os.UserHomeDir(); err == nil && h != "" {
		if rh, err := Resolve(h); err == nil {
			exact = append(exact, rh)
		}
	}
	for _, e := range exact {
		if r == e {
			return r, true
		}
	}
	for _, tree := range []string{"/etc", "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/boot", "/proc", "/dev", "/sys", "/var/lib", "/var/log", "/var/cache", "/var/spool", "/var/run"} {
		if r == tree || strings.HasPrefix(r, tree+"/") {
			return r, true
		}
	}
	return r, false
}
