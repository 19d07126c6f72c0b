package data

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Defect 9 of issue 28: CelebA's official split without its
// list_eval_partition.txt is reported before any image is decoded (here the
// images are not even JPEGs: decoding would fail first).
func TestMissingCelebAPartitionIsReportedBeforeDecoding(t *testing.T) {
	dir := t.TempDir()
	imgs := filepath.Join(dir, "celeba", "img_align_celeba")
	os.MkdirAll(imgs, 0o755)
	for _, n := range []string{"000001.jpg", "000002.jpg"} {
		os.WriteFile(filepath.Join(imgs, n), []byte("not a jpeg"), 0o644)
	}
	c := Config{Name: "celeba", Path: imgs, Size: 8, TestFraction: 0.1}
	if err := c.CheckPartition(dir); err == nil || !strings.Contains(err.Error(), "list_eval_partition.txt") {
		t.Errorf("plan-time check: %v", err)
	}
	l := &Loader{DataDir: dir}
	_, err := l.Load(context.Background(), c)
	if err == nil || !strings.Contains(err.Error(), "list_eval_partition.txt") {
		t.Fatalf("load: %v; want the missing partition file named first", err)
	}
}
