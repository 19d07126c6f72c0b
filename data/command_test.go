package data

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vaelab/vaelab/internal/fault"
)

// `vaelab data fetch`: an unknown name is the user's error; the guard is
// asked before anything is written; a mirror's wrong bytes leave nothing.
func TestFetchNamed(t *testing.T) {
	mirror := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("not frey")) }))
	defer mirror.Close()
	refuse := func(dst string) error { return errors.New("refusing " + dst) }
	for _, c := range []struct {
		name string
		req  FetchRequest
		want string // in the error
		user bool
	}{
		{"unknown", FetchRequest{Name: "nope"}, `unknown dataset "nope" (known: [`, true},
		{"guarded dataset", FetchRequest{Name: "frey", Check: refuse}, "refusing ", false},
		{"guarded dlib-face", FetchRequest{Name: DlibFaceDir, Check: refuse}, "refusing ", false},
		{"wrong bytes", FetchRequest{Name: "frey", Mirror: mirror.URL}, "sha256", false},
	} {
		dir := t.TempDir()
		c.req.DataDir, c.req.Log = dir, &strings.Builder{}
		err := FetchNamed(context.Background(), c.req)
		if err == nil || !strings.Contains(err.Error(), c.want) || fault.IsUser(err) != c.user {
			t.Errorf("%s: %v; want an error with %q, user's: %v", c.name, err, c.want, c.user)
		}
		if left, _ := os.ReadDir(dir); len(left) > 0 && c.name != "wrong bytes" {
			t.Errorf("%s: wrote %v", c.name, left)
		}
		if src, _ := Builtin("frey"); c.name == "wrong bytes" {
			if _, err := os.Stat(filepath.Join(dir, src.File)); err == nil {
				t.Errorf("%s: a file with the wrong sum was kept", c.name)
			}
		}
	}
}

// `vaelab data show` writes the grid of a generated dataset and refuses an
// unknown name as the user's error.
func TestShowGrid(t *testing.T) {
	dir := t.TempDir()
	l := &Loader{DataDir: dir}
	out := filepath.Join(dir, "grid.png")
	var log strings.Builder
	if err := ShowGrid(context.Background(), l, "synthetic", 16, out, &log); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(out); err != nil || !strings.HasPrefix(string(b), "\x89PNG") {
		t.Errorf("grid: %v, %d bytes", err, len(b))
	}
	if !strings.Contains(log.String(), "synthetic: 3600 train and 400 test images of 32x32x1") || !strings.HasSuffix(log.String(), "grid of 16: "+out+"\n") {
		t.Errorf("message: %q", log.String())
	}
	if err := ShowGrid(context.Background(), l, "nope", 16, out, &log); !fault.IsUser(err) {
		t.Errorf("unknown dataset: %v, want the user's error", err)
	}
}

func TestVerifyBuiltin(t *testing.T) {
	dir := t.TempDir()
	if err := VerifyBuiltin(io.Discard, "nope", dir); !fault.IsUser(err) {
		t.Errorf("unknown: %v, want the user's error", err)
	}
	if err := VerifyBuiltin(io.Discard, "frey", dir); err == nil || fault.IsUser(err) || !strings.Contains(err.Error(), "verify frey") {
		t.Errorf("missing file: %v, want a failure naming the dataset", err)
	}
}
