package report

import (
	"bytes"
	"context"
	"fmt"
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

// BenchmarkReportManyRuns builds the report of experiments of 2,000 and
// 10,000 runs with short curves, ten seeds per configuration: its ns/run must
// stay flat as experiments grow (report building is linear in runs).
//
//	go test ./report -run XXX -bench ReportManyRuns -benchtime 1x
func BenchmarkReportManyRuns(b *testing.B) {
	for _, nBetas := range []int{10, 50} {
		betas := make([]int, nBetas)
		for i := range betas {
			betas[i] = i + 1
		}
		n := nBetas * 10 * 2 * 10
		b.Run(fmt.Sprintf("%d", n), func(b *testing.B) {
			st, name := fakeExperiment(b, specWithRuns("many", betas, []int{2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, 10), 2, 5)
			b.ResetTimer()
			for b.Loop() {
				if _, err := Build(context.Background(), st, []string{name}, Options{}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/run")
		})
	}
}
