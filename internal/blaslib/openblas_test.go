//go:build cgo

package blaslib

import (
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// realOpenBLAS opens the machine's OpenBLAS; under CI it must be installed,
// so the fast path is the one tested.
func realOpenBLAS(t *testing.T) library {
	t.Helper()
	lib, ok := openOpenBLAS()
	if !ok {
		if os.Getenv("CI") == "true" { // testenv would import this package
			t.Fatal("no OpenBLAS library could be opened; .ci/run installs libopenblas0-pthread")
		}
		t.Skip("no OpenBLAS here (apt-get install libopenblas0-pthread); the pure-Go BLAS is in use")
	}
	lib.SetThreads(1)
	return lib
}

// TestOpenBLASMatchesGonum checks the cgo binding (argument order, row-major
// layout, transposes, leading dimensions, β) against gonum's pure-Go gemm.
func TestOpenBLASMatchesGonum(t *testing.T) {
	impl := realOpenBLAS(t)
	t.Logf("OpenBLAS from %s: %s", impl.Name(), impl.Config())
	rng := rand.New(rand.NewPCG(4, 4))
	for _, tc := range []struct{ tA, tB blas.Transpose }{{blas.NoTrans, blas.NoTrans}, {blas.Trans, blas.NoTrans}, {blas.NoTrans, blas.Trans}, {blas.Trans, blas.Trans}} {
		m, n, k := 7, 5, 9
		a, b, c0 := randomValues(rng, m*k), randomValues(rng, k*n), randomValues(rng, m*n)
		lda, ldb := k, n
		if tc.tA == blas.Trans {
			lda = m
		}
		if tc.tB == blas.Trans {
			ldb = k
		}
		want, got := append([]float64(nil), c0...), append([]float64(nil), c0...)
		gonum.Implementation{}.Dgemm(tc.tA, tc.tB, m, n, k, 1.5, a, lda, b, ldb, 0.5, want, n)
		impl.Dgemm(tc.tA, tc.tB, m, n, k, 1.5, a, lda, b, ldb, 0.5, got, n)
		for i := range got {
			if math.Abs(got[i]-want[i]) > 1e-12*(1+math.Abs(want[i])) {
				t.Fatalf("dgemm %v%v [%d] = %v, gonum %v", tc.tA, tc.tB, i, got[i], want[i])
			}
		}
		a32, b32, c32 := float32s(a), float32s(b), float32s(c0)
		want32, got32 := append([]float32(nil), c32...), append([]float32(nil), c32...)
		gonum.Implementation{}.Sgemm(tc.tA, tc.tB, m, n, k, 1.5, a32, lda, b32, ldb, 0.5, want32, n)
		impl.Sgemm(tc.tA, tc.tB, m, n, k, 1.5, a32, lda, b32, ldb, 0.5, got32, n)
		for i := range got32 {
			if math.Abs(float64(got32[i]-want32[i])) > 1e-4*(1+math.Abs(float64(want32[i]))) {
				t.Fatalf("sgemm %v%v [%d] = %v, gonum %v", tc.tA, tc.tB, i, got32[i], want32[i])
			}
		}
	}
}

// loadCondition is the OPENBLAS_CORETYPE the library was loaded under ("" when
// unset): Reinit(loadCondition()) puts it back as it chose at load.
func loadCondition() string { return os.Getenv("OPENBLAS_CORETYPE") }

// TestRealLibraryReportsTheCoreThatRuns sets up the machine's OpenBLAS as
// Setup does, under whatever OPENBLAS_CORETYPE this machine has, and checks
// what holds on any CPU: the core recorded is the one the library runs, and
// a core the user forced is left in place and named as the user's choice.
func TestRealLibraryReportsTheCoreThatRuns(t *testing.T) {
	lib := realOpenBLAS(t)
	userCore, userSet := os.LookupEnv("OPENBLAS_CORETYPE")
	atLoad := lib.CoreName()
	var warned strings.Builder
	_, info, err := choose(Auto, lib, machine{cpu: hostFeatures(), userCore: userCore, userSet: userSet}, &warned)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("CPU %s, OPENBLAS_CORETYPE=%q (set: %v): the library loaded %s and runs %s; recorded: %s", cpuISA(), userCore, userSet, atLoad, lib.CoreName(), info)
	if info.Library != "OpenBLAS" {
		if !strings.Contains(warned.String(), "computed a wrong product") {
			t.Fatalf("gonum chosen without a product-check warning: %+v", info)
		}
		t.Skipf("this library's %s kernels failed the product check here; vaelab uses gonum and warned: %s", lib.CoreName(), warned.String())
	}
	if got := lib.CoreName(); info.Core != got {
		t.Fatalf("the record says core %s, the library runs %s", info.Core, got)
	}
	if !userSet {
		return
	}
	if got := lib.CoreName(); got != atLoad {
		t.Fatalf("OPENBLAS_CORETYPE=%s is the user's, but setup moved the library from %s to %s", userCore, atLoad, got)
	}
	if !strings.Contains(info.Reason, "OPENBLAS_CORETYPE="+userCore+", set by the user") {
		t.Fatalf("reason %q does not say the user chose the core", info.Reason)
	}
	if !strings.EqualFold(userCore, info.Core) {
		if !strings.Contains(info.Reason, "runs "+info.Core+" instead") {
			t.Fatalf("OPENBLAS_CORETYPE=%s but the library runs %s, and the reason %q does not say so", userCore, info.Core, info.Reason)
		}
		t.Skipf("OPENBLAS_CORETYPE=%s cannot be run by this library on this CPU (it runs %s); the record says so", userCore, info.Core)
	}
}

// TestRealLibrarySwitchesAndReturns moves the library to its generic Prescott
// kernels (SSE3, which every x86-64 CPU runs) and back to what it chose at
// load, reading the core back each time: the mechanism the fallback uses.
func TestRealLibrarySwitchesAndReturns(t *testing.T) {
	lib := realOpenBLAS(t)
	if cpuISA() < isaAVX {
		t.Skipf("this CPU offers only %s: OpenBLAS's generic core is its best", cpuISA())
	}
	// An earlier test may have left the library on another core (choose
	// moves a generic core detected on an AVX-512 Xeon to SkylakeX): start
	// from the load condition, and leave the library as it was found.
	found := lib.CoreName()
	defer lib.Reinit(found)
	lib.Reinit(loadCondition())
	atLoad := lib.CoreName()
	if !lib.Reinit("Prescott") || !strings.EqualFold(lib.CoreName(), "Prescott") {
		t.Skipf("this OpenBLAS cannot switch cores (%s)", lib.Config())
	}
	if err := verify(lib); err != nil {
		t.Fatalf("Prescott's products: %v", err)
	}
	lib.Reinit(loadCondition())
	if got := lib.CoreName(); got != atLoad {
		t.Fatalf("back to the load condition, the library runs %s; it loaded %s", got, atLoad)
	}
	if err := verify(lib); err != nil {
		t.Fatalf("%s's products after the round trip: %v", atLoad, err)
	}
}

// TestRealLibraryCorrectsAGenericCore makes the machine's OpenBLAS run its
// Prescott kernels, as it does by itself on a CPU model it does not know,
// and checks that the setup moves it to a better core for this CPU, that the
// record names the core the library then runs, that its products are right,
// and that a wrong product takes it back to Prescott, said truthfully. It
// runs kernels the library did not choose, so it runs only where no
// OPENBLAS_CORETYPE is set: a machine that forces a core keeps it.
func TestRealLibraryCorrectsAGenericCore(t *testing.T) {
	lib := realOpenBLAS(t)
	if c, set := os.LookupEnv("OPENBLAS_CORETYPE"); set {
		t.Skipf("OPENBLAS_CORETYPE=%s is set on this machine: kernels other than those it forces are not run here (the decision is tested with injected CPUs)", c)
	}
	f := hostFeatures()
	if f.top() < isaAVX {
		t.Skipf("this CPU offers only %s: no core is better than Prescott", f.top())
	}
	defer lib.Reinit(loadCondition())
	if !lib.Reinit("Prescott") || !strings.EqualFold(lib.CoreName(), "Prescott") {
		t.Skipf("this OpenBLAS cannot switch cores (%s)", lib.Config())
	}
	_, info, err := choose(Auto, lib, machine{cpu: f}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("on a %s CPU, from Prescott: %s", f.top(), info)
	if got := lib.CoreName(); info.Core != got {
		t.Fatalf("the record says %s, the library runs %s", info.Core, got)
	}
	if !slices.Contains(coresFor(f.top()), info.Core) || info.Detected != "Prescott" || info.Generic || !strings.Contains(info.Reason, "Prescott") {
		t.Fatalf("after Prescott on a %s CPU: %+v, want one of %v", f.top(), info, coresFor(f.top()))
	}
	if err := verify(lib); err != nil {
		t.Fatalf("the corrected core's products: %v", err)
	}

	// A core whose products are wrong is not kept.
	better := info.Core
	lib.Reinit("Prescott")
	var warned strings.Builder
	_, info, err = choose(Auto, &wrongOn{library: lib, core: better}, machine{cpu: f}, &warned)
	if err != nil {
		t.Fatal(err)
	}
	if got := lib.CoreName(); info.Core != got || info.Library != "OpenBLAS" {
		t.Fatalf("wrong %s products: the record says %+v, the library runs %s", better, info, got)
	}
	if info.Core != "Prescott" || !strings.Contains(warned.String(), better+" kernels computed a wrong product") ||
		!strings.Contains(warned.String(), "runs its Prescott kernels again") {
		t.Fatalf("wrong %s products: %+v, warning %q; want back on Prescott, said so", better, info, warned.String())
	}
}

// wrongOn is a library whose single-precision products are off by 1e-3 in one
// entry while it runs core: a broken kernel set.
type wrongOn struct {
	library
	core string
}

func (w *wrongOn) Sgemm(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	w.library.Sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	if strings.EqualFold(w.library.CoreName(), w.core) {
		c[(m/2)*ldc+n/2] += 1e-3
	}
}

// BenchmarkSgemmByCore shows what the generic core costs: the conv VAE's
// product shapes (M×K×N), one thread, on Prescott and on the core the setup
// chooses for this CPU.
func BenchmarkSgemmByCore(b *testing.B) {
	lib, ok := openOpenBLAS()
	if !ok {
		b.Skip("no OpenBLAS")
	}
	lib.SetThreads(1)
	defer lib.Reinit(loadCondition())
	cores := append([]string{"Prescott"}, coresFor(cpuISA())...)
	for _, core := range cores {
		for _, s := range [][3]int{{32, 48, 1024}, {128, 1024, 64}, {256, 2048, 16}, {1024, 1024, 1024}} {
			m, k, n := s[0], s[1], s[2]
			b.Run(core+"/"+fmt.Sprintf("%dx%dx%d", m, k, n), func(b *testing.B) {
				if !lib.Reinit(core) || !strings.EqualFold(lib.CoreName(), core) {
					b.Skipf("core %s not offered", core)
				}
				rng := rand.New(rand.NewPCG(1, 1))
				x, y, z := float32s(randomValues(rng, m*k)), float32s(randomValues(rng, k*n)), make([]float32, m*n)
				b.ResetTimer()
				for range b.N {
					lib.Sgemm(blas.NoTrans, blas.NoTrans, m, n, k, 1, x, k, y, n, 0, z, n)
				}
				b.ReportMetric(2*float64(m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

// TestLibraryLoadsOnOneThread opens OpenBLAS in a fresh process, with and
// without a user's OPENBLAS_NUM_THREADS: the library comes up on one thread
// (no server threads spinning at start-up), before vaelab sets any count.
func TestLibraryLoadsOnOneThread(t *testing.T) {
	const child = "VAELAB_BLASLIB_LOAD_CHILD"
	if os.Getenv(child) == "1" {
		lib, ok := openOpenBLAS()
		if !ok {
			fmt.Println("no OpenBLAS")
			return
		}
		fmt.Printf("threads at load: %d\n", lib.Threads())
		return
	}
	realOpenBLAS(t) // skips, or fails under CI, where there is none
	if runtime.NumCPU() < 2 {
		t.Skip("one CPU: the library starts no server threads anyway")
	}
	// The library's own thread settings are removed from the child's
	// environment, so that only vaelab's can bring the count to one.
	var base []string
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); !slices.Contains([]string{"OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS"}, name) {
			base = append(base, kv)
		}
	}
	for _, env := range [][]string{nil, {"OPENBLAS_NUM_THREADS=2"}} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestLibraryLoadsOnOneThread$", "-test.count=1")
		cmd.Env = append(append(base, child+"=1"), env...)
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "threads at load: 1\n") {
			t.Errorf("env %v: %v\n%s", env, err, out)
		}
	}
}
