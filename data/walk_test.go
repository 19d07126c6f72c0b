package data

import (
	"context"
	"image"
	"image/color"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Defect 4 (issue 28): the cache fingerprint follows symlinks, so a file
// changed behind a symlinked dataset (or a symlinked file in a folder)
// invalidates the decoded copy.
func TestFingerprintFollowsSymlinks(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "real.npy")
	os.WriteFile(target, []byte("first"), 0o644)
	os.Mkdir(filepath.Join(dir, "folder"), 0o755)
	os.Symlink(target, filepath.Join(dir, "link.npy"))
	os.Symlink(target, filepath.Join(dir, "folder", "a.png"))
	for _, path := range []string{filepath.Join(dir, "link.npy"), filepath.Join(dir, "folder")} {
		os.WriteFile(target, []byte("first"), 0o644)
		os.Chtimes(target, time.Unix(1000, 0), time.Unix(1000, 0))
		before, err := fingerprint(path)
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(target, []byte("second, longer"), 0o644)
		os.Chtimes(target, time.Unix(2000, 0), time.Unix(2000, 0))
		after, err := fingerprint(path)
		if err != nil {
			t.Fatal(err)
		}
		if before == after {
			t.Errorf("fingerprint of %s did not change when the file behind its symlink did", path)
		}
	}
}

// Defect 6 (issue 28): a folder dataset whose subfolders are symlinks loads
// every image; a link back up the tree (a loop) is not followed twice, and a
// broken link is an error, not a silently missing image.
func TestFolderFollowsSymlinkedSubfolders(t *testing.T) {
	dir := t.TempDir()
	root := filepath.Join(dir, "faces")
	for _, d := range []string{filepath.Join(root, "s1"), filepath.Join(dir, "elsewhere", "s2"), filepath.Join(dir, "elsewhere", "s3")} {
		os.MkdirAll(d, 0o755)
		for i := range 3 {
			img := image.NewGray(image.Rect(0, 0, 4, 4))
			img.Set(i, i, color.Gray{200})
			writePNG(t, filepath.Join(d, string(rune('a'+i))+".png"), img)
		}
	}
	os.Symlink(filepath.Join(dir, "elsewhere", "s2"), filepath.Join(root, "s2"))
	os.Symlink(filepath.Join("..", "elsewhere", "s3"), filepath.Join(root, "s3"))
	os.Symlink("..", filepath.Join(root, "s1", "up")) // a loop
	f, err := LoadFolder(context.Background(), root, Prep{})
	if err != nil {
		t.Fatal(err)
	}
	if f.Images.N != 9 || len(f.LabelNames) != 3 {
		t.Errorf("loaded %d images in %d classes (%v), want 9 in 3", f.Images.N, len(f.LabelNames), f.Files)
	}
	os.Symlink(filepath.Join(dir, "gone"), filepath.Join(root, "s4"))
	if _, err := LoadFolder(context.Background(), root, Prep{}); err == nil {
		t.Error("a broken symlink in the folder was ignored; want an error naming it")
	}
}
