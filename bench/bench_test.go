package bench

import (
	"context"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/vaelab/vaelab/internal/testenv"
)

func TestMain(m *testing.M) { testenv.SetupBLAS(); os.Exit(m.Run()) }

func TestMedianRound(t *testing.T) {
	rows := func(speeds ...float64) []Row {
		var out []Row
		for i, s := range speeds {
			out = append(out, Row{ImagesPerSecond: s, PeakMB: float64(10 * (i + 1))})
		}
		return out
	}
	for _, tc := range []struct {
		speeds    []float64
		want, mem float64
	}{
		{[]float64{5}, 5, 10},
		{[]float64{3, 1, 2}, 2, 30},
		{[]float64{4, 1, 3, 2}, 2, 40}, // the lower middle
	} {
		got := medianRound(rows(tc.speeds...))
		if got.ImagesPerSecond != tc.want || got.PeakMB != tc.mem {
			t.Errorf("medianRound(%v) = %v images/s, %v MB; want %v, %v", tc.speeds, got.ImagesPerSecond, got.PeakMB, tc.want, tc.mem)
		}
	}
}

// The eval section's descriptor line measures the Go network (with its
// weights) and says why when it cannot: no weights, no PyTorch.
func TestBenchDescriptors(t *testing.T) {
	var out strings.Builder
	if err := descriptors(context.Background(), &out, "", testenv.DlibWeights(t), 1); err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile(`(?m)^\s+vaelab\s+([0-9.]+)\s+([0-9.]+)$`).FindStringSubmatch(out.String())
	if row == nil || row[1] == "0.0" || !strings.Contains(out.String(), "pytorch: skipped") {
		t.Errorf("no measured vaelab row or no word on PyTorch:\n%s", out.String())
	}
	out.Reset()
	if err := descriptors(context.Background(), &out, "", t.TempDir(), 1); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "not measured") || !strings.Contains(out.String(), "vaelab data fetch dlib-face") {
		t.Errorf("without weights:\n%s", out.String())
	}
}
