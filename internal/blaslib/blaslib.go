// Package blaslib sets up the process's BLAS, once and explicitly: it opens
// OpenBLAS when it can, makes sure its kernels suit the CPU and compute right
// products, and hands it to Gorgonia and gonum. Importing it changes nothing.
//
// Debian's OpenBLAS picks its kernels at load from the CPU model. On a model
// it does not know (an "Intel(R) Xeon(R) Processor" with AVX-512, say) it
// falls back to its generic Prescott (SSE3) kernels, 3–6x slower than the CPU
// allows. Setup then asks the library for the best kernels the CPU's
// instruction set can run, checks their products against an independent
// one, and keeps them only if they agree; a wrong product falls back to the
// detected kernels, else to gonum's pure-Go BLAS, with a warning. A user's
// OPENBLAS_CORETYPE is respected and reported. The core recorded is always
// the one the library names (openblas_get_corename) after setup, never the
// one asked for: on an AMD Zen 5, say, 0.3.21 detects Cooperlake.
package blaslib

import (
	"fmt"
	"io"
	"os"
	"strings"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/blas/gonum"
	G "gorgonia.org/gorgonia"

	"github.com/vaelab/vaelab/internal/sgemm"
	"github.com/vaelab/vaelab/internal/team"
)

// Choices are the values of the blas setting (--blas, VAELAB_BLAS, blas: in
// the settings file).
const (
	Auto     = "auto"     // OpenBLAS when it can be opened, else gonum
	OpenBLAS = "openblas" // OpenBLAS or an error
	Gonum    = "gonum"    // gonum's pure-Go BLAS
)

// Options are Setup's inputs.
type Options struct {
	Choice string    // Auto (or ""), OpenBLAS or Gonum
	Warn   io.Writer // warnings (a core that computed wrong products); nil discards them
	// Threads is how many threads one product (and each op of a training
	// step that runs in parallel) may use; 0 means 1. The CLI resolves its
	// threads setting (auto, by the rule of package threads) to a number.
	Threads int
	// ThreadsRule says how Threads was decided ("auto: …", "set by the
	// threads setting"), for provenance and doctor; "" says nothing.
	ThreadsRule string
}

// Info describes the BLAS a process uses: enough to tell why two runs differ
// in their last bits, or why one machine trains slower than another.
type Info struct {
	Library  string // "OpenBLAS" or "gonum"
	Version  string // OpenBLAS's version, e.g. "0.3.21"
	File     string // the shared library opened
	Config   string // OpenBLAS's own build description (openblas_get_config)
	Core     string // the kernel set in use, e.g. "SkylakeX", as the library reports it after setup
	Detected string // the kernel set OpenBLAS chose by itself
	Reason   string // how Core (or gonum) was chosen
	Threads  int    // threads per product (OpenBLAS's and vaelab's own kernels) and per parallel op
	CPU      string // the widest vector instruction set of the CPU, e.g. "AVX-512"
	Generic  bool   // Core is a generic SSE kernel set on a CPU that offers more
	Products string // whose kernels compute the float32 products, and why
	Cores    int    // usable cores: GOMAXPROCS before Setup added its spare P (procs.go)
	// ThreadsRule is how Threads was decided, from Options.ThreadsRule.
	ThreadsRule string
}

// String is the one-line form that provenance, show, the report and bench print.
func (i Info) String() string {
	if i.Library != "OpenBLAS" {
		s := "gonum (pure Go): " + i.Reason
		if i.Products != "" {
			s += fmt.Sprintf("; float32 products: %s, %s", i.Products, i.threads())
		}
		return s
	}
	s := "OpenBLAS"
	if i.Version != "" {
		s += " " + i.Version
	}
	s += fmt.Sprintf(" (%s), core %s (%s), %s", i.File, i.Core, i.Reason, i.threads())
	if i.Products != "" {
		s += "; float32 products: " + i.Products
	}
	return s
}

// threads is "N thread(s)", with the rule that decided N when known.
func (i Info) threads() string {
	s := fmt.Sprintf("%d thread%s", max(i.Threads, 1), plural(max(i.Threads, 1)))
	if i.ThreadsRule != "" {
		s += " (" + i.ThreadsRule + ")"
	}
	return s
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// Setup chooses the process's BLAS and installs it in Gorgonia (training)
// and gonum's blas64 and blas32 (the metrics' linear algebra, the face
// descriptor), and gives the Go runtime one P beyond the usable cores
// (procs.go). Call it once, at start, before any product runs: the CLI
// does, from its settings.
func Setup(o Options) (Info, error) {
	choice := strings.ToLower(strings.TrimSpace(o.Choice))
	switch choice {
	case "", Auto:
		choice = Auto
	case OpenBLAS, Gonum:
	default:
		return Info{}, fmt.Errorf("blas: %q is not one of auto, openblas, gonum", o.Choice)
	}
	warn := o.Warn
	if warn == nil {
		warn = io.Discard
	}
	var lib library
	if choice != Gonum {
		if l, ok := openOpenBLAS(); ok {
			lib = l
		}
	}
	userCore, userSet := os.LookupEnv("OPENBLAS_CORETYPE")
	threads := max(o.Threads, 1)
	impl, info, err := choose(choice, lib, machine{cpu: hostFeatures(), userCore: userCore, userSet: userSet}, warn)
	if err != nil {
		return Info{}, err
	}
	info.Threads, info.ThreadsRule = threads, o.ThreadsRule
	impl = withOwnProducts(choice, impl, &info, warn)
	info.Cores = withSpareProc()
	if old, ok := G.WhichBLAS().(installed); ok {
		old.team.Close()
	}
	// More threads than usable cores would spin against each other: those
	// run on goroutines started for each part, as they did before the team.
	G.Use(installed{BLAS: impl, info: info, team: team.New(min(threads, info.Cores))})
	blas64.Use(impl)
	blas32.Use(impl) // the face descriptor's float32 products
	return info, nil
}

// openBLASNames are the names the library goes by on Debian/Ubuntu (the
// runtime package libopenblas0 is enough) and in other common installs.
func openBLASNames() []string {
	return []string{"libopenblas.so.0", "libopenblas.so", "libopenblasp.so.0", "libopenblas.dylib"}
}

// Current describes the BLAS Gorgonia uses now: the one Setup installed, or
// gonum's default when no setup ran.
func Current() Info {
	if in, ok := G.WhichBLAS().(installed); ok {
		return in.info
	}
	return Info{Library: "gonum", Reason: "Gorgonia's default (no BLAS setup ran in this process)"}
}

// installed is what Setup gives Gorgonia: the BLAS with the record of its choice.
type installed struct {
	G.BLAS
	info Info
	team *team.Team // workers for up to Threads threads, at most the usable cores; nil runs parts on goroutines started for them
}

// Threads is how many threads a product or a parallel op may use: the ops of
// vae/internal/ops ask the installed BLAS for it.
func (in installed) Threads() int { return max(in.info.Threads, 1) }

// Run runs body(worker, 0..jobs-1) on up to threads of the Threads threads,
// each taking the next job when it is free: the parallel ops of
// vae/internal/ops run their parts on the same workers as the products.
func (in installed) Run(threads, jobs int, body func(worker, job int)) {
	in.team.Run(min(threads, in.Threads()), jobs, body)
}

// Sgemm runs a float32 product on Threads threads: the library's kernels
// (OpenBLAS's or vaelab's) at one thread each, on blocks of c cut as package
// sgemm cuts them, on the team's workers. OpenBLAS's own threading stays
// off, so that ops which already run products side by side (a convolution's
// blocks of images) do not oversubscribe the cores.
func (in installed) Sgemm(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m == 0 || n == 0 || k == 0 || sgemm.ThreadsFor(m, n, k, in.Threads()) == 1 {
		in.BLAS.Sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	parts := sgemm.Parts(m, n, k, in.Threads())
	in.team.Run(len(parts), len(parts), func(_, j int) {
		in.sgemmPart(parts[j], tA, tB, k, alpha, a, lda, b, ldb, beta, c, ldc)
	})
}

// SgemmMany runs count products of one shape, the i-th on a[i·sa:], b[i·sb:]
// and c[i·sc:], on Threads threads: each cut into blocks of c as Sgemm cuts
// it, the threads taking (product, block) pairs in turn, so every value is
// Sgemm's. The team takes them all in one region, not one region each.
func (in installed) SgemmMany(count int, tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, sa, lda int, b []float32, sb, ldb int, beta float32, c []float32, sc, ldc int) {
	if m == 0 || n == 0 || k == 0 || in.Threads() == 1 || count == 1 && sgemm.ThreadsFor(m, n, k, in.Threads()) == 1 {
		for i := range count {
			in.BLAS.Sgemm(tA, tB, m, n, k, alpha, a[i*sa:], lda, b[i*sb:], ldb, beta, c[i*sc:], ldc)
		}
		return
	}
	parts := sgemm.Parts(m, n, k, in.Threads())
	in.team.Run(in.Threads(), count*len(parts), func(_, j int) {
		i := j / len(parts)
		in.sgemmPart(parts[j%len(parts)], tA, tB, k, alpha, a[i*sa:], lda, b[i*sb:], ldb, beta, c[i*sc:], ldc)
	})
}

// SgemmOneThread is Sgemm on the calling thread alone, for ops that run
// several products at once.
func (in installed) SgemmOneThread(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	in.BLAS.Sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// sgemmPart computes the block p of c.
func (in installed) sgemmPart(p sgemm.Part, tA, tB blas.Transpose, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	ao, bo := p.I0*lda, p.J0 // where op(a)'s row I0 and op(b)'s column J0 start
	if tA != blas.NoTrans {
		ao = p.I0
	}
	if tB != blas.NoTrans {
		bo = p.J0 * ldb
	}
	in.BLAS.Sgemm(tA, tB, p.I1-p.I0, p.J1-p.J0, k, alpha, a[ao:], lda, b[bo:], ldb, beta, c[p.I0*ldc+p.J0:], ldc)
}

// Threads is the thread count of the process's setup (1 without one).
func Threads() int { return max(Current().Threads, 1) }

// library is what the setup needs of an opened OpenBLAS; tests substitute fakes.
type library interface {
	G.BLAS
	Name() string     // the file opened
	CoreName() string // openblas_get_corename
	Config() string   // openblas_get_config
	Threads() int
	SetThreads(n int)
	// Reinit makes the library choose its kernels again as at load, with
	// OPENBLAS_CORETYPE=core for that moment ("" lets it detect the CPU);
	// false when the build cannot (not a DYNAMIC_ARCH build).
	Reinit(core string) bool
}

// machine is what the choice depends on besides the library.
type machine struct {
	cpu      features // the CPU's vector extensions
	userCore string   // OPENBLAS_CORETYPE, when userSet
	userSet  bool
}

// choose is Setup's decision, apart from the process state it changes. The
// core it records is always read back from the library after its last
// change, never inferred from what was asked for.
func choose(choice string, lib library, m machine, warn io.Writer) (G.BLAS, Info, error) {
	top := m.cpu.top()
	if choice == Gonum {
		return gonum.Implementation{}, gonumInfo("chosen by the blas setting", top), nil
	}
	if lib == nil {
		if choice == OpenBLAS {
			return nil, Info{}, fmt.Errorf("blas: openblas, but no OpenBLAS library could be opened (tried %s); install it (Debian: apt-get install libopenblas0-pthread) or set blas to auto or gonum",
				strings.Join(openBLASNames(), ", "))
		}
		return gonum.Implementation{}, gonumInfo("no OpenBLAS library found (Debian: apt-get install libopenblas0-pthread trains 3–5x faster)", top), nil
	}
	lib.SetThreads(1) // vaelab threads the work around its products itself (installed.Sgemm)
	info := Info{Library: "OpenBLAS", File: lib.Name(), Detected: lib.CoreName(), CPU: top.String()}
	info.Reason = "detected"
	verified := false
	switch fb := decideFallback(m.cpu, info.Detected); {
	case m.userSet:
		info.Reason = userReason(m.userCore, info.Detected)
	case fb.Generic:
		info.Reason, verified = correctCore(lib, info.Detected, fb.Try, top, warn)
	}
	info.Core = lib.CoreName()
	if !verified {
		if err := verify(lib); err != nil {
			fmt.Fprintf(warn, "vaelab: warning: OpenBLAS's %s kernels computed a wrong product (%v); using gonum's pure-Go BLAS instead\n", info.Core, err)
			return gonum.Implementation{}, gonumInfo(fmt.Sprintf("OpenBLAS's %s kernels failed the start-up product check: %v", info.Core, err), top), nil
		}
	}
	info.Config, info.Threads = lib.Config(), lib.Threads()
	if f := strings.Fields(info.Config); len(f) > 1 && f[0] == "OpenBLAS" {
		info.Version = f[1]
	}
	info.Generic = decideFallback(m.cpu, info.Core).Generic
	return lib, info, nil
}

// userReason says that the user's OPENBLAS_CORETYPE chose the core, and
// when the library runs another one (a name it does not know, or kernels the
// CPU cannot run), which one.
func userReason(want, runs string) string {
	r := fmt.Sprintf("OPENBLAS_CORETYPE=%s, set by the user", want)
	if !strings.EqualFold(want, runs) {
		r += fmt.Sprintf("; the library runs %s instead", runs)
	}
	return r
}

// correctCore moves lib from its generic detected kernels to the first of try
// the library offers and whose products are right; when none is, it puts the
// detected kernels back. It returns how the core in use was chosen and
// whether its products were verified; the caller reads the core back.
func correctCore(lib library, detected string, try []string, top isa, warn io.Writer) (reason string, verified bool) {
	for _, want := range try {
		if !lib.Reinit(want) {
			return fmt.Sprintf("detected; a generic core on a CPU with %s, and this OpenBLAS build cannot switch (not DYNAMIC_ARCH)", top), false
		}
		if !strings.EqualFold(lib.CoreName(), want) {
			continue // this build does not offer it
		}
		if err := verify(lib); err != nil {
			lib.Reinit(detected)
			fmt.Fprintf(warn, "vaelab: warning: OpenBLAS's %s kernels computed a wrong product (%v); the library runs its %s kernels again\n", want, err, lib.CoreName())
			return fmt.Sprintf("detected; %s computed a wrong product", want), false
		}
		return fmt.Sprintf("detected %s, a generic core; chosen for the CPU's %s", detected, top), true
	}
	lib.Reinit(detected)
	return fmt.Sprintf("detected; a generic core on a CPU with %s, and this build offers no better one", top), false
}

func gonumInfo(reason string, top isa) Info {
	return Info{Library: "gonum", Reason: reason, CPU: top.String()}
}

// Advice says, with its level ("warning" or "note"), why this BLAS trains
// slower than the CPU allows and what to do about it: a generic kernel set,
// or no OpenBLAS at all. It is "" when there is nothing to say.
func (i Info) Advice() (level, advice string) {
	switch {
	case i.Generic:
		fix := "this OpenBLAS build cannot switch its kernels: install one that knows the CPU, or set OPENBLAS_CORETYPE"
		if strings.Contains(i.Reason, "set by the user") {
			fix = "unset OPENBLAS_CORETYPE to let vaelab choose, or set it to SkylakeX (AVX-512) or Haswell (AVX2)"
		}
		return "warning", fmt.Sprintf("OpenBLAS runs its generic %s kernels on a CPU with %s, 3-6x slower than it could: %s", i.Core, i.CPU, fix)
	case i.Library != "OpenBLAS":
		return "note", "training runs on gonum's pure-Go BLAS, 3-5x slower than OpenBLAS (Debian: apt-get install libopenblas0-pthread)"
	}
	return "", ""
}
