package blaslib

import (
	"slices"
	"testing"
)

func TestCoresForTheCPU(t *testing.T) {
	for _, tc := range []struct {
		top  isa
		want []string
	}{
		{isaAVX512, []string{"SkylakeX", "Haswell", "Sandybridge"}},
		{isaAVX2, []string{"Haswell", "Sandybridge"}},
		{isaAVX, []string{"Sandybridge"}},
		{isaSSE, nil},
	} {
		if got := coresFor(tc.top); !slices.Equal(got, tc.want) {
			t.Errorf("coresFor(%s) = %v, want %v", tc.top, got, tc.want)
		}
	}
}

func TestGenericCore(t *testing.T) {
	for _, tc := range []struct {
		core string
		top  isa
		want bool
	}{
		{"Prescott", isaAVX512, true}, // the Xeon whose model 0.3.21 does not know
		{"Core2", isaAVX2, true},
		{"Nehalem", isaAVX, true},
		{"prescott", isaAVX512, true}, // names compare without case
		{"Prescott", isaSSE, false},   // nothing better to run
		{"Zen", isaAVX512, false},     // OpenBLAS's own choice for an AMD EPYC: kept
		{"Haswell", isaAVX512, false},
		{"Sandybridge", isaAVX2, false},
		{"SkylakeX", isaAVX512, false},
		{"ARMV8", isaAVX512, false}, // not an x86 name: never touched
		{"", isaAVX512, false},
	} {
		if got := genericCore(tc.core, tc.top); got != tc.want {
			t.Errorf("genericCore(%q, %s) = %v, want %v", tc.core, tc.top, got, tc.want)
		}
	}
}

// Feature sets of CPUs this suite may not run on, as golang.org/x/sys/cpu
// reports them (with an operating system that saves the AVX-512 state).
var (
	cpuSSE    = features{}
	cpuAVX    = features{AVX: true}
	cpuAVX2   = features{AVX: true, AVX2: true, FMA: true}
	cpuAVX512 = features{AVX: true, AVX2: true, FMA: true,
		AVX512F: true, AVX512CD: true, AVX512BW: true, AVX512DQ: true, AVX512VL: true}

	skylakeX       = cpuAVX512
	sapphireRapids = withBF16(cpuAVX512)
	zen2           = cpuAVX2
	zen3           = cpuAVX2
	zen4           = withBF16(cpuAVX512)
	zen5           = withBF16(cpuAVX512)
	// An AVX-512 CPU whose operating system does not save the ZMM state:
	// x/sys/cpu reports no AVX-512 at all, so AVX2 is the top.
	avx512NoOS = cpuAVX2
)

func withBF16(f features) features { f.AVX512BF16 = true; return f }

func TestFeaturesTop(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    features
		want isa
	}{
		{"SSE only", cpuSSE, isaSSE},
		{"AVX", cpuAVX, isaAVX},
		{"AVX2 without FMA is AVX", features{AVX: true, AVX2: true}, isaAVX},
		{"Skylake-X", skylakeX, isaAVX512},
		{"Sapphire Rapids", sapphireRapids, isaAVX512},
		{"Zen 2", zen2, isaAVX2},
		{"Zen 3", zen3, isaAVX2},
		{"Zen 4", zen4, isaAVX512},
		{"Zen 5", zen5, isaAVX512},
		{"AVX-512F without VL is AVX2", features{AVX: true, AVX2: true, FMA: true, AVX512F: true}, isaAVX2},
	} {
		if got := tc.f.top(); got != tc.want {
			t.Errorf("%s: top %s, want %s", tc.name, got, tc.want)
		}
	}
}

// TestDecideFallback: the fallback decision for Intel and AMD CPUs, given
// what OpenBLAS 0.3.21 reports on each (its own informed choice, or its
// generic Prescott for a model it does not know).
func TestDecideFallback(t *testing.T) {
	avx512Try := []string{"SkylakeX", "Haswell", "Sandybridge"}
	avx2Try := []string{"Haswell", "Sandybridge"}
	for _, tc := range []struct {
		cpu      string
		f        features
		reported string
		want     fallback
	}{
		{"Skylake-X, known", skylakeX, "SkylakeX", fallback{}},
		{"Xeon model 0.3.21 does not know", skylakeX, "Prescott", fallback{true, avx512Try}},
		{"Sapphire Rapids, known", sapphireRapids, "SapphireRapids", fallback{}},
		{"Sapphire Rapids as Cooperlake", sapphireRapids, "Cooperlake", fallback{}},
		{"Sapphire Rapids, unknown", sapphireRapids, "Prescott", fallback{true, avx512Try}},
		{"Zen 2", zen2, "Zen", fallback{}},
		{"Zen 2, unknown", zen2, "Prescott", fallback{true, avx2Try}},
		{"Zen 3", zen3, "Zen", fallback{}},
		{"Zen 3 forced to Haswell", zen3, "Haswell", fallback{}},
		{"Zen 4 as Cooperlake", zen4, "Cooperlake", fallback{}},
		{"Zen 4 as SkylakeX", zen4, "SkylakeX", fallback{}},
		{"Zen 4, unknown", zen4, "Prescott", fallback{true, avx512Try}},
		{"Zen 5 as Cooperlake", zen5, "Cooperlake", fallback{}},
		{"Zen 5 forced to Haswell", zen5, "Haswell", fallback{}},
		{"Zen 5, unknown", zen5, "Core2", fallback{true, avx512Try}},
		{"AVX-512 CPU without OS support", avx512NoOS, "Prescott", fallback{true, avx2Try}},
		{"SSE-only CPU", cpuSSE, "Prescott", fallback{}},
		{"a name vaelab does not know", zen5, "Zen6", fallback{}},
		{"no name", zen5, "", fallback{}},
		{"not x86", zen5, "ARMV8", fallback{}},
	} {
		got := decideFallback(tc.f, tc.reported)
		if got.Generic != tc.want.Generic || !slices.Equal(got.Try, tc.want.Try) {
			t.Errorf("%s reporting %q: %+v, want %+v", tc.cpu, tc.reported, got, tc.want)
		}
	}
}
