package blaslib

import (
	"slices"
	"strings"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// fakeOpenBLAS behaves as a DYNAMIC_ARCH OpenBLAS: it detects detect at
// load, offers the cores in offers (an unknown OPENBLAS_CORETYPE leaves it on
// its detection, as OpenBLAS does), computes with gonum, and gets one entry
// of every product wrong while it runs a core listed in wrong.
type fakeOpenBLAS struct {
	gonum.Implementation
	detect  string
	offers  []string
	wrong   []string
	static  bool // not DYNAMIC_ARCH: cannot switch
	core    string
	reinits []string
	threads int
}

func newFake(detect string, offers ...string) *fakeOpenBLAS {
	return &fakeOpenBLAS{detect: detect, offers: offers, core: detect, threads: 2}
}

func (f *fakeOpenBLAS) Name() string     { return "libfake.so" }
func (f *fakeOpenBLAS) CoreName() string { return f.core }
func (f *fakeOpenBLAS) Config() string   { return "OpenBLAS 9.9.9 DYNAMIC_ARCH " + f.core }
func (f *fakeOpenBLAS) Threads() int     { return f.threads }
func (f *fakeOpenBLAS) SetThreads(n int) { f.threads = n }

func (f *fakeOpenBLAS) Reinit(core string) bool {
	if f.static {
		return false
	}
	f.reinits = append(f.reinits, core)
	f.core = f.detect
	if slices.Contains(f.offers, core) {
		f.core = core
	}
	return true
}

func (f *fakeOpenBLAS) Sgemm(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	f.Implementation.Sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	if slices.Contains(f.wrong, f.core) {
		c[ldc+1] += 1e-3
	}
}

func (f *fakeOpenBLAS) Dgemm(tA, tB blas.Transpose, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	f.Implementation.Dgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	if slices.Contains(f.wrong, f.core) {
		c[ldc+1] *= 1 + 1e-9
	}
}

func TestChooseCore(t *testing.T) {
	all := []string{"Prescott", "Sandybridge", "Haswell", "SkylakeX", "Zen"}
	for _, tc := range []struct {
		name        string
		lib         *fakeOpenBLAS
		m           machine
		wantLibrary string
		wantCore    string
		wantReinits []string
		wantGeneric bool
		wantWarning string // part of it; "" wants none
		wantReason  string
	}{
		{name: "Prescott on an AVX-512 CPU becomes SkylakeX", lib: newFake("Prescott", all...), m: machine{cpu: cpuAVX512},
			wantLibrary: "OpenBLAS", wantCore: "SkylakeX", wantReinits: []string{"SkylakeX"}, wantReason: "detected Prescott"},
		{name: "Core2 on an AVX2 CPU becomes Haswell", lib: newFake("Core2", all...), m: machine{cpu: cpuAVX2},
			wantLibrary: "OpenBLAS", wantCore: "Haswell", wantReinits: []string{"Haswell"}},
		{name: "a build without SkylakeX gives Haswell", lib: newFake("Prescott", "Prescott", "Haswell"), m: machine{cpu: cpuAVX512},
			wantLibrary: "OpenBLAS", wantCore: "Haswell", wantReinits: []string{"SkylakeX", "Haswell"}},
		{name: "the user's OPENBLAS_CORETYPE is left alone", lib: newFake("Prescott", all...), m: machine{cpu: cpuAVX512, userSet: true, userCore: "Prescott"},
			wantLibrary: "OpenBLAS", wantCore: "Prescott", wantGeneric: true, wantReason: "OPENBLAS_CORETYPE=Prescott, set by the user"},
		{name: "a user's core the library does not run is named as what runs", lib: newFake("Haswell", all...), m: machine{cpu: cpuAVX2, userSet: true, userCore: "SkylakeX"},
			wantLibrary: "OpenBLAS", wantCore: "Haswell", wantReason: "OPENBLAS_CORETYPE=SkylakeX, set by the user; the library runs Haswell instead"},
		{name: "a detected Cooperlake on an AMD Zen 5 is kept", lib: newFake("Cooperlake", all...), m: machine{cpu: zen5},
			wantLibrary: "OpenBLAS", wantCore: "Cooperlake", wantReason: "detected"},
		{name: "wrong products on the better core: back to the detected one, by name", lib: &fakeOpenBLAS{detect: "Cooperlake", offers: all, core: "Prescott", wrong: []string{"SkylakeX"}}, m: machine{cpu: zen5},
			wantLibrary: "OpenBLAS", wantCore: "Prescott", wantReinits: []string{"SkylakeX", "Prescott"}, wantGeneric: true, wantWarning: "the library runs its Prescott kernels again"},
		{name: "a detected Zen is kept", lib: newFake("Zen", all...), m: machine{cpu: cpuAVX512},
			wantLibrary: "OpenBLAS", wantCore: "Zen", wantReason: "detected"},
		{name: "wrong products on the better core: back to the detected one", lib: &fakeOpenBLAS{detect: "Prescott", offers: all, core: "Prescott", wrong: []string{"SkylakeX"}}, m: machine{cpu: cpuAVX512},
			wantLibrary: "OpenBLAS", wantCore: "Prescott", wantReinits: []string{"SkylakeX", "Prescott"}, wantGeneric: true, wantWarning: "SkylakeX kernels computed a wrong product"},
		{name: "wrong products on every core: gonum", lib: &fakeOpenBLAS{detect: "Prescott", offers: all, core: "Prescott", wrong: all}, m: machine{cpu: cpuAVX512},
			wantLibrary: "gonum", wantReinits: []string{"SkylakeX", "Prescott"}, wantWarning: "using gonum's pure-Go BLAS"},
		{name: "wrong products on the user's core: gonum", lib: &fakeOpenBLAS{detect: "Haswell", offers: all, core: "Haswell", wrong: []string{"Haswell"}}, m: machine{cpu: cpuAVX512, userSet: true, userCore: "Haswell"},
			wantLibrary: "gonum", wantWarning: "Haswell kernels computed a wrong product"},
		{name: "a build that cannot switch keeps its generic core", lib: &fakeOpenBLAS{detect: "Prescott", core: "Prescott", static: true}, m: machine{cpu: cpuAVX512},
			wantLibrary: "OpenBLAS", wantCore: "Prescott", wantGeneric: true, wantReason: "cannot switch"},
		{name: "an SSE-only CPU keeps Prescott", lib: newFake("Prescott", all...), m: machine{cpu: cpuSSE},
			wantLibrary: "OpenBLAS", wantCore: "Prescott"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var warn strings.Builder
			impl, info, err := choose(Auto, tc.lib, tc.m, &warn)
			if err != nil {
				t.Fatal(err)
			}
			if info.Library != tc.wantLibrary || (tc.wantLibrary == "OpenBLAS" && info.Core != tc.wantCore) {
				t.Fatalf("got %s core %q (%s), want %s core %q", info.Library, info.Core, info.Reason, tc.wantLibrary, tc.wantCore)
			}
			if _, isGonum := impl.(gonum.Implementation); isGonum != (tc.wantLibrary == "gonum") {
				t.Fatalf("installed %T for %s", impl, info.Library)
			}
			if !slices.Equal(tc.lib.reinits, tc.wantReinits) {
				t.Errorf("reinitialised with %q, want %q", tc.lib.reinits, tc.wantReinits)
			}
			if tc.wantLibrary == "OpenBLAS" && tc.lib.core != info.Core {
				t.Errorf("the library runs %s, the record says %s", tc.lib.core, info.Core)
			}
			if info.Generic != tc.wantGeneric {
				t.Errorf("Generic = %v, want %v", info.Generic, tc.wantGeneric)
			}
			if (tc.wantWarning == "") != (warn.Len() == 0) || !strings.Contains(warn.String(), tc.wantWarning) {
				t.Errorf("warning %q, want one containing %q", warn.String(), tc.wantWarning)
			}
			if !strings.Contains(info.Reason, tc.wantReason) {
				t.Errorf("reason %q, want it to say %q", info.Reason, tc.wantReason)
			}
			if info.Library == "OpenBLAS" && (info.Threads != 1 || info.Version != "9.9.9") {
				t.Errorf("threads %d version %q, want 1 and 9.9.9", info.Threads, info.Version)
			}
		})
	}
}

func TestChooseWithoutOpenBLAS(t *testing.T) {
	if _, _, err := choose(OpenBLAS, nil, machine{cpu: cpuAVX2}, nil); err == nil || !strings.Contains(err.Error(), "libopenblas0") {
		t.Errorf("blas openblas without the library: err %v, want one naming the package to install", err)
	}
	_, info, err := choose(Auto, nil, machine{cpu: cpuAVX2}, nil)
	if err != nil || info.Library != "gonum" {
		t.Errorf("auto without OpenBLAS: %+v, %v; want gonum", info, err)
	}
	lib := newFake("Prescott", "SkylakeX")
	_, info, err = choose(Gonum, lib, machine{cpu: cpuAVX512}, nil)
	if err != nil || info.Library != "gonum" || len(lib.reinits) != 0 {
		t.Errorf("blas gonum: %+v, %v, reinits %v; want gonum and the library untouched", info, err, lib.reinits)
	}
	if _, err := Setup(Options{Choice: "mkl"}); err == nil || !strings.Contains(err.Error(), "auto, openblas, gonum") {
		t.Errorf("Setup(mkl): %v, want an error listing the choices", err)
	}
}

// TestVerifyCatchesWrongProducts: the start-up check must reject a product
// off in one entry, in either precision, and accept gonum's.
func TestVerifyCatchesWrongProducts(t *testing.T) {
	if err := verify(gonum.Implementation{}); err != nil {
		t.Fatalf("gonum's products: %v", err)
	}
	for _, wrong := range []string{"single", "double"} {
		f := &fakeOpenBLAS{core: "X", wrong: []string{"X"}}
		var err error
		if wrong == "single" {
			err = verify(sgemmOnly{f})
		} else {
			err = verify(dgemmOnly{f})
		}
		if err == nil {
			t.Errorf("a wrong %s-precision product passed the check", wrong)
		}
	}
}

// sgemmOnly and dgemmOnly keep one precision of a wrong library wrong.
type sgemmOnly struct{ f *fakeOpenBLAS }

func (s sgemmOnly) Sgemm(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	s.f.Sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

func (s sgemmOnly) Dgemm(tA, tB blas.Transpose, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	gonum.Implementation{}.Dgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

type dgemmOnly struct{ f *fakeOpenBLAS }

func (d dgemmOnly) Sgemm(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	gonum.Implementation{}.Sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

func (d dgemmOnly) Dgemm(tA, tB blas.Transpose, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	d.f.Dgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}
