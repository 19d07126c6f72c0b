//go:build cgo

package vae

/*
#cgo LDFLAGS: -ldl
#include <dlfcn.h>
#include <stddef.h>
#include <stdlib.h>

typedef void (*sgemm_fn)(int, int, int, int, int, int, float, const float*, int, const float*, int, float, float*, int);
typedef void (*dgemm_fn)(int, int, int, int, int, int, double, const double*, int, const double*, int, double, double*, int);
typedef void (*threads_fn)(int);

static sgemm_fn vaelab_sgemm;
static dgemm_fn vaelab_dgemm;

// vaelab_load_openblas opens an OpenBLAS shared library at run time, so that
// building needs no BLAS headers or library; 1 when cblas_sgemm and
// cblas_dgemm were found. OpenBLAS is told to use one thread per call:
// vaelab runs trainings in parallel instead.
static int vaelab_load_openblas(const char *name) {
	void *h = dlopen(name, RTLD_NOW | RTLD_LOCAL);
	if (h == NULL) return 0;
	vaelab_sgemm = (sgemm_fn)dlsym(h, "cblas_sgemm");
	vaelab_dgemm = (dgemm_fn)dlsym(h, "cblas_dgemm");
	threads_fn set_threads = (threads_fn)dlsym(h, "openblas_set_num_threads");
	if (vaelab_sgemm == NULL || vaelab_dgemm == NULL || set_threads == NULL) return 0;
	set_threads(1);
	return 1;
}

static void vaelab_call_sgemm(int ta, int tb, int m, int n, int k, float alpha, const float *a, int lda,
		const float *b, int ldb, float beta, float *c, int ldc) {
	vaelab_sgemm(101, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

static void vaelab_call_dgemm(int ta, int tb, int m, int n, int k, double alpha, const double *a, int lda,
		const double *b, int ldb, double beta, double *c, int ldc) {
	vaelab_dgemm(101, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
*/
import "C"

import (
	"unsafe"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// openBLASNames are the names the library goes by on Debian/Ubuntu (the
// runtime package libopenblas0 is enough) and in other common installs.
var openBLASNames = []string{"libopenblas.so.0", "libopenblas.so", "libopenblasp.so.0", "libopenblas.dylib"}

// loadOpenBLAS returns a BLAS whose matrix products run in OpenBLAS, and the
// library's name, or ok false when no OpenBLAS can be opened.
func loadOpenBLAS() (impl *openBLAS, name string, ok bool) {
	for _, n := range openBLASNames {
		cs := C.CString(n)
		loaded := C.vaelab_load_openblas(cs) == 1
		C.free(unsafe.Pointer(cs))
		if loaded {
			return &openBLAS{}, n, true
		}
	}
	return nil, "", false
}

// openBLAS is gonum's pure-Go BLAS with the matrix products, where nearly all
// training time goes, done by OpenBLAS.
type openBLAS struct{ gonum.Implementation }

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
	C.vaelab_call_sgemm(cblasTrans(tA), cblasTrans(tB), C.int(m), C.int(n), C.int(k), C.float(alpha),
		(*C.float)(unsafe.Pointer(&a[0])), C.int(lda), (*C.float)(unsafe.Pointer(&b[0])), C.int(ldb),
		C.float(beta), (*C.float)(unsafe.Pointer(&c[0])), C.int(ldc))
}

func (o *openBLAS) Dgemm(tA, tB blas.Transpose, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	if m == 0 || n == 0 || k == 0 || len(a) == 0 || len(b) == 0 {
		o.Implementation.Dgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	C.vaelab_call_dgemm(cblasTrans(tA), cblasTrans(tB), C.int(m), C.int(n), C.int(k), C.double(alpha),
		(*C.double)(unsafe.Pointer(&a[0])), C.int(lda), (*C.double)(unsafe.Pointer(&b[0])), C.int(ldb),
		C.double(beta), (*C.double)(unsafe.Pointer(&c[0])), C.int(ldc))
}
