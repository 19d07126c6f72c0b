package data

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func tarball(t *testing.T, members map[string][]byte, declared map[string]int64) string {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for name, b := range members {
		size := int64(len(b))
		if d, ok := declared[name]; ok {
			size = d
		}
		tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: size})
		tw.Write(b)
	}
	tw.Close()
	gz.Close()
	path := filepath.Join(t.TempDir(), "p.tgz")
	os.WriteFile(path, buf.Bytes(), 0o644)
	return path
}

// A tarball that is not face-api 1.7.15's, or members that are damaged,
// oversized or missing, are errors that name them; nothing is installed.
func TestInstallDlibFaceRefusesBadPackages(t *testing.T) {
	dataDir := t.TempDir()
	foreign := tarball(t, map[string][]byte{"package/model/" + DlibWeightsFile: []byte("x")}, nil)
	if _, err := InstallDlibFace(context.Background(), dataDir, foreign); err == nil || !strings.Contains(err.Error(), foreign) || !strings.Contains(err.Error(), "sha256") {
		t.Errorf("a foreign tarball: %v", err)
	}
	if entries, _ := os.ReadDir(dataDir); len(entries) != 0 {
		t.Errorf("a refused tarball left %v in the data directory", entries)
	}
	for name, tc := range map[string]struct {
		members  map[string][]byte
		declared map[string]int64
		want     string
	}{
		"damaged member":  {map[string][]byte{"package/model/" + DlibWeightsFile: []byte("not the weights")}, nil, "member package/model/" + DlibWeightsFile + " has sha256"},
		"enormous member": {map[string][]byte{"package/model/" + DlibManifestFile: []byte("{}")}, map[string]int64{"package/model/" + DlibManifestFile: 1 << 40}, "declares 1099511627776 bytes"},
		"missing member":  {map[string][]byte{"package/README.md": []byte("hi")}, nil, "has no member package/model/"},
	} {
		path := tarball(t, tc.members, tc.declared)
		if err := extractDlibFace(path, t.TempDir()); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error containing %q", name, err, tc.want)
		}
	}
}
