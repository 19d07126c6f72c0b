package data

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Issue "Trustworthy under misuse", defect 7: downloads never hang on a slow
// or stalled server and stop once past the expected size.
func TestFetchIsBounded(t *testing.T) {
	payload := bytes.Repeat([]byte("face"), 4096)
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/slow-headers":
			select {
			case <-release:
			case <-r.Context().Done():
			}
		case "/stalled-body":
			w.Write(payload[:100])
			w.(http.Flusher).Flush()
			select {
			case <-release:
			case <-r.Context().Done():
			}
		case "/endless": // no Content-Length; far more than the expected size
			for i := 0; i < 1000 && r.Context().Err() == nil; i++ {
				w.Write(payload)
			}
		}
	}))
	defer srv.Close()
	defer close(release)
	client := NewDownloadClient(300 * time.Millisecond)
	for _, tc := range []struct {
		path, want string
		size       int64
	}{
		{"/slow-headers", "", 0},
		{"/stalled-body", "sent nothing for 300ms", 0},
		{"/endless", "more than the 16384 bytes expected", int64(len(payload))},
	} {
		dir := t.TempDir()
		src := Source{Name: "demo", File: "demo.bin", URL: srv.URL + tc.path, SHA256: sha256Hex(payload), Size: tc.size}
		start := time.Now()
		err := Fetch(context.Background(), client, src, filepath.Join(dir, src.File), nil)
		if took := time.Since(start); err == nil || took > 20*time.Second || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: after %v, error %v; want one containing %q", tc.path, took, err, tc.want)
		}
		var written int64
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			fi, _ := e.Info()
			written += fi.Size()
		}
		if len(entries) != 0 {
			t.Errorf("%s left %d files (%d bytes)", tc.path, len(entries), written)
		}
	}
}

// Defect 6/7: files that are not regular (a FIFO would block forever,
// /dev/zero would fill memory) are refused before a byte is read.
func TestDatasetFilesMustBeRegular(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "faces.npy")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{fifo, "/dev/zero"} {
		done := make(chan error, 1)
		go func() { _, err := LoadNPY(path); done <- err }()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), "not a regular file") {
				t.Errorf("LoadNPY(%s): %v; want a refusal", path, err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("LoadNPY(%s) blocked", path)
		}
	}
	os.Mkdir(filepath.Join(dir, "folder"), 0o755)
	if err := syscall.Mkfifo(filepath.Join(dir, "folder", "a.png"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadFolder(context.Background(), filepath.Join(dir, "folder"), Prep{}); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("a FIFO in an image folder: %v; want a refusal", err)
	}
}

// Defect 6: a header's huge shape must not reach an allocation.
func TestNPYHugeShapeIsRefused(t *testing.T) {
	for _, shape := range []string{"(4294967296, 4294967296, 4294967296, 1)", "(2147483648, 2147483648, 8, 1)", "(1000000000, 64, 64)"} {
		header := fmt.Sprintf("{'descr': '|u1', 'fortran_order': False, 'shape': %s, }", shape)
		b := append([]byte("\x93NUMPY\x01\x00"), 0, 0)
		binary.LittleEndian.PutUint16(b[8:], uint16(len(header)))
		b = append(append(b, header...), make([]byte, 64)...)
		_, err := decodeNPY(b)
		if err == nil || !strings.Contains(err.Error(), "shape") {
			t.Errorf("shape %s: %v; want an error naming the shape", shape, err)
		}
	}
}

// Defect 6: a small PNG that declares 20000×20000 pixels is refused before
// its pixels are allocated.
func TestHugeImageIsRefused(t *testing.T) {
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewGray(image.Rect(0, 0, 20000, 1))); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	binary.BigEndian.PutUint32(b[16+4:], 20000) // IHDR height: now 20000x20000 in a few KB
	binary.BigEndian.PutUint32(b[29:], crc32.ChecksumIEEE(b[12:29]))
	path := filepath.Join(t.TempDir(), "big.png")
	os.WriteFile(path, b, 0o644)
	_, err := decodeImageFile(path)
	if err == nil || !strings.Contains(err.Error(), "pixel limit") {
		t.Errorf("a 20000x20000 PNG: %v; want a refusal naming the limit", err)
	}
}

// Defect 6: a synthetic dataset that cannot fit is refused at plan time,
// naming the limit and the keys to change.
func TestSyntheticMemoryIsChecked(t *testing.T) {
	c := Config{Name: "synthetic", Size: 512, Count: 100000, TestFraction: 0.1}
	if err := c.CheckMemory(); MemoryLimit() > 0 && (err == nil || !strings.Contains(err.Error(), "dataset.count")) {
		t.Errorf("512×512 × 100000 faces: %v; want a refusal naming dataset.count", err)
	}
	c.Count = 100
	if err := c.CheckMemory(); err != nil {
		t.Errorf("100 faces: %v", err)
	}
	t.Setenv("GOMEMLIMIT", "1MiB")
	if _, _, err := Synthetic(100, 64, 1); err == nil || !strings.Contains(err.Error(), "1.0 MiB") {
		t.Errorf("under GOMEMLIMIT=1MiB, 100 faces of 64×64: %v; want a refusal naming the limit", err)
	}
}
