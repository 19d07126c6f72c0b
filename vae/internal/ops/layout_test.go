package ops

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestRelayoutMatchesDefinition checks both directions of the layout op
// against the index maps they stand for, and that one undoes the other.
func TestRelayoutMatchesDefinition(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, s := range []ImageShape{{1, 1, 1}, {4, 5, 1}, {3, 7, 3}, {64, 64, 3}, {6, 2, 5}} {
		t.Run(fmt.Sprintf("%dx%dx%d", s.Height, s.Width, s.Channels), func(t *testing.T) {
			const N = 3
			C, HW := s.Channels, s.Height*s.Width
			x := randVec32(rng, N*s.Dim())
			planar, back := make([]float32, len(x)), make([]float32, len(x))
			relayout(layoutOp{shape: s, planar: true}, planar, x)
			relayout(layoutOp{shape: s, planar: false}, back, planar)
			for b := range N {
				for p := range HW {
					for c := range C {
						if got, want := planar[b*C*HW+c*HW+p], x[b*C*HW+p*C+c]; got != want {
							t.Fatalf("planar image %d channel %d pixel %d: %v, want %v", b, c, p, got, want)
						}
					}
				}
			}
			for i := range x {
				if back[i] != x[i] {
					t.Fatalf("round trip value %d: %v, want %v", i, back[i], x[i])
				}
			}
		})
	}
}

// BenchmarkRelayout times the conv VAE's layouts: a batch of 64 images of
// 64×64×3, to planar and back.
func BenchmarkRelayout(b *testing.B) {
	s := ImageShape{64, 64, 3}
	x := randVec32(rand.New(rand.NewPCG(1, 1)), 64*s.Dim())
	y := make([]float32, len(x))
	for _, planar := range []bool{true, false} {
		b.Run(fmt.Sprintf("planar=%t", planar), func(b *testing.B) {
			op := layoutOp{shape: s, planar: planar}
			for b.Loop() {
				relayout(op, y, x)
			}
			b.ReportMetric(float64(len(x))*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mvalues/s")
		})
	}
}
