//go:build cgo

package blaslib

/*
#cgo LDFLAGS: -ldl
#include <dlfcn.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

typedef void (*sgemm_fn)(int, int, int, int, int, int, float, const float*, int, const float*, int, float, float*, int);
typedef void (*dgemm_fn)(int, int, int, int, int, int, double, const double*, int, const double*, int, double, double*, int);

// The entry points vaelab uses. dyn_init and dyn_quit exist only in
// DYNAMIC_ARCH builds (Debian's), which pick their kernels at start-up.
typedef struct {
	sgemm_fn sgemm;
	dgemm_fn dgemm;
	void (*set_threads)(int);
	int (*get_threads)(void);
	char *(*corename)(void);
	char *(*config)(void);
	void (*dyn_init)(void);
	void (*dyn_quit)(void);
} vaelab_openblas;

// vaelab_open opens an OpenBLAS shared library at run time, so that building
// needs no BLAS headers or library; 1 when the entry points were found.
// vaelab runs the library on one thread (it threads the work around the
// products itself), so the library is loaded with OPENBLAS_NUM_THREADS=1 for
// that moment (the variable is then restored): otherwise its start-up starts
// a server thread per core, each spinning on sched_yield for about 0.1 s
// before it sleeps, in every process (measured: 120-170 ms less CPU time
// for a one-run `vaelab run` of 1.0-1.4 s on 2 cores).
static int vaelab_open(const char *name, vaelab_openblas *lib) {
	const char *old = getenv("OPENBLAS_NUM_THREADS");
	char *saved = old ? strdup(old) : NULL;
	setenv("OPENBLAS_NUM_THREADS", "1", 1);
	void *h = dlopen(name, RTLD_NOW | RTLD_LOCAL);
	if (saved) {
		setenv("OPENBLAS_NUM_THREADS", saved, 1);
		free(saved);
	} else {
		unsetenv("OPENBLAS_NUM_THREADS");
	}
	if (h == NULL) return 0;
	lib->sgemm = (sgemm_fn)dlsym(h, "cblas_sgemm");
	lib->dgemm = (dgemm_fn)dlsym(h, "cblas_dgemm");
	lib->set_threads = (void (*)(int))dlsym(h, "openblas_set_num_threads");
	lib->get_threads = (int (*)(void))dlsym(h, "openblas_get_num_threads");
	lib->corename = (char *(*)(void))dlsym(h, "openblas_get_corename");
	lib->config = (char *(*)(void))dlsym(h, "openblas_get_config");
	lib->dyn_init = (void (*)(void))dlsym(h, "gotoblas_dynamic_init");
	lib->dyn_quit = (void (*)(void))dlsym(h, "gotoblas_dynamic_quit");
	if (lib->sgemm == NULL || lib->dgemm == NULL || lib->set_threads == NULL) {
		dlclose(h);
		return 0;
	}
	return 1;
}

static const char *vaelab_corename(const vaelab_openblas *lib) {
	return lib->corename ? lib->corename() : "";
}

static const char *vaelab_config(const vaelab_openblas *lib) {
	return lib->config ? lib->config() : "";
}

static int vaelab_threads(const vaelab_openblas *lib) {
	return lib->get_threads ? lib->get_threads() : 0;
}

static void vaelab_set_threads(const vaelab_openblas *lib, int n) { lib->set_threads(n); }

// vaelab_reinit makes a DYNAMIC_ARCH OpenBLAS choose its kernels again, as
// at load, with OPENBLAS_CORETYPE set to core (or unset when core is empty)
// for that moment only; the variable is then restored. 0 when the library
// cannot (not a DYNAMIC_ARCH build). No product may run meanwhile.
static int vaelab_reinit(const vaelab_openblas *lib, const char *core) {
	if (lib->dyn_init == NULL || lib->dyn_quit == NULL) return 0;
	const char *old = getenv("OPENBLAS_CORETYPE");
	char *saved = old ? strdup(old) : NULL;
	if (core[0]) setenv("OPENBLAS_CORETYPE", core, 1);
	else unsetenv("OPENBLAS_CORETYPE");
	lib->dyn_quit();
	lib->dyn_init();
	if (saved) {
		setenv("OPENBLAS_CORETYPE", saved, 1);
		free(saved);
	} else {
		unsetenv("OPENBLAS_CORETYPE");
	}
	return 1;
}

static void vaelab_sgemm(const vaelab_openblas *lib, int ta, int tb, int m, int n, int k, float alpha,
		const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc) {
	lib->sgemm(101, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

static void vaelab_dgemm(const vaelab_openblas *lib, int ta, int tb, int m, int n, int k, double alpha,
		const double *a, int lda, const double *b, int ldb, double beta, double *c, int ldc) {
	lib->dgemm(101, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
*/
import "C"

import (
	"unsafe"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// openBLAS is gonum's pure-Go BLAS with the matrix products, where nearly all
// training time goes, done by an OpenBLAS opened at run time.
type openBLAS struct {
	gonum.Implementation
	c    C.vaelab_openblas
	name string
}

// openOpenBLAS opens the first OpenBLAS library found, or returns ok false.
func openOpenBLAS() (lib library, ok bool) {
	for _, n := range openBLASNames() {
		o := &openBLAS{name: n}
		cs := C.CString(n)
		loaded := C.vaelab_open(cs, &o.c) == 1
		C.free(unsafe.Pointer(cs))
		if loaded {
			return o, true
		}
	}
	return nil, false
}

func (o *openBLAS) Name() string     { return o.name }
func (o *openBLAS) CoreName() string { return C.GoString(C.vaelab_corename(&o.c)) }
func (o *openBLAS) Config() string   { return C.GoString(C.vaelab_config(&o.c)) }
func (o *openBLAS) Threads() int     { return int(C.vaelab_threads(&o.c)) }
func (o *openBLAS) SetThreads(n int) { C.vaelab_set_threads(&o.c, C.int(n)) }

func (o *openBLAS) Reinit(core string) bool {
	cs := C.CString(core)
	defer C.free(unsafe.Pointer(cs))
	return C.vaelab_reinit(&o.c, cs) == 1
}

func cblasTrans(t blas.Transpose) C.int {
	if t == blas.NoTrans {
		return 111
	}
	return 112
}

func (o *openBLAS) Sgemm(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m == 0 || n == 0 || k == 0 || len(a) == 0 || len(b) == 0 {
		o.Implementation.Sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	C.vaelab_sgemm(&o.c, cblasTrans(tA), cblasTrans(tB), C.int(m), C.int(n), C.int(k), C.float(alpha),
		(*C.float)(unsafe.Pointer(&a[0])), C.int(lda), (*C.float)(unsafe.Pointer(&b[0])), C.int(ldb),
		C.float(beta), (*C.float)(unsafe.Pointer(&c[0])), C.int(ldc))
}

func (o *openBLAS) Dgemm(tA, tB blas.Transpose, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	if m == 0 || n == 0 || k == 0 || len(a) == 0 || len(b) == 0 {
		o.Implementation.Dgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	C.vaelab_dgemm(&o.c, cblasTrans(tA), cblasTrans(tB), C.int(m), C.int(n), C.int(k), C.double(alpha),
		(*C.double)(unsafe.Pointer(&a[0])), C.int(lda), (*C.double)(unsafe.Pointer(&b[0])), C.int(ldb),
		C.double(beta), (*C.double)(unsafe.Pointer(&c[0])), C.int(ldc))
}
