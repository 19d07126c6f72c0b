package blaslib_test

import (
	"runtime"
	"testing"

	"github.com/vaelab/vaelab/internal/blaslib"
)

// TestSetupAddsOneSpareP: Setup leaves GOMAXPROCS one above the usable
// cores it found, records them, and a second Setup adds no second spare.
func TestSetupAddsOneSpareP(t *testing.T) {
	before := runtime.GOMAXPROCS(0)
	defer runtime.GOMAXPROCS(before)
	if c := blaslib.Current().Cores; c > 0 {
		before = c // an earlier test's setup already added the spare
	}
	for i := range 2 {
		info, err := blaslib.Setup(blaslib.Options{Choice: blaslib.Gonum, Threads: 2})
		if err != nil {
			t.Fatal(err)
		}
		if info.Cores != before || blaslib.Cores() != before {
			t.Errorf("setup %d: Cores %d (Cores() %d), want the %d found", i+1, info.Cores, blaslib.Cores(), before)
		}
		if got := runtime.GOMAXPROCS(0); got != before+1 {
			t.Errorf("setup %d: GOMAXPROCS %d, want %d usable + 1", i+1, got, before)
		}
	}
}
