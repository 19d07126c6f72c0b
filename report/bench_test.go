package report

import (
	"bytes"
	"context"
	"testing"
)

// BenchmarkReport500Runs renders an experiment of 500 runs with 2,000 steps of
// curves each and reports the page size. Setting up the store takes a while;
// run it with -benchtime 1x.
//
//	go test ./report -run XXX -bench Report500 -benchtime 1x
func BenchmarkReport500Runs(b *testing.B) {
	st, name := fakeExperiment(b, specWithRuns("big", []int{1, 2, 4, 8, 16}, []int{4, 8, 16, 32, 64}, 10), 2000, 5)
	rs, err := st.Runs(context.Background(), name)
	if err != nil || len(rs) != 500 {
		b.Fatalf("%d runs, %v", len(rs), err)
	}
	b.ResetTimer()
	var size int
	for b.Loop() {
		p, err := Build(context.Background(), st, []string{name}, Options{})
		if err != nil {
			b.Fatal(err)
		}
		var buf bytes.Buffer
		if err := Render(&buf, p); err != nil {
			b.Fatal(err)
		}
		size = buf.Len()
	}
	b.ReportMetric(float64(size)/1e6, "MB/page")
}
