//go:build cgo && amd64

// vaelab's float32 matrix product: cache-blocked in the usual way (blocks of
// k that fit the caches, packed panels of A and B, a register-tiled
// micro-kernel), with AVX-512, AVX2 and baseline copies of the micro-kernel.
// Every element of c is summed over k in the same order whatever the block of
// c a call computes, so splitting c between threads leaves its bits alone.

#include <immintrin.h>
#include <stdlib.h>
#include <string.h>
#include "kernel.h"

#define KC 256 // values of k per packed block: a B micro-panel (KC×NR) stays in L1

// copy_fixed copies the n values of a whole panel row, as a copy of fixed
// size (a few vector moves) for the vector kernels' row counts (6, 8, 12); 0
// for others.
static int copy_fixed(float *d, const float *s, int n) {
	switch (n) {
	case 6:
		memcpy(d, s, 6 * sizeof(float));
		return 1;
	case 8:
		memcpy(d, s, 8 * sizeof(float));
		return 1;
	case 12:
		memcpy(d, s, 12 * sizeof(float));
		return 1;
	}
	return 0;
}

// pack_a lays rows i0..i0+mc and columns p0..p0+kc of op(A) out as micro-panels
// of mr rows: panel r holds, for each p, its mr values side by side; rows past
// mc are zero.
static void pack_a(int ta, const float *a, long lda, int i0, int mc, int p0, int kc, int mr, float *dst) {
	for (int r0 = 0; r0 < mc; r0 += mr) {
		int rows = mc - r0 < mr ? mc - r0 : mr;
		if (ta) { // A(i, p) = a[p·lda + i]: a panel's values for one p are contiguous
			for (int p = 0; p < kc; p++) {
				const float *s = a + (long)(p0 + p) * lda + i0 + r0;
				float *d = dst + (long)p * mr;
				if (rows == mr && copy_fixed(d, s, mr)) continue;
				int r = 0;
				for (; r < rows; r++) d[r] = s[r];
				for (; r < mr; r++) d[r] = 0;
			}
		} else { // A(i, p) = a[i·lda + p]
			for (int r = 0; r < mr; r++) {
				if (r >= rows) {
					for (int p = 0; p < kc; p++) dst[(long)p * mr + r] = 0;
					continue;
				}
				const float *s = a + (long)(i0 + r0 + r) * lda + p0;
				for (int p = 0; p < kc; p++) dst[(long)p * mr + r] = s[p];
			}
		}
		dst += (long)mr * kc;
	}
}

// pack_b_rows is pack_b of an untransposed B, row by row of B: each row is
// read once, from start to end, and dealt out to the panels, so a B that is
// not in cache streams in. Read panel by panel (a strip of rows far apart at
// a time), the MLP's 560×400 weights, out of cache, cost its forward product
// 0.31 ms more than in cache; row by row, 0.16 ms (200 calls each).
static void pack_b_rows(const float *b, long ldb, int p0, int kc, int j0, int nc, int nr, float *dst) {
	for (int p = 0; p < kc; p++) {
		const float *s = b + (long)(p0 + p) * ldb + j0;
		float *d = dst + (long)p * nr;
		int q0 = 0;
		if (nr == 16)
			for (; q0 + 16 <= nc; q0 += 16, d += (long)16 * kc) memcpy(d, s + q0, 16 * sizeof(float));
		for (; q0 < nc; q0 += nr, d += (long)nr * kc) {
			int cols = nc - q0 < nr ? nc - q0 : nr, q = 0;
			for (; q < cols; q++) d[q] = s[q0 + q];
			for (; q < nr; q++) d[q] = 0;
		}
	}
}

// pack_b lays rows p0..p0+kc and columns j0..j0+nc of op(B) out as
// micro-panels of nr columns: panel q holds, for each p, its nr values side
// by side; columns past nc are zero.
static void pack_b(int tb, const float *b, long ldb, int p0, int kc, int j0, int nc, int nr, float *dst) {
	if (!tb) {
		pack_b_rows(b, ldb, p0, kc, j0, nc, nr, dst);
		return;
	}
	for (int q0 = 0; q0 < nc; q0 += nr) {
		int cols = nc - q0 < nr ? nc - q0 : nr;
		if (!tb) { // B(p, j) = b[p·ldb + j]: a panel's values for one p are contiguous
			for (int p = 0; p < kc; p++) {
				const float *s = b + (long)(p0 + p) * ldb + j0 + q0;
				float *d = dst + (long)p * nr;
				// A whole row of a 16-wide panel is a copy of fixed size
				// (a few vector moves); other rows are a few dozen values,
				// plain loops.
				if (cols == 16 && nr == 16) {
					memcpy(d, s, 16 * sizeof(float));
					continue;
				}
				int q = 0;
				for (; q < cols; q++) d[q] = s[q];
				for (; q < nr; q++) d[q] = 0;
			}
		} else { // B(p, j) = b[j·ldb + p]
			for (int q = 0; q < nr; q++) {
				if (q >= cols) {
					for (int p = 0; p < kc; p++) dst[(long)p * nr + q] = 0;
					continue;
				}
				const float *s = b + (long)(j0 + q0 + q) * ldb + p0;
				for (int p = 0; p < kc; p++) dst[(long)p * nr + q] = s[p];
			}
		}
		dst += (long)nr * kc;
	}
}

// transpose16 writes the 16×16 block at src (row stride lds) transposed to
// dst (row stride ldd): unpacks, then lane shuffles, all in registers.
__attribute__((target("avx512f"))) static void transpose16(const float *src, long lds, float *dst, long ldd) {
	__m512 r0=_mm512_loadu_ps(src+0*lds), r1=_mm512_loadu_ps(src+1*lds), r2=_mm512_loadu_ps(src+2*lds), r3=_mm512_loadu_ps(src+3*lds);
	__m512 r4=_mm512_loadu_ps(src+4*lds), r5=_mm512_loadu_ps(src+5*lds), r6=_mm512_loadu_ps(src+6*lds), r7=_mm512_loadu_ps(src+7*lds);
	__m512 r8=_mm512_loadu_ps(src+8*lds), r9=_mm512_loadu_ps(src+9*lds), r10=_mm512_loadu_ps(src+10*lds), r11=_mm512_loadu_ps(src+11*lds);
	__m512 r12=_mm512_loadu_ps(src+12*lds), r13=_mm512_loadu_ps(src+13*lds), r14=_mm512_loadu_ps(src+14*lds), r15=_mm512_loadu_ps(src+15*lds);
	__m512 t0=_mm512_unpacklo_ps(r0,r1), t1=_mm512_unpackhi_ps(r0,r1), t2=_mm512_unpacklo_ps(r2,r3), t3=_mm512_unpackhi_ps(r2,r3);
	__m512 t4=_mm512_unpacklo_ps(r4,r5), t5=_mm512_unpackhi_ps(r4,r5), t6=_mm512_unpacklo_ps(r6,r7), t7=_mm512_unpackhi_ps(r6,r7);
	__m512 t8=_mm512_unpacklo_ps(r8,r9), t9=_mm512_unpackhi_ps(r8,r9), t10=_mm512_unpacklo_ps(r10,r11), t11=_mm512_unpackhi_ps(r10,r11);
	__m512 t12=_mm512_unpacklo_ps(r12,r13), t13=_mm512_unpackhi_ps(r12,r13), t14=_mm512_unpacklo_ps(r14,r15), t15=_mm512_unpackhi_ps(r14,r15);
	r0=_mm512_shuffle_ps(t0,t2,0x44); r1=_mm512_shuffle_ps(t0,t2,0xEE); r2=_mm512_shuffle_ps(t1,t3,0x44); r3=_mm512_shuffle_ps(t1,t3,0xEE);
	r4=_mm512_shuffle_ps(t4,t6,0x44); r5=_mm512_shuffle_ps(t4,t6,0xEE); r6=_mm512_shuffle_ps(t5,t7,0x44); r7=_mm512_shuffle_ps(t5,t7,0xEE);
	r8=_mm512_shuffle_ps(t8,t10,0x44); r9=_mm512_shuffle_ps(t8,t10,0xEE); r10=_mm512_shuffle_ps(t9,t11,0x44); r11=_mm512_shuffle_ps(t9,t11,0xEE);
	r12=_mm512_shuffle_ps(t12,t14,0x44); r13=_mm512_shuffle_ps(t12,t14,0xEE); r14=_mm512_shuffle_ps(t13,t15,0x44); r15=_mm512_shuffle_ps(t13,t15,0xEE);
	t0=_mm512_shuffle_f32x4(r0,r4,0x88); t1=_mm512_shuffle_f32x4(r1,r5,0x88); t2=_mm512_shuffle_f32x4(r2,r6,0x88); t3=_mm512_shuffle_f32x4(r3,r7,0x88);
	t4=_mm512_shuffle_f32x4(r0,r4,0xdd); t5=_mm512_shuffle_f32x4(r1,r5,0xdd); t6=_mm512_shuffle_f32x4(r2,r6,0xdd); t7=_mm512_shuffle_f32x4(r3,r7,0xdd);
	t8=_mm512_shuffle_f32x4(r8,r12,0x88); t9=_mm512_shuffle_f32x4(r9,r13,0x88); t10=_mm512_shuffle_f32x4(r10,r14,0x88); t11=_mm512_shuffle_f32x4(r11,r15,0x88);
	t12=_mm512_shuffle_f32x4(r8,r12,0xdd); t13=_mm512_shuffle_f32x4(r9,r13,0xdd); t14=_mm512_shuffle_f32x4(r10,r14,0xdd); t15=_mm512_shuffle_f32x4(r11,r15,0xdd);
	r0=_mm512_shuffle_f32x4(t0,t8,0x88); r1=_mm512_shuffle_f32x4(t1,t9,0x88); r2=_mm512_shuffle_f32x4(t2,t10,0x88); r3=_mm512_shuffle_f32x4(t3,t11,0x88);
	r4=_mm512_shuffle_f32x4(t4,t12,0x88); r5=_mm512_shuffle_f32x4(t5,t13,0x88); r6=_mm512_shuffle_f32x4(t6,t14,0x88); r7=_mm512_shuffle_f32x4(t7,t15,0x88);
	r8=_mm512_shuffle_f32x4(t0,t8,0xdd); r9=_mm512_shuffle_f32x4(t1,t9,0xdd); r10=_mm512_shuffle_f32x4(t2,t10,0xdd); r11=_mm512_shuffle_f32x4(t3,t11,0xdd);
	r12=_mm512_shuffle_f32x4(t4,t12,0xdd); r13=_mm512_shuffle_f32x4(t5,t13,0xdd); r14=_mm512_shuffle_f32x4(t6,t14,0xdd); r15=_mm512_shuffle_f32x4(t7,t15,0xdd);
	_mm512_storeu_ps(dst+0*ldd,r0); _mm512_storeu_ps(dst+1*ldd,r1); _mm512_storeu_ps(dst+2*ldd,r2); _mm512_storeu_ps(dst+3*ldd,r3);
	_mm512_storeu_ps(dst+4*ldd,r4); _mm512_storeu_ps(dst+5*ldd,r5); _mm512_storeu_ps(dst+6*ldd,r6); _mm512_storeu_ps(dst+7*ldd,r7);
	_mm512_storeu_ps(dst+8*ldd,r8); _mm512_storeu_ps(dst+9*ldd,r9); _mm512_storeu_ps(dst+10*ldd,r10); _mm512_storeu_ps(dst+11*ldd,r11);
	_mm512_storeu_ps(dst+12*ldd,r12); _mm512_storeu_ps(dst+13*ldd,r13); _mm512_storeu_ps(dst+14*ldd,r14); _mm512_storeu_ps(dst+15*ldd,r15);
}

// pack_b_t512 is pack_b of a transposed B for the AVX-512 kernels (nr a
// multiple of 16): whole 16×16 blocks are transposed in registers, the rest
// value by value.
__attribute__((target("avx512f"))) static void pack_b_t512(const float *b, long ldb, int p0, int kc, int j0, int nc, int nr, float *dst) {
	for (int q0 = 0; q0 < nc; q0 += nr) {
		int cols = nc - q0 < nr ? nc - q0 : nr;
		int p = 0;
		if (cols == nr) {
			for (; p + 16 <= kc; p += 16) {
				const float *s = b + (long)(j0 + q0) * ldb + p0 + p;
				for (int q = 0; q < nr; q += 16) transpose16(s + q * ldb, ldb, dst + (long)p * nr + q, nr);
			}
		}
		for (int q = 0; q < nr; q++) {
			const float *s = b + (long)(j0 + q0 + q) * ldb + p0;
			for (int pp = p; pp < kc; pp++) dst[(long)pp * nr + q] = q < cols ? s[pp] : 0;
		}
		dst += (long)nr * kc;
	}
}

// tr8 writes the 8×8 block at s (rows ss apart) transposed to d (rows ds
// apart): unpacks, shuffles and lane swaps, all in registers. The Winograd
// kernels of vae/internal/ops hold the same transpose: a cgo package compiles
// only its own directory's C, and a header shared across directories would
// escape Go's build cache, which tracks a package's own files.
__attribute__((target("avx2"))) static inline void tr8(const float *s, long ss, float *d, long ds) {
	__m256 r0 = _mm256_loadu_ps(s), r1 = _mm256_loadu_ps(s + ss), r2 = _mm256_loadu_ps(s + 2 * ss),
	       r3 = _mm256_loadu_ps(s + 3 * ss), r4 = _mm256_loadu_ps(s + 4 * ss), r5 = _mm256_loadu_ps(s + 5 * ss),
	       r6 = _mm256_loadu_ps(s + 6 * ss), r7 = _mm256_loadu_ps(s + 7 * ss);
	__m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1), t2 = _mm256_unpacklo_ps(r2, r3),
	       t3 = _mm256_unpackhi_ps(r2, r3), t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5),
	       t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
	__m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE),
	       u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE),
	       u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE),
	       u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
	_mm256_storeu_ps(d, _mm256_permute2f128_ps(u0, u4, 0x20));
	_mm256_storeu_ps(d + ds, _mm256_permute2f128_ps(u1, u5, 0x20));
	_mm256_storeu_ps(d + 2 * ds, _mm256_permute2f128_ps(u2, u6, 0x20));
	_mm256_storeu_ps(d + 3 * ds, _mm256_permute2f128_ps(u3, u7, 0x20));
	_mm256_storeu_ps(d + 4 * ds, _mm256_permute2f128_ps(u0, u4, 0x31));
	_mm256_storeu_ps(d + 5 * ds, _mm256_permute2f128_ps(u1, u5, 0x31));
	_mm256_storeu_ps(d + 6 * ds, _mm256_permute2f128_ps(u2, u6, 0x31));
	_mm256_storeu_ps(d + 7 * ds, _mm256_permute2f128_ps(u3, u7, 0x31));
}

// pack_b_t256 is pack_b of a transposed B for the AVX2 kernel (nr 16): whole
// 8×8 blocks are transposed in registers, the rest value by value.
__attribute__((target("avx2"))) static void pack_b_t256(const float *b, long ldb, int p0, int kc, int j0, int nc, int nr,
		float *dst) {
	for (int q0 = 0; q0 < nc; q0 += nr) {
		int cols = nc - q0 < nr ? nc - q0 : nr;
		int p = 0;
		if (cols == nr) {
			for (; p + 8 <= kc; p += 8) {
				const float *s = b + (long)(j0 + q0) * ldb + p0 + p;
				for (int q = 0; q < nr; q += 8) tr8(s + q * ldb, ldb, dst + (long)p * nr + q, nr);
			}
		}
		for (int q = 0; q < nr; q++) {
			const float *s = b + (long)(j0 + q0 + q) * ldb + p0;
			for (int pp = p; pp < kc; pp++) dst[(long)pp * nr + q] = q < cols ? s[pp] : 0;
		}
		dst += (long)nr * kc;
	}
}

// pack_a_n256 is pack_a of an untransposed A for the AVX2 kernel (mr is its
// 6, which the copies below assume):
// whole panels go 8 values of k at a time through an 8×8 transpose of their
// 6 rows and 2 of zeros, the rest value by value.
__attribute__((target("avx2"))) static void pack_a_n256(const float *a, long lda, int i0, int mc, int p0, int kc, int mr,
		float *dst) {
	float in[64] = {0}, t[64]; // in's last 2 rows stay 0
	for (int r0 = 0; r0 < mc; r0 += mr) {
		int rows = mc - r0 < mr ? mc - r0 : mr, p = 0;
		const float *s = a + (long)(i0 + r0) * lda + p0;
		if (rows == mr) {
			for (; p + 8 <= kc; p += 8) {
				for (int r = 0; r < mr; r++) _mm256_storeu_ps(in + 8 * r, _mm256_loadu_ps(s + (long)r * lda + p));
				tr8(in, 8, t, 8);
				for (int i = 0; i < 8; i++) memcpy(dst + (long)(p + i) * mr, t + 8 * i, sizeof(float) * 6);
			}
		}
		for (int r = 0; r < mr; r++)
			for (int pp = p; pp < kc; pp++) dst[(long)pp * mr + r] = r < rows ? s[(long)r * lda + pp] : 0;
		dst += (long)mr * kc;
	}
}

// store writes an mr×nr tile t (row stride NR) of sums into c: c = alpha·t +
// beta·c, or c = alpha·t when first and beta is 0 (c is not read), or
// c += alpha·t for the later blocks of k (first = 0).
static void store(const float *t, int ldt, int rows, int cols, float alpha, float beta, int first, float *c, long ldc) {
	for (int r = 0; r < rows; r++) {
		float *cr = c + (long)r * ldc;
		const float *tr = t + (long)r * ldt;
		if (!first) {
			for (int j = 0; j < cols; j++) cr[j] += alpha * tr[j];
		} else if (beta == 0) {
			for (int j = 0; j < cols; j++) cr[j] = alpha * tr[j];
		} else {
			for (int j = 0; j < cols; j++) cr[j] = alpha * tr[j] + beta * cr[j];
		}
	}
}

// ---- micro-kernels: the rows×cols corner of an MR×NR tile of c from
// t = Σ_p A-panel[p]ᵀ · B-panel[p], by mode: 0: c = alpha·t; 1: c = alpha·t +
// beta·c; 2 (later blocks of k): c = alpha·t + c. The vector kernels give
// full and partial tiles the same arithmetic (only the moves differ: masked
// at the edges, and AVX2's last tile of at most 8 columns on a narrower copy),
// so an element's bits do not depend on where a block of c ends. ----

// store_mode is store's mode for the block of k starting at pc.
static int store_mode(int pc, float beta) { return pc > 0 ? 2 : beta == 0 ? 0 : 1; }

// Baseline: 4×8, left to the compiler.
#define MR0 4
#define NR0 8
static void kernel_base(int kc, const float *a, const float *b, float *c, long ldc, int rows, int cols, float alpha,
		float beta, int mode) {
	float acc[MR0][NR0] = {{0}};
	for (int p = 0; p < kc; p++) {
		for (int r = 0; r < MR0; r++) {
			float av = a[p * MR0 + r];
			for (int j = 0; j < NR0; j++) acc[r][j] += av * b[p * NR0 + j];
		}
	}
	store(&acc[0][0], NR0, rows, cols, alpha, beta, mode != 2, c, ldc);
}

// AVX2 with FMA: 6×16, twelve accumulators in ymm registers.
#define MR1 6
#define NR1 16
#define STORE256(r) if (r < rows) { \
	float *cr = c + (long)r * ldc; \
	__m256 v0, v1; \
	if (mode == 0) { \
		v0 = _mm256_mul_ps(va, c##r##0); v1 = _mm256_mul_ps(va, c##r##1); \
	} else { \
		__m256 o0, o1; \
		if (full) { o0 = _mm256_loadu_ps(cr); o1 = _mm256_loadu_ps(cr + 8); } \
		else { o0 = _mm256_maskload_ps(cr, m0); o1 = _mm256_maskload_ps(cr + 8, m1); } \
		if (mode == 1) { o0 = _mm256_mul_ps(vb, o0); o1 = _mm256_mul_ps(vb, o1); } \
		v0 = _mm256_fmadd_ps(va, c##r##0, o0); v1 = _mm256_fmadd_ps(va, c##r##1, o1); \
	} \
	if (full) { _mm256_storeu_ps(cr, v0); _mm256_storeu_ps(cr + 8, v1); } \
	else { _mm256_maskstore_ps(cr, m0, v0); _mm256_maskstore_ps(cr + 8, m1, v1); } }
__attribute__((target("avx2,fma"), always_inline)) static inline void kernel_avx2_ld(int kc, const float *a, const float *b, long ldb,
		float *c, long ldc, int rows, int cols, float alpha, float beta, int mode) {
	__m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
	__m256 c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
	// The tile of c is read or written only after the loop: fetch it now.
	for (int r = 0; r < rows; r++) {
		_mm_prefetch((const char *)(c + (long)r * ldc), _MM_HINT_T0);
		_mm_prefetch((const char *)(c + (long)r * ldc + 15), _MM_HINT_T0);
	}
#pragma GCC unroll 4
	for (int p = 0; p < kc; p++) {
		__m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
		__m256 av;
		av = _mm256_broadcast_ss(a + 0); c00 = _mm256_fmadd_ps(av, b0, c00); c01 = _mm256_fmadd_ps(av, b1, c01);
		av = _mm256_broadcast_ss(a + 1); c10 = _mm256_fmadd_ps(av, b0, c10); c11 = _mm256_fmadd_ps(av, b1, c11);
		av = _mm256_broadcast_ss(a + 2); c20 = _mm256_fmadd_ps(av, b0, c20); c21 = _mm256_fmadd_ps(av, b1, c21);
		av = _mm256_broadcast_ss(a + 3); c30 = _mm256_fmadd_ps(av, b0, c30); c31 = _mm256_fmadd_ps(av, b1, c31);
		av = _mm256_broadcast_ss(a + 4); c40 = _mm256_fmadd_ps(av, b0, c40); c41 = _mm256_fmadd_ps(av, b1, c41);
		av = _mm256_broadcast_ss(a + 5); c50 = _mm256_fmadd_ps(av, b0, c50); c51 = _mm256_fmadd_ps(av, b1, c51);
		a += MR1;
		b += ldb;
	}
	const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
	__m256i m0 = _mm256_cmpgt_epi32(_mm256_set1_epi32(cols), lane);
	__m256i m1 = _mm256_cmpgt_epi32(_mm256_set1_epi32(cols - 8), lane);
	__m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
	int full = cols == NR1; // masked moves cost far more than plain ones on some CPUs (AMD's)
	STORE256(0) STORE256(1) STORE256(2) STORE256(3) STORE256(4) STORE256(5)
}
__attribute__((target("avx2,fma"))) static void kernel_avx2(int kc, const float *a, const float *b, float *c, long ldc, int rows,
		int cols, float alpha, float beta, int mode) {
	kernel_avx2_ld(kc, a, b, NR1, c, ldc, rows, cols, alpha, beta, mode);
}
// kernel_avx2_unpacked is kernel_avx2 on whole 16-column panels of B read in
// place, rows ldb apart (the same operations in the same order).
__attribute__((target("avx2,fma"))) static void kernel_avx2_unpacked(int kc, const float *a, const float *b, long ldb, float *c,
		long ldc, int rows, float alpha, float beta, int mode) {
	kernel_avx2_ld(kc, a, b, ldb, c, ldc, rows, NR1, alpha, beta, mode);
}

// AVX2, the first 8 columns of a 6×16 tile only: a product's last tile when
// at most 8 of its columns are left (a 20-wide product is 16 + 4), at half
// the full kernel's work. Each value goes through the same operations in the
// same order as in the full kernel, so its bits do not depend on which of
// the two computed it.
#define STORE256N8(r) if (r < rows) { \
	float *cr = c + (long)r * ldc; \
	__m256 v0; \
	if (mode == 0) { \
		v0 = _mm256_mul_ps(va, c##r##0); \
	} else { \
		__m256 o0 = _mm256_maskload_ps(cr, m0); \
		if (mode == 1) o0 = _mm256_mul_ps(vb, o0); \
		v0 = _mm256_fmadd_ps(va, c##r##0, o0); \
	} \
	_mm256_maskstore_ps(cr, m0, v0); }
__attribute__((target("avx2,fma"))) static void kernel_avx2_n8(int kc, const float *a, const float *b, float *c, long ldc,
		int rows, int cols, float alpha, float beta, int mode) {
	__m256 c00 = _mm256_setzero_ps(), c10 = c00, c20 = c00, c30 = c00, c40 = c00, c50 = c00;
#pragma GCC unroll 4
	for (int p = 0; p < kc; p++) {
		__m256 b0 = _mm256_loadu_ps(b);
		c00 = _mm256_fmadd_ps(_mm256_broadcast_ss(a + 0), b0, c00);
		c10 = _mm256_fmadd_ps(_mm256_broadcast_ss(a + 1), b0, c10);
		c20 = _mm256_fmadd_ps(_mm256_broadcast_ss(a + 2), b0, c20);
		c30 = _mm256_fmadd_ps(_mm256_broadcast_ss(a + 3), b0, c30);
		c40 = _mm256_fmadd_ps(_mm256_broadcast_ss(a + 4), b0, c40);
		c50 = _mm256_fmadd_ps(_mm256_broadcast_ss(a + 5), b0, c50);
		a += MR1;
		b += NR1;
	}
	const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
	__m256i m0 = _mm256_cmpgt_epi32(_mm256_set1_epi32(cols), lane);
	__m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
	STORE256N8(0) STORE256N8(1) STORE256N8(2) STORE256N8(3) STORE256N8(4) STORE256N8(5)
}

// AVX-512: 12×32, twenty-four accumulators in zmm registers.
#define MR2 12
#define NR2 32
#define ROW512(r) av = _mm512_set1_ps(a[r]); \
	c##r##0 = _mm512_fmadd_ps(av, b0, c##r##0); c##r##1 = _mm512_fmadd_ps(av, b1, c##r##1);
#define STORE512(r) if (r < rows) { \
	float *cr = c + (long)r * ldc; \
	__m512 v0, v1; \
	if (mode == 0) { \
		v0 = _mm512_mul_ps(va, c##r##0); v1 = _mm512_mul_ps(va, c##r##1); \
	} else { \
		__m512 o0 = _mm512_maskz_loadu_ps(m0, cr), o1 = _mm512_maskz_loadu_ps(m1, cr + 16); \
		if (mode == 1) { o0 = _mm512_mul_ps(vb, o0); o1 = _mm512_mul_ps(vb, o1); } \
		v0 = _mm512_fmadd_ps(va, c##r##0, o0); v1 = _mm512_fmadd_ps(va, c##r##1, o1); \
	} \
	_mm512_mask_storeu_ps(cr, m0, v0); _mm512_mask_storeu_ps(cr + 16, m1, v1); }
__attribute__((target("avx512f"))) static void kernel_avx512(int kc, const float *a, const float *b, float *c, long ldc, int rows,
		int cols, float alpha, float beta, int mode) {
	__m512 z = _mm512_setzero_ps();
	__m512 c00 = z, c01 = z, c10 = z, c11 = z, c20 = z, c21 = z, c30 = z, c31 = z, c40 = z, c41 = z, c50 = z, c51 = z;
	__m512 c60 = z, c61 = z, c70 = z, c71 = z, c80 = z, c81 = z, c90 = z, c91 = z;
	__m512 c100 = z, c101 = z, c110 = z, c111 = z;
	for (int p = 0; p < kc; p++) {
		__m512 b0 = _mm512_loadu_ps(b), b1 = _mm512_loadu_ps(b + 16);
		__m512 av;
		ROW512(0) ROW512(1) ROW512(2) ROW512(3) ROW512(4) ROW512(5)
		ROW512(6) ROW512(7) ROW512(8) ROW512(9) ROW512(10) ROW512(11)
		a += MR2;
		b += NR2;
	}
	__mmask16 m0 = cols >= 16 ? 0xFFFF : (__mmask16)((1u << cols) - 1);
	__mmask16 m1 = cols >= 32 ? 0xFFFF : cols <= 16 ? 0 : (__mmask16)((1u << (cols - 16)) - 1);
	__m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
	STORE512(0) STORE512(1) STORE512(2) STORE512(3) STORE512(4) STORE512(5)
	STORE512(6) STORE512(7) STORE512(8) STORE512(9) STORE512(10) STORE512(11)
}

// AVX-512, 8×48: twenty-four accumulators too, for products whose sides are
// multiples of 8 or of 48 (a 12×32 tile wastes a ninth of 32 or 64 rows, a
// third of 48 columns).
#define MR3 8
#define NR3 48
#define ROW512x3(r) av = _mm512_set1_ps(a[r]); \
	d##r##0 = _mm512_fmadd_ps(av, b0, d##r##0); d##r##1 = _mm512_fmadd_ps(av, b1, d##r##1); \
	d##r##2 = _mm512_fmadd_ps(av, b2, d##r##2);
#define STORE512x3(r) if (r < rows) { \
	float *cr = c + (long)r * ldc; \
	__m512 v0, v1, v2; \
	if (mode == 0) { \
		v0 = _mm512_mul_ps(va, d##r##0); v1 = _mm512_mul_ps(va, d##r##1); v2 = _mm512_mul_ps(va, d##r##2); \
	} else { \
		__m512 o0 = _mm512_maskz_loadu_ps(m0, cr), o1 = _mm512_maskz_loadu_ps(m1, cr + 16); \
		__m512 o2 = _mm512_maskz_loadu_ps(m2, cr + 32); \
		if (mode == 1) { o0 = _mm512_mul_ps(vb, o0); o1 = _mm512_mul_ps(vb, o1); o2 = _mm512_mul_ps(vb, o2); } \
		v0 = _mm512_fmadd_ps(va, d##r##0, o0); v1 = _mm512_fmadd_ps(va, d##r##1, o1); \
		v2 = _mm512_fmadd_ps(va, d##r##2, o2); \
	} \
	_mm512_mask_storeu_ps(cr, m0, v0); _mm512_mask_storeu_ps(cr + 16, m1, v1); \
	_mm512_mask_storeu_ps(cr + 32, m2, v2); }
__attribute__((target("avx512f"))) static __mmask16 mask16(int cols) {
	return cols >= 16 ? 0xFFFF : cols <= 0 ? 0 : (__mmask16)((1u << cols) - 1);
}
__attribute__((target("avx512f"))) static void kernel_avx512_8x48(int kc, const float *a, const float *b, float *c, long ldc,
		int rows, int cols, float alpha, float beta, int mode) {
	__m512 z = _mm512_setzero_ps();
	__m512 d00 = z, d01 = z, d02 = z, d10 = z, d11 = z, d12 = z, d20 = z, d21 = z, d22 = z, d30 = z, d31 = z, d32 = z;
	__m512 d40 = z, d41 = z, d42 = z, d50 = z, d51 = z, d52 = z, d60 = z, d61 = z, d62 = z, d70 = z, d71 = z, d72 = z;
	for (int p = 0; p < kc; p++) {
		__m512 b0 = _mm512_loadu_ps(b), b1 = _mm512_loadu_ps(b + 16), b2 = _mm512_loadu_ps(b + 32);
		__m512 av;
		ROW512x3(0) ROW512x3(1) ROW512x3(2) ROW512x3(3) ROW512x3(4) ROW512x3(5) ROW512x3(6) ROW512x3(7)
		a += MR3;
		b += NR3;
	}
	__mmask16 m0 = mask16(cols), m1 = mask16(cols - 16), m2 = mask16(cols - 32);
	__m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
	STORE512x3(0) STORE512x3(1) STORE512x3(2) STORE512x3(3) STORE512x3(4) STORE512x3(5) STORE512x3(6) STORE512x3(7)
}

typedef void (*kernel_fn)(int, const float *, const float *, float *, long, int, int, float, float, int);

static const struct {
	kernel_fn fn;
	int mr, nr;
} kernels[] = {
	{kernel_base, MR0, NR0},
	{kernel_avx2, MR1, NR1},
	{kernel_avx512, MR2, NR2},
	{kernel_avx512_8x48, MR3, NR3},
};

int vaelab_sgemm_best(void) {
	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx512f")) return 2;
	if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return 1;
	return 0;
}

void vaelab_sgemm_tile(int kernel, int *mr, int *nr) {
	*mr = kernels[kernel].mr;
	*nr = kernels[kernel].nr;
}

// Packing buffers, one pair per OS thread, kept between calls (a product
// would otherwise map and fault in fresh pages every time).
static __thread float *buf_a, *buf_b;
static __thread size_t cap_a, cap_b;

static float *grow(float **buf, size_t *cap, size_t n) {
	if (*cap < n) {
		free(*buf);
		*buf = aligned_alloc(64, ((n * sizeof(float) + 63) / 64) * 64);
		*cap = *buf ? n : 0;
	}
	return *buf;
}

// A product of few rows (the MLP's batch of 100) would pack all of an
// untransposed B for them alone: its weights, read once more and written. Up
// to 20 register rows (one block of rows), the AVX2 kernel reads B's whole
// 16-column panels in place instead (the last, narrower panel is packed: the
// kernel reads 16 values a row), where B's rows are an odd number of cache
// lines apart: a panel's rows then fall in every cache set, where rows a
// power of two apart (the Winograd products' 128) would crowd a few. The
// MLP's 100×400×560 and 100×560×400 products ran 6-8 % faster so (300
// alternating calls each).
int vaelab_sgemm_reads_b_in_place(int kernel, int tb, int m, long ldb) {
	return kernel == 1 && !tb && m <= kernels[kernel].mr * 20 && ldb % 32 == 16;
}
int vaelab_sgemm_block(int kernel, int ta, int tb, int i0, int i1, int j0, int j1, int k, float alpha,
		const float *a, long lda, const float *b, long ldb, float beta, float *c, long ldc, int in_place) {
	kernel_fn fn = kernels[kernel].fn;
	int mr = kernels[kernel].mr, nr = kernels[kernel].nr;
	int mcmax = mr * 16, ncmax = nr * 32;
	int m = i1 - i0, n = j1 - j0;
	if (m <= 0 || n <= 0) return 0;
	int direct = in_place && vaelab_sgemm_reads_b_in_place(kernel, tb, m, ldb);
	if (direct) mcmax = (m + mr - 1) / mr * mr;
	int mcb = m < mcmax ? m : mcmax, ncb = n < ncmax ? n : ncmax;
	float *pa = grow(&buf_a, &cap_a, (size_t)((mcb + mr - 1) / mr) * mr * KC);
	float *pb = grow(&buf_b, &cap_b, (size_t)((ncb + nr - 1) / nr) * nr * KC);
	if (!pa || !pb) return -1;
	for (int jc = j0; jc < j1; jc += ncmax) {
		int nc = j1 - jc < ncmax ? j1 - jc : ncmax;
		int whole = direct ? nc / nr * nr : 0; // columns read in place; the rest are packed
		for (int pc = 0; pc < k; pc += KC) {
			int kc = k - pc < KC ? k - pc : KC;
			if (direct) {
				if (whole < nc) pack_b(0, b, ldb, pc, kc, jc + whole, nc - whole, nr, pb);
			} else if (tb && kernels[kernel].nr % 16 == 0 && kernel >= 2)
				pack_b_t512(b, ldb, pc, kc, jc, nc, nr, pb);
			else if (tb && kernel == 1)
				pack_b_t256(b, ldb, pc, kc, jc, nc, nr, pb);
			else
				pack_b(tb, b, ldb, pc, kc, jc, nc, nr, pb);
			for (int ic = i0; ic < i1; ic += mcmax) {
				int mc = i1 - ic < mcmax ? i1 - ic : mcmax;
				if (!ta && kernel == 1)
					pack_a_n256(a, lda, ic, mc, pc, kc, mr, pa);
				else
					pack_a(ta, a, lda, ic, mc, pc, kc, mr, pa);
				for (int jr = 0; jr < nc; jr += nr) {
					int cols = nc - jr < nr ? nc - jr : nr;
					if (jr < whole) {
						const float *bp = b + (long)pc * ldb + jc + jr;
						for (int ir = 0; ir < mc; ir += mr) {
							int rows = mc - ir < mr ? mc - ir : mr;
							kernel_avx2_unpacked(kc, pa + (long)ir * kc, bp, ldb, c + (long)(ic + ir) * ldc + jc + jr, ldc, rows,
								alpha, beta, store_mode(pc, beta));
						}
						continue;
					}
					const float *bp = pb + (long)(jr - whole) * kc;
					for (int ir = 0; ir < mc; ir += mr) {
						int rows = mc - ir < mr ? mc - ir : mr;
						kernel_fn f = kernel == 1 && cols <= 8 ? kernel_avx2_n8 : fn;
						f(kc, pa + (long)ir * kc, bp, c + (long)(ic + ir) * ldc + jc + jr, ldc, rows, cols,
							alpha, beta, store_mode(pc, beta));
					}
				}
			}
		}
	}
	return 0;
}
