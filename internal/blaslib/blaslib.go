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
// OPENBLAS_CORETYPE is respected and reported.
package blaslib

import (
	"fmt"
	"io"
	"os"
	"strings"

	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/blas/gonum"
	G "gorgonia.org/gorgonia"
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
}

// Info describes the BLAS a process uses: enough to tell why two runs differ
// in their last bits, or why one machine trains slower than another.
type Info struct {
	Library  string // "OpenBLAS" or "gonum"
	Version  string // OpenBLAS's version, e.g. "0.3.21"
	File     string // the shared library opened
	Config   string // OpenBLAS's own build description (openblas_get_config)
	Core     string // the kernel set in use, e.g. "SkylakeX"
	Detected string // the kernel set OpenBLAS chose by itself
	Reason   string // how Core (or gonum) was chosen
	Threads  int    // OpenBLAS threads per product
	CPU      string // the widest vector instruction set of the CPU, e.g. "AVX-512"
	Generic  bool   // Core is a generic SSE kernel set on a CPU that offers more
}

// String is the one-line form that provenance, show, the report and bench print.
func (i Info) String() string {
	if i.Library != "OpenBLAS" {
		return "gonum (pure Go): " + i.Reason
	}
	s := "OpenBLAS"
	if i.Version != "" {
		s += " " + i.Version
	}
	s += fmt.Sprintf(" (%s), core %s (%s), %d thread", i.File, i.Core, i.Reason, i.Threads)
	if i.Threads != 1 {
		s += "s"
	}
	return s
}

// Setup chooses the process's BLAS and installs it in Gorgonia (training)
// and gonum's blas64 and blas32 (the metrics' linear algebra, the face descriptor). Call it once, at start,
// before any product runs: the CLI does, from its settings.
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
	impl, info, err := choose(choice, lib, machine{top: cpuISA(), userCore: userCore, userSet: userSet}, warn)
	if err != nil {
		return Info{}, err
	}
	G.Use(installed{BLAS: impl, info: info})
	blas64.Use(impl)
	blas32.Use(impl) // the face descriptor's float32 products
	return info, nil
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
}

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
	top      isa    // the CPU's widest instruction set
	userCore string // OPENBLAS_CORETYPE, when userSet
	userSet  bool
}

// choose is Setup's decision, apart from the process state it changes.
func choose(choice string, lib library, m machine, warn io.Writer) (G.BLAS, Info, error) {
	if choice == Gonum {
		return gonum.Implementation{}, gonumInfo("chosen by the blas setting", m.top), nil
	}
	if lib == nil {
		if choice == OpenBLAS {
			return nil, Info{}, fmt.Errorf("blas: openblas, but no OpenBLAS library could be opened (tried %s); install it (Debian: apt-get install libopenblas0-pthread) or set blas to auto or gonum",
				strings.Join(openBLASNames(), ", "))
		}
		return gonum.Implementation{}, gonumInfo("no OpenBLAS library found (Debian: apt-get install libopenblas0-pthread trains 3–5x faster)", m.top), nil
	}
	lib.SetThreads(1) // vaelab runs trainings in parallel instead
	info := Info{Library: "OpenBLAS", File: lib.Name(), Detected: lib.CoreName(), CPU: m.top.String()}
	info.Core, info.Reason = info.Detected, "detected"
	verified := false
	switch {
	case m.userSet:
		info.Reason = fmt.Sprintf("OPENBLAS_CORETYPE=%s, set by the user", m.userCore)
	case genericCore(info.Detected, m.top):
		info.Core, info.Reason, verified = correctCore(lib, info.Detected, m.top, warn)
	}
	if !verified {
		if err := verify(lib); err != nil {
			fmt.Fprintf(warn, "vaelab: warning: OpenBLAS's %s kernels computed a wrong product (%v); using gonum's pure-Go BLAS instead\n", info.Core, err)
			return gonum.Implementation{}, gonumInfo(fmt.Sprintf("OpenBLAS's %s kernels failed the start-up product check: %v", info.Core, err), m.top), nil
		}
	}
	info.Config, info.Threads = lib.Config(), lib.Threads()
	if f := strings.Fields(info.Config); len(f) > 1 && f[0] == "OpenBLAS" {
		info.Version = f[1]
	}
	info.Generic = genericCore(info.Core, m.top)
	return lib, info, nil
}

// correctCore moves lib from its generic detected kernels to the best ones
// the CPU can run and the library offers, verified; it returns the core in
// use, how it was chosen, and whether its products were verified.
func correctCore(lib library, detected string, top isa, warn io.Writer) (core, reason string, verified bool) {
	for _, want := range coresFor(top) {
		if !lib.Reinit(want) {
			return detected, fmt.Sprintf("detected; a generic core on a CPU with %s, and this OpenBLAS build cannot switch (not DYNAMIC_ARCH)", top), false
		}
		if !strings.EqualFold(lib.CoreName(), want) {
			continue // this build does not offer it
		}
		if err := verify(lib); err != nil {
			fmt.Fprintf(warn, "vaelab: warning: OpenBLAS's %s kernels computed a wrong product (%v); going back to its detected %s kernels\n", want, err, detected)
			lib.Reinit("")
			return lib.CoreName(), fmt.Sprintf("detected; %s computed a wrong product", want), false
		}
		return lib.CoreName(), fmt.Sprintf("detected %s, a generic core; chosen for the CPU's %s", detected, top), true
	}
	lib.Reinit("")
	return lib.CoreName(), fmt.Sprintf("detected; a generic core on a CPU with %s, and this build offers no better one", top), false
}

func gonumInfo(reason string, top isa) Info {
	return Info{Library: "gonum", Reason: reason, CPU: top.String()}
}
