package blaslib

import (
	"strings"

	"golang.org/x/sys/cpu"
)

// An isa is the widest vector instruction set a CPU offers or a kernel set needs.
type isa int

const (
	isaSSE    isa = iota // SSE2/SSE3: every x86-64 CPU
	isaAVX               // AVX
	isaAVX2              // AVX2 with FMA
	isaAVX512            // AVX-512 F, CD, BW, DQ and VL (the Skylake-X set)
)

func (i isa) String() string {
	return [...]string{"SSE3", "AVX", "AVX2", "AVX-512"}[i]
}

// cpuISA is the widest instruction set this CPU and its operating system
// support (golang.org/x/sys/cpu checks both CPUID and the saved register state).
func cpuISA() isa {
	x := cpu.X86
	switch {
	case x.HasAVX512F && x.HasAVX512CD && x.HasAVX512BW && x.HasAVX512DQ && x.HasAVX512VL:
		return isaAVX512
	case x.HasAVX2 && x.HasFMA:
		return isaAVX2
	case x.HasAVX:
		return isaAVX
	}
	return isaSSE
}

// coreISA gives the instruction set the kernels of an x86-64 core that
// OpenBLAS can report use; ok is false for names it does not know (other
// architectures, newer names), which are never corrected.
func coreISA(core string) (level isa, ok bool) {
	switch strings.ToLower(core) {
	case "prescott", "core2", "penryn", "dunnington", "nehalem", "atom", "nano",
		"opteron", "opteron_sse3", "barcelona", "bobcat", "katmai", "coppermine",
		"northwood", "banias", "athlon":
		return isaSSE, true
	case "sandybridge", "bulldozer", "piledriver", "steamroller", "excavator":
		return isaAVX, true
	case "haswell", "zen":
		return isaAVX2, true
	case "skylakex", "cooperlake", "sapphirerapids":
		return isaAVX512, true
	}
	return isaSSE, false
}

// coresFor names, best first, the OpenBLAS cores whose kernels a CPU offering
// up to top can run: one core per instruction set, the one whose kernels
// OpenBLAS tunes for that set across vendors (its Zen kernels are its Haswell
// ones; Cooperlake's single- and double-precision products are Skylake-X's).
func coresFor(top isa) []string {
	all := []struct {
		name string
		isa  isa
	}{{"SkylakeX", isaAVX512}, {"Haswell", isaAVX2}, {"Sandybridge", isaAVX}}
	var names []string
	for _, c := range all {
		if c.isa <= top {
			names = append(names, c.name)
		}
	}
	return names
}

// genericCore reports whether core is one of the SSE-only kernel sets that
// OpenBLAS falls back to for a CPU model it does not know, while the CPU
// offers top: then OpenBLAS runs at a fraction of the CPU's speed. A core
// detected as AVX or better is OpenBLAS's own informed choice and is kept.
func genericCore(core string, top isa) bool {
	level, known := coreISA(core)
	return known && level == isaSSE && top >= isaAVX
}
