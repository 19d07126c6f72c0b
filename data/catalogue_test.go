package data

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestVerifyChecksTheSumTheAuthorsPublish(t *testing.T) {
	dir := t.TempDir()
	body := []byte("faces")
	os.WriteFile(filepath.Join(dir, "f.bin"), body, 0o644)
	sha := sha256.Sum256(body)
	md := md5.Sum(body)
	for _, tc := range []struct {
		name string
		src  Source
		want string // in the message, or in the error when bad
		bad  bool
	}{
		{"sha256 ok", Source{Name: "x", File: "f.bin", SHA256: hex.EncodeToString(sha[:])}, "ok (sha256", false},
		{"sha256 wrong", Source{Name: "x", File: "f.bin", SHA256: strings.Repeat("0", 64)}, "want 0000", true},
		{"md5 ok", Source{Name: "x", File: "f.bin", MD5: hex.EncodeToString(md[:])}, "the official file", false},
		{"md5 wrong", Source{Name: "x", File: "f.bin", MD5: strings.Repeat("0", 32)}, "not the official file's", true},
		{"missing", Source{Name: "x", File: "nope.bin", SHA256: strings.Repeat("0", 64)}, "verify x", true},
	} {
		msg, err := Verify(tc.src, dir)
		got := msg
		if err != nil {
			got = err.Error()
		}
		if (err != nil) != tc.bad || !strings.Contains(got, tc.want) {
			t.Errorf("%s: %q, %v; want %q (error: %v)", tc.name, msg, err, tc.want, tc.bad)
		}
	}
}

func TestCatalogueSaysWhatIsPresent(t *testing.T) {
	dir := t.TempDir()
	srcs := Builtins()
	if len(srcs) == 0 {
		t.Fatal("no built-in datasets")
	}
	os.MkdirAll(filepath.Dir(filepath.Join(dir, srcs[0].File)), 0o755)
	os.WriteFile(filepath.Join(dir, srcs[0].File), []byte("x"), 0o644)
	var b strings.Builder
	if err := PrintCatalogue(&b, dir); err != nil {
		t.Fatal(err)
	}
	for _, src := range srcs {
		line := ""
		for _, l := range strings.Split(b.String(), "\n") {
			if strings.HasPrefix(l, src.Name+" ") {
				line = l
			}
		}
		want := " no "
		if src.Name == srcs[0].Name {
			want = " yes "
		}
		if !strings.Contains(line, want) {
			t.Errorf("%s: line %q does not say%q", src.Name, line, want)
		}
	}
}
