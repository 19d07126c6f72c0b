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
