package atomicfile

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
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
