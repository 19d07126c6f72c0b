//go:build cgo

// The float32 kernels of kernels_body.h, compiled for AVX2 and for the
// baseline instruction set; each call runs the fastest copy the CPU supports.

// No fused multiply-adds: the kernels round as their Go references do. No
// floating-point traps (Go does not enable them either), so that loops with
// selects can be vectorised.
#pragma GCC optimize("fp-contract=off")
#pragma GCC optimize("no-trapping-math")

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "vaelab_kernels.h"

// v4f is four floats added lane by lane (GCC's vector extension).
typedef float v4f __attribute__((vector_size(16)));

// v8f is eight floats lane by lane, read and written anywhere in a float
// array (unaligned, aliasing it): the F(4×4, 2×2) transforms' lanes.
typedef float v8f __attribute__((vector_size(32), aligned(4), may_alias));

#define TARGET
#define KERNEL(name) name##_base
#include "kernels_body.h"
#undef TARGET
#undef KERNEL

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define TARGET __attribute__((target("avx2")))

#define KERNEL(name) name##_avx2
#define KERNEL_AVX2
#include "kernels_body.h"
#undef TARGET
#undef KERNEL
#undef KERNEL_AVX2
#define HAVE_AVX2_COPY 1
#else
#define HAVE_AVX2_COPY 0
#endif

// use_avx2 is 1 when the AVX2 copies run: set from the CPU on first use, or
// by vaelab_kernels_use_avx2 (tests check every copy against the Go code).
static int use_avx2 = -1;

int vaelab_kernels_have_avx2(void) {
#if HAVE_AVX2_COPY
	return __builtin_cpu_supports("avx2") ? 1 : 0;
#else
	return 0;
#endif
}

static int avx2(void) {
	if (use_avx2 < 0) use_avx2 = vaelab_kernels_have_avx2();
	return use_avx2;
}

int vaelab_kernels_use_avx2(int on) {
	int was = avx2();
	use_avx2 = on && vaelab_kernels_have_avx2();
	return was;
}

#if HAVE_AVX2_COPY
#define PICK(name) (avx2() ? name##_avx2 : name##_base)
#else
#define PICK(name) name##_base
#endif

// With padding, im2row and row2im work on a zero-padded copy of the planes,
// where every patch lies inside: the edge patches (a quarter to three
// quarters of them on 8×8 to 4×4 maps) then take the fast path too. The copy
// is one buffer per OS thread, kept between calls.
static __thread float *pad_buf;
static __thread size_t pad_cap;

static float *pad_room(size_t n) {
	if (pad_cap < n) {
		free(pad_buf);
		pad_buf = malloc(n * sizeof(float));
		pad_cap = pad_buf ? n : 0;
	}
	return pad_buf;
}

// pad copies x (c×h×w) into xp (c×(h+2p)×(w+2p)) with p zeros around each plane.
static void pad_planes(const float *x, int c, int h, int w, int p, float *xp) {
	int wp = w + 2 * p;
	long planep = (long)(h + 2 * p) * wp;
	for (int ch = 0; ch < c; ch++) {
		float *d = xp + ch * planep;
		memset(d, 0, sizeof(float) * (size_t)p * wp);
		for (int y = 0; y < h; y++) {
			float *r = d + (long)(y + p) * wp;
			memset(r, 0, sizeof(float) * p);
			memcpy(r + p, x + ((long)ch * h + y) * w, sizeof(float) * w);
			memset(r + p + w, 0, sizeof(float) * p);
		}
		memset(d + (long)(h + p) * wp, 0, sizeof(float) * (size_t)p * wp);
	}
}

// padded is x's zero-padded copy in this thread's buffer, or NULL without
// padding (or without memory for it: the direct loops then run).
static float *padded(const float *x, int c, int h, int w, int p) {
	float *xp = p > 0 ? pad_room((size_t)c * (h + 2 * p) * (w + 2 * p)) : NULL;
	if (xp != NULL) pad_planes(x, c, h, w, p, xp);
	return xp;
}

void vaelab_im2row(const float *x, int c, int h, int w, int k, int s, int p, int oh, int ow, float *rows) {
	float *xp = padded(x, c, h, w, p);
	if (xp == NULL) {
		PICK(im2row)(x, c, h, w, k, s, p, oh, ow, rows);
		return;
	}
	PICK(im2row)(xp, c, h + 2 * p, w + 2 * p, k, s, 0, oh, ow, rows);
}

// row2im on the padded copy adds each value's terms in the same order (by
// output position), so the sums are those of the direct loop bit for bit.
void vaelab_row2im(const float *rows, int c, int h, int w, int k, int s, int p, int oh, int ow, float *x) {
	float *xp = padded(x, c, h, w, p);
	if (xp == NULL) {
		PICK(row2im)(rows, c, h, w, k, s, p, oh, ow, x);
		return;
	}
	PICK(row2im)(rows, c, h + 2 * p, w + 2 * p, k, s, 0, oh, ow, xp);
	int wp = w + 2 * p;
	long planep = (long)(h + 2 * p) * wp;
	for (int ch = 0; ch < c; ch++)
		for (int y = 0; y < h; y++)
			memcpy(x + ((long)ch * h + y) * w, xp + ch * planep + (long)(y + p) * wp + p, sizeof(float) * w);
}

void vaelab_relu(float *y, const float *x, const float *g, long n) { PICK(relu)(y, x, g, n); }

void vaelab_bias_relu(float *y, const float *bias, long c, long n, int relu) {
	PICK(bias_relu)(y, bias, c, n, relu);
}

void vaelab_col_sums(float *y, const float *x, long rows, long n) { PICK(col_sums)(y, x, rows, n); }

void vaelab_channel_sums(float *y, const float *x, long images, long c, long c0, long c1, long n) {
	PICK(channel_sums)(y, x, images, c, c0, c1, n);
}

void vaelab_row_bias(float *y, const float *b, long rows, long n) { PICK(row_bias)(y, b, rows, n); }

void vaelab_adam(float *w, const float *g, float *m, float *v, long n, float b1, float b2, float step, float inv2,
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

void vaelab_wino_weights(const float *w, int B, int A, float *U, long xs) { PICK(wino_weights)(w, B, A, U, xs); }

void vaelab_wino_weights_adj(const float *dU, long xs, int B, int A, float *dw) {
	PICK(wino_weights_adj)(dU, xs, B, A, dw);
}

void vaelab_wino_in(const float *x, int A, int H, int W, float *pad, float *V, long ld, long xs) {
	PICK(wino_in)(x, A, H, W, pad, V, ld, xs);
}

void vaelab_wino_in_adj(const float *dV, long ld, long xs, int A, int H, int W, float *pad, float *x) {
	PICK(wino_in_adj)(dV, ld, xs, A, H, W, pad, x);
}

void vaelab_wino_out(const float *M, long ld, long xs, int B, int h, int w, float *y) {
	PICK(wino_out)(M, ld, xs, B, h, w, y);
}

void vaelab_wino_out_adj(const float *gy, int B, int h, int w, float *dM, long ld, long xs) {
	PICK(wino_out_adj)(gy, B, h, w, dM, ld, xs);
}

void vaelab_wino4_weights(const float *w, int B, int A, float *U, long xs) { PICK(wino4_weights)(w, B, A, U, xs); }

void vaelab_wino4_weights_adj(const float *dU, long xs, int B, int A, float *dw) {
	PICK(wino4_weights_adj)(dU, xs, B, A, dw);
}

void vaelab_wino4_in(const float *x, long xi, int m, int a0, int a1, int H, int W, float *l, float *V, long ld,
		long xs) {
	PICK(wino4_in)(x, xi, m, a0, a1, H, W, l, V, ld, xs);
}

void vaelab_wino4_in_adj(const float *dV, long ld, long xs, int m, int a0, int a1, int H, int W, float *l, float *x,
		long xi) {
	PICK(wino4_in_adj)(dV, ld, xs, m, a0, a1, H, W, l, x, xi);
}

void vaelab_wino4_out(const float *M, long ld, long xs, int m, int b0, int b1, int h, int w, float *l, float *y,
		long yi) {
	PICK(wino4_out)(M, ld, xs, m, b0, b1, h, w, l, y, yi);
}

void vaelab_wino4_out_adj(const float *gy, long yi, int m, int b0, int b1, int h, int w, float *l, float *dM, long ld,
		long xs) {
	PICK(wino4_out_adj)(gy, yi, m, b0, b1, h, w, l, dM, ld, xs);
}
