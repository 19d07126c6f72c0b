package atomicfile

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestSweepStaleRemovesOnlyDeadWritersFiles(t *testing.T) {
	dir := t.TempDir()
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	deadTag := strings.Replace(writerTag(), "vaelab-"+itoa(os.Getpid()), "vaelab-"+itoa(dead.Process.Pid), 1)
	files := map[string]bool{ // name: swept
		filepath.Join(dir, ".a.png."+deadTag+".1.tmp"):              true,
		filepath.Join(dir, "sub", ".b.vck."+deadTag+".2.tmp"):       true,
		filepath.Join(dir, ".c.png."+writerTag()+".3.tmp"):          false, // this process: alive
		filepath.Join(dir, ".d.png.vaelab-1-00000000.4.tmp"):        false, // another host
		filepath.Join(dir, ".e.png.123.tmp"):                        false, // not vaelab's naming
		filepath.Join(dir, "sub", "deeper", ".f."+deadTag+".5.tmp"): false, // beyond the depth
	}
	for f := range files {
		os.MkdirAll(filepath.Dir(f), 0o755)
		os.WriteFile(f, []byte("partial"), 0o644)
	}
	SweepStale(dir, 1)
	for f, swept := range files {
		_, err := os.Stat(f)
		if gone := err != nil; gone != swept {
			t.Errorf("%s: removed %v, want %v", filepath.Base(f), gone, swept)
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
