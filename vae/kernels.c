//go:build cgo

// The float32 kernels of kernels_body.h, compiled for AVX2 and for the
// baseline instruction set; each call runs the fastest copy the CPU supports.

// No fused multiply-adds: the kernels round as their Go references do. No
// floating-point traps (Go does not enable them either), so that loops with
// selects can be vectorised.
#pragma GCC optimize("fp-contract=off")
#pragma GCC optimize("no-trapping-math")

#include <math.h>
#include "vaelab_kernels.h"

// valid_range is the range [lo, hi) of output columns whose kernel column kx
// falls inside an input row of w values rather than in the padding.
static void valid_range(int kx, int k, int s, int p, int w, int ow, int *lo, int *hi) {
	(void)k;
	int l = p - kx < 0 ? 0 : (p - kx + s - 1) / s;
	int h = w - 1 + p - kx < 0 ? 0 : (w - 1 + p - kx) / s + 1;
	if (h > ow) h = ow;
	if (h < l) h = l;
	*lo = l;
	*hi = h;
}

#define TARGET
#define KERNEL(name) name##_base
#include "kernels_body.h"
#undef TARGET
#undef KERNEL

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define TARGET __attribute__((target("avx2")))

// evens_avx2 returns p[0], p[2], …, p[14].
static inline TARGET __m256 evens_avx2(const float *p) {
	__m256 t = _mm256_shuffle_ps(_mm256_loadu_ps(p), _mm256_loadu_ps(p + 8), _MM_SHUFFLE(2, 0, 2, 0));
	return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(t), _MM_SHUFFLE(3, 1, 2, 0)));
}

// add_spread_avx2 adds s[0…7] onto d[0], d[2], …, d[14], and 0 onto the odd d.
static inline TARGET void add_spread_avx2(float *d, const float *s) {
	__m256 v = _mm256_loadu_ps(s), z = _mm256_setzero_ps();
	__m256 lo = _mm256_unpacklo_ps(v, z), hi = _mm256_unpackhi_ps(v, z);
	_mm256_storeu_ps(d, _mm256_add_ps(_mm256_loadu_ps(d), _mm256_permute2f128_ps(lo, hi, 0x20)));
	_mm256_storeu_ps(d + 8, _mm256_add_ps(_mm256_loadu_ps(d + 8), _mm256_permute2f128_ps(lo, hi, 0x31)));
}

#define KERNEL(name) name##_avx2
#define KERNEL_AVX2
#include "kernels_body.h"
#undef TARGET
#undef KERNEL
#undef KERNEL_AVX2
#define PICK(name) (__builtin_cpu_supports("avx2") ? name##_avx2 : name##_base)
#else
#define PICK(name) name##_base
#endif

void vaelab_im2col(const float *x, int c, int h, int w, int k, int s, int p, int oh, int ow, float *col, long ld) {
	PICK(im2col)(x, c, h, w, k, s, p, oh, ow, col, ld);
}

void vaelab_col2im(const float *col, int c, int h, int w, int k, int s, int p, int oh, int ow, float *x, long ld) {
	PICK(col2im)(col, c, h, w, k, s, p, oh, ow, x, ld);
}

void vaelab_relu(float *y, const float *x, const float *g, long n) { PICK(relu)(y, x, g, n); }

void vaelab_bias_relu(float *y, const float *bias, long c, long n, int relu) {
	PICK(bias_relu)(y, bias, c, n, relu);
}

void vaelab_adam(float *w, float *g, float *m, float *v, long n, float b1, float b2, float step, float inv2,
		float eps, float scale) {
	PICK(adam)(w, g, m, v, n, b1, b2, step, inv2, eps, scale);
}

void vaelab_bernoulli_loglik(float *y, const float *x, const float *l, long rows, long d) {
	PICK(bernoulli_loglik)(y, x, l, rows, d);
}

void vaelab_bernoulli_grad(float *y, const float *x, const float *l, const float *g, long rows, long d) {
	PICK(bernoulli_grad)(y, x, l, g, rows, d);
}

double vaelab_sum_squares(const float *p, long n) { return PICK(sum_squares)(p, n); }
