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

// features are the CPU facts the choice of kernels depends on: the vector
// extensions both the CPU and the operating system support. Tests inject
// the feature sets of CPUs they do not run on.
type features struct {
	AVX, AVX2, FMA                                  bool
	AVX512F, AVX512CD, AVX512BW, AVX512DQ, AVX512VL bool
	AVX512BF16                                      bool // Cooper Lake, Sapphire Rapids, Zen 4 and later
}

// hostFeatures reads this CPU's features (golang.org/x/sys/cpu checks both
// CPUID and the register state the operating system saves).
func hostFeatures() features {
	x := cpu.X86
	return features{
		AVX: x.HasAVX, AVX2: x.HasAVX2, FMA: x.HasFMA,
		AVX512F: x.HasAVX512F, AVX512CD: x.HasAVX512CD, AVX512BW: x.HasAVX512BW,
		AVX512DQ: x.HasAVX512DQ, AVX512VL: x.HasAVX512VL, AVX512BF16: x.HasAVX512BF16,
	}
}

// top is the widest instruction set whose kernels the CPU can run.
func (f features) top() isa {
	switch {
	case f.AVX512F && f.AVX512CD && f.AVX512BW && f.AVX512DQ && f.AVX512VL:
		return isaAVX512
	case f.AVX2 && f.FMA:
		return isaAVX2
	case f.AVX:
		return isaAVX
	}
	return isaSSE
}

// cpuISA is the widest instruction set this CPU runs.
func cpuISA() isa { return hostFeatures().top() }

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

// A fallback is what to do about the core a library reports on a CPU.
type fallback struct {
	Generic bool     // the library runs generic kernels on a CPU that has better ones
	Try     []string // the cores to try instead, best first (empty unless Generic)
}

// decideFallback is the whole decision, a function of the CPU's features and
// the core name the library reports, and nothing else: a generic core is
// replaced by the best kernels the CPU runs; any other answer (the library's
// informed choice, a name vaelab does not know) is kept.
func decideFallback(f features, reported string) fallback {
	top := f.top()
	if !genericCore(reported, top) {
		return fallback{}
	}
	return fallback{Generic: true, Try: coresFor(top)}
}
