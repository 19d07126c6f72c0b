package atomicfile

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestWriteReplacesWholeFilesOnly(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f.txt")
	sum, n, err := Write(path, 0o644, func(w io.Writer) error { _, err := io.WriteString(w, "first"); return err })
	want := sha256.Sum256([]byte("first"))
	if err != nil || n != 5 || sum != hex.EncodeToString(want[:]) {
		t.Fatalf("write: %v, %d bytes, sha256 %s", err, n, sum)
	}
	// A writer that fails half-way leaves the old content and no temporary file.
	_, _, err = Write(path, 0o644, func(w io.Writer) error {
		io.WriteString(w, "sec")
		return errors.New("disk full")
	})
	if err == nil {
		t.Fatal("a failing writer reported success")
	}
	b, _ := os.ReadFile(path)
	entries, _ := os.ReadDir(dir)
	if string(b) != "first" || len(entries) != 1 {
		t.Fatalf("after a failed write: content %q, %d files", b, len(entries))
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o644 {
		t.Fatalf("mode %v", fi.Mode())
	}
}

// WriteTarget replaces only regular files, keeping their mode, and refuses
// device nodes, FIFOs, sockets, folders and symlinks, leaving them as they were.
func TestWriteTargetReplacesOnlyRegularFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(w io.Writer) error { _, err := io.WriteString(w, "new"); return err }

	private := filepath.Join(dir, "private.html")
	os.WriteFile(private, []byte("old"), 0o600)
	if _, _, err := WriteTarget(private, write); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(private); fi.Mode().Perm() != 0o600 {
		t.Errorf("a mode-600 file became %v", fi.Mode().Perm())
	}
	fresh := filepath.Join(dir, "new.html")
	if _, _, err := WriteTarget(fresh, write); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(fresh); fi.Mode().Perm() != 0o644 {
		t.Errorf("a new file has mode %v, want 644", fi.Mode().Perm())
	}

	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	os.Symlink(private, link)
	sub := filepath.Join(dir, "sub")
	os.Mkdir(sub, 0o755)
	special := map[string]string{fifo: "a FIFO", link: "a symlink", sub: "a folder"}
	dev := filepath.Join(dir, "null")
	if err := syscall.Mknod(dev, syscall.S_IFCHR|0o666, 1<<8|3); err == nil { // /dev/null's numbers; needs root
		special[dev] = "a device"
	}
	for path, kind := range special {
		before, _ := os.Lstat(path)
		_, _, err := WriteTarget(path, write)
		if err == nil || !strings.Contains(err.Error(), kind) {
			t.Errorf("WriteTarget(%s): %v, want a refusal naming %s", filepath.Base(path), err, kind)
		}
		after, err := os.Lstat(path)
		if err != nil || after.Mode() != before.Mode() {
			t.Errorf("%s was replaced: %v", filepath.Base(path), err)
		}
	}
	if b, _ := os.ReadFile(private); string(b) != "new" {
		t.Errorf("the symlink's target changed to %q", b)
	}
}
