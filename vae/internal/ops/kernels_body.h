// The float32 kernels, written once and included twice by kernels.c: for the
// baseline instruction set and, on x86-64, for AVX2. KERNEL(name) names a
// function for the instruction set being compiled, TARGET asks for it.
//
// kernels.c turns off fused multiply-adds: every kernel that the Go code
// also has does the same float32 operations in the same order, so the results
// are bit-identical to the Go reference whichever copy runs (kernels_test.go).

// inner_range is the range [lo, hi) of output columns whose k-wide patch
// lies inside a row of w values: ox·s − p ≥ 0 and ox·s − p + k ≤ w.
static inline void KERNEL(inner_range)(int k, int s, int p, int w, int ow, int *lo, int *hi) {
	int l = (p + s - 1) / s, u = w - k + p < 0 ? 0 : (w - k + p) / s + 1;
	if (l > ow) l = ow;
	if (u > ow) u = ow;
	if (u < l) u = l;
	*lo = l;
	*hi = u;
}

// patch_edge copies one channel's k×k patch at (iy0, ix0), zeros where it
// leaves the plane.
static inline TARGET void KERNEL(patch_edge)(float *restrict dst, const float *restrict xc, int h, int w, int k,
		int iy0, int ix0) {
	for (int ky = 0; ky < k; ky++) {
		int iy = iy0 + ky;
		for (int kx = 0; kx < k; kx++) {
			int ix = ix0 + kx;
			dst[ky * k + kx] = (iy < 0 || iy >= h || ix < 0 || ix >= w) ? 0 : xc[(long)iy * w + ix];
		}
	}
}

// im2row lays out the k×k patches of x (c×h×w) as rows of rows: row
// oy·ow + ox holds the patch under output (oy, ox), channel after channel,
// each k×k row by row; padding reads as 0: im2rowGo's values. Patches inside
// the plane, nearly all, take a loop of plain moves (four 4-value moves for
// k = 4); the few at the border take patch_edge.
static TARGET void KERNEL(im2row)(const float *restrict x, int c, int h, int w, int k, int s, int p,
		int oh, int ow, float *restrict rows) {
	long kk = (long)k * k, ckk = c * kk, plane = (long)h * w;
	int lo, hi;
	KERNEL(inner_range)(k, s, p, w, ow, &lo, &hi);
	for (int oy = 0; oy < oh; oy++) {
		int iy0 = oy * s - p, inside = iy0 >= 0 && iy0 + k <= h;
		int a = inside ? lo : ow, b = inside ? hi : ow;
		for (int ch = 0; ch < c; ch++) {
			const float *xc = x + ch * plane;
			float *d = rows + (long)oy * ow * ckk + ch * kk;
			for (int ox = 0; ox < a; ox++) KERNEL(patch_edge)(d + ox * ckk, xc, h, w, k, iy0, ox * s - p);
			if (k == 4) {
				for (int ox = a; ox < b; ox++) {
					const float *src = xc + (long)iy0 * w + (ox * s - p);
					float *dst = d + ox * ckk;
					memcpy(dst, src, 4 * sizeof(float));
					memcpy(dst + 4, src + w, 4 * sizeof(float));
					memcpy(dst + 8, src + 2 * w, 4 * sizeof(float));
					memcpy(dst + 12, src + 3 * w, 4 * sizeof(float));
				}
			} else {
				for (int ox = a; ox < b; ox++) {
					const float *src = xc + (long)iy0 * w + (ox * s - p);
					float *dst = d + ox * ckk;
					for (int ky = 0; ky < k; ky++)
						for (int kx = 0; kx < k; kx++) dst[ky * k + kx] = src[ky * w + kx];
				}
			}
			for (int ox = b; ox < ow; ox++) KERNEL(patch_edge)(d + ox * ckk, xc, h, w, k, iy0, ox * s - p);
		}
	}
}

// patch_add_edge adds one channel's k×k patch onto the plane at (iy0, ix0),
// skipping what falls outside it.
static inline TARGET void KERNEL(patch_add_edge)(const float *restrict src, float *restrict xc, int h, int w, int k,
		int iy0, int ix0) {
	for (int ky = 0; ky < k; ky++) {
		int iy = iy0 + ky;
		if (iy < 0 || iy >= h) continue;
		for (int kx = 0; kx < k; kx++) {
			int ix = ix0 + kx;
			if (ix >= 0 && ix < w) xc[(long)iy * w + ix] += src[ky * k + kx];
		}
	}
}

// row2im is im2row's adjoint: it adds every entry of rows onto the position
// of x it was read from, skipping the padding. Each value of x receives its
// terms in row2imGo's order (output position, then ky, kx), so the sums are
// the same bit for bit.
static TARGET void KERNEL(row2im)(const float *restrict rows, int c, int h, int w, int k, int s, int p,
		int oh, int ow, float *restrict x) {
	long kk = (long)k * k, ckk = c * kk, plane = (long)h * w;
	int lo, hi;
	KERNEL(inner_range)(k, s, p, w, ow, &lo, &hi);
	for (int oy = 0; oy < oh; oy++) {
		int iy0 = oy * s - p, inside = iy0 >= 0 && iy0 + k <= h;
		int a = inside ? lo : ow, b = inside ? hi : ow;
		for (int ch = 0; ch < c; ch++) {
			float *xc = x + ch * plane;
			const float *d = rows + (long)oy * ow * ckk + ch * kk;
			for (int ox = 0; ox < a; ox++) KERNEL(patch_add_edge)(d + ox * ckk, xc, h, w, k, iy0, ox * s - p);
			if (k == 4 && s == 2 && a < b) {
				// Neighbouring patches overlap by two columns. Along each
				// patch row, the two overlapped sums stay in registers
				// (c0, c1) until the next patch has added its part, so no
				// load waits on the store just before it. Each value still
				// gets its terms in order of ox.
				for (int ky = 0; ky < 4; ky++) {
					float *row = xc + (long)(iy0 + ky) * w + (a * 2 - p);
					float c0 = row[0], c1 = row[1];
					for (int ox = a; ox < b; ox++, row += 2) {
						const float *src = d + ox * ckk + ky * 4;
						float t2 = row[2] + src[2], t3 = row[3] + src[3];
						row[0] = c0 + src[0];
						row[1] = c1 + src[1];
						c0 = t2;
						c1 = t3;
					}
					row[0] = c0;
					row[1] = c1;
				}
			} else if (k == 4) {
				for (int ox = a; ox < b; ox++) {
					float *dst = xc + (long)iy0 * w + (ox * s - p);
					const float *src = d + ox * ckk;
					for (int ky = 0; ky < 4; ky++) {
						v4f u, v;
						memcpy(&u, dst + ky * w, sizeof u);
						memcpy(&v, src + ky * 4, sizeof v);
						u += v;
						memcpy(dst + ky * w, &u, sizeof u);
					}
				}
			} else {
				for (int ox = a; ox < b; ox++) {
					float *dst = xc + (long)iy0 * w + (ox * s - p);
					const float *src = d + ox * ckk;
					for (int ky = 0; ky < k; ky++)
						for (int kx = 0; kx < k; kx++) dst[ky * w + kx] += src[ky * k + kx];
				}
			}
			for (int ox = b; ox < ow; ox++) KERNEL(patch_add_edge)(d + ox * ckk, xc, h, w, k, iy0, ox * s - p);
		}
	}
}

// relu is y = x where x > 0, or, given g, ReLU's input gradient: g where
// x > 0; elsewhere (NaN included) 0.
static TARGET void KERNEL(relu)(float *y, const float *x, const float *g, long n) {
	if (g == 0) {
		for (long i = 0; i < n; i++) y[i] = x[i] > 0 ? x[i] : 0;
		return;
	}
	for (long i = 0; i < n; i++) y[i] = x[i] > 0 ? g[i] : 0;
}

// bias_relu adds bias[ch] (unless bias is null) to the n values of each of
// the c planes of y, then, with relu set, sets those not above 0 to 0.
static TARGET void KERNEL(bias_relu)(float *y, const float *bias, long c, long n, int relu) {
	for (long ch = 0; ch < c; ch++) {
		float *plane = y + ch * n;
		if (bias != 0) {
			float b = bias[ch];
			for (long i = 0; i < n; i++) plane[i] += b;
		}
		if (relu) {
			for (long i = 0; i < n; i++) plane[i] = plane[i] > 0 ? plane[i] : 0;
		}
	}
}

// col_sums adds the rows of x (rows×n) into y, row after row: the order of
// denseops.go's colSums, so the bits are the Go code's.
static TARGET void KERNEL(col_sums)(float *restrict y, const float *restrict x, long rows, long n) {
	for (long r = 0; r < rows; r++) {
		const float *xr = x + r * n;
		for (long j = 0; j < n; j++) y[j] += xr[j];
	}
}

// channel_sums adds, for each of the images and each channel c0 ≤ c < c1 of
// x (images×C×n), the sum of the channel's n values into y[c]: the order of
// convops.go's sum16 (sixteen lanes in two vectors of eight, then pairwise),
// so the bits are the Go code's in every copy.
static TARGET void KERNEL(channel_sums)(float *restrict y, const float *restrict x, long images, long C, long c0,
		long c1, long n) {
	for (long i = 0; i < images; i++)
		for (long c = c0; c < c1; c++) {
			const float *p = x + (i * C + c) * n;
			v8f lo = {0}, hi = {0};
			long j = 0;
			for (; j + 16 <= n; j += 16) {
				lo += *(const v8f *)(p + j);
				hi += *(const v8f *)(p + j + 8);
			}
			float lane[16];
			memcpy(lane, &lo, sizeof lo);
			memcpy(lane + 8, &hi, sizeof hi);
			for (; j < n; j++) lane[j % 16] += p[j];
			for (int w = 8; w >= 1; w /= 2)
				for (int k = 0; k < w; k++) lane[k] += lane[k + w];
			y[c] += lane[0];
		}
}

// row_bias adds b to each of the rows of y (rows×n).
static TARGET void KERNEL(row_bias)(float *restrict y, const float *restrict b, long rows, long n) {
	for (long r = 0; r < rows; r++) {
		float *yr = y + r * n;
		for (long j = 0; j < n; j++) yr[j] += b[j];
	}
}

// adam updates one parameter and its moments in one pass, reading its
// gradient only; the float32 arithmetic of numeric.go's AdamUpdate.
static TARGET void KERNEL(adam)(float *w, const float *g, float *m, float *v, long n, float b1, float b2,
		float step, float inv2, float eps, float scale) {
	long j = 0;
#ifdef KERNEL_AVX2
	// The loop below, by hand: sqrtf's errno keeps the compiler from
	// vectorising it, and cgo cannot be given -fno-math-errno.
	__m256 vb1 = _mm256_set1_ps(b1), vb2 = _mm256_set1_ps(b2), vc1 = _mm256_set1_ps(1 - b1),
	       vc2 = _mm256_set1_ps(1 - b2), vstep = _mm256_set1_ps(step), vinv2 = _mm256_set1_ps(inv2),
	       veps = _mm256_set1_ps(eps), vscale = _mm256_set1_ps(scale);
	for (; j + 8 <= n; j += 8) {
		__m256 grad = _mm256_mul_ps(vscale, _mm256_loadu_ps(g + j));
		__m256 mj = _mm256_add_ps(_mm256_mul_ps(vb1, _mm256_loadu_ps(m + j)), _mm256_mul_ps(vc1, grad));
		__m256 vj = _mm256_add_ps(_mm256_mul_ps(vb2, _mm256_loadu_ps(v + j)),
				_mm256_mul_ps(_mm256_mul_ps(vc2, grad), grad));
		_mm256_storeu_ps(m + j, mj);
		_mm256_storeu_ps(v + j, vj);
		__m256 den = _mm256_add_ps(_mm256_sqrt_ps(_mm256_mul_ps(vj, vinv2)), veps);
		__m256 upd = _mm256_div_ps(_mm256_mul_ps(vstep, mj), den);
		_mm256_storeu_ps(w + j, _mm256_sub_ps(_mm256_loadu_ps(w + j), upd));
	}
#endif
	for (; j < n; j++) {
		float grad = scale * g[j];
		float mj = b1 * m[j] + (1 - b1) * grad;
		float vj = b2 * v[j] + (1 - b2) * grad * grad;
		m[j] = mj;
		v[j] = vj;
		w[j] -= step * mj / (sqrtf(vj * inv2) + eps);
	}
}

// exp_neg is eˣ for x ≤ 0 in float32 (Cephes' expf polynomial, within 2 ulp);
// below −87 it returns e⁻⁸⁷ rather than a denormal or 0.
static inline TARGET float KERNEL(exp_neg)(float x) {
	x = x < -87.0f ? -87.0f : x;
	float n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f; // round(x·log₂e)
	float r = (x - n * 0.693359375f) + n * 2.12194440e-4f;
	float p = 1.9875691500e-4f;
	p = p * r + 1.3981999507e-3f;
	p = p * r + 8.3334519073e-3f;
	p = p * r + 4.1665795894e-2f;
	p = p * r + 1.6666665459e-1f;
	p = p * r + 5.0000001201e-1f;
	p = p * r * r + r + 1.0f;
	union { int i; float f; } scale = {((int)n + 127) << 23};
	return p * scale.f;
}

// log1p_unit is log(1 + e) for e in [0, 1]: 2·atanh(t), t = e/(2 + e) ≤ 1/3,
// from its series to t¹⁵ (within 1e-8 relative).
static inline TARGET float KERNEL(log1p_unit)(float e) {
	float t = e / (2.0f + e), t2 = t * t;
	float q = 1.0f / 15;
	q = q * t2 + 1.0f / 13;
	q = q * t2 + 1.0f / 11;
	q = q * t2 + 1.0f / 9;
	q = q * t2 + 1.0f / 7;
	q = q * t2 + 1.0f / 5;
	q = q * t2 + 1.0f / 3;
	q = q * t2 + 1.0f;
	return 2.0f * t * q;
}

// bernoulli_loglik is, for each of the rows of x and logits l (d values
// each), Σ x·l − softplus(l) with softplus(l) = max(l, 0) + log(1 + e^−|l|):
// the terms in float32, their sum in float64.
static TARGET void KERNEL(bernoulli_loglik)(float *y, const float *x, const float *l, long rows, long d) {
	float term[256];
	for (long b = 0; b < rows; b++) {
		const float *xb = x + b * d, *lb = l + b * d;
		double sum = 0;
		for (long i0 = 0; i0 < d; i0 += 256) {
			long m = d - i0 < 256 ? d - i0 : 256;
			for (long i = 0; i < m; i++) {
				float v = lb[i0 + i], a = v < 0 ? -v : v;
				float sp = (v > 0 ? v : 0) + KERNEL(log1p_unit)(KERNEL(exp_neg)(-a));
				term[i] = xb[i0 + i] * v - sp;
			}
			for (long i = 0; i < m; i++) sum += term[i];
		}
		y[b] = (float)sum;
	}
}

// bernoulli_grad is the log-likelihood's gradient in the logits, (x − σ(l))·g
// with g one value per row.
static TARGET void KERNEL(bernoulli_grad)(float *y, const float *x, const float *l, const float *g, long rows, long d) {
	for (long b = 0; b < rows; b++) {
		float gb = g[b];
		const float *xb = x + b * d, *lb = l + b * d;
		float *yb = y + b * d;
		for (long i = 0; i < d; i++) {
			float v = lb[i], e = KERNEL(exp_neg)(v < 0 ? v : -v);
			float sig = (v >= 0 ? 1.0f : e) / (1.0f + e);
			yb[i] = (xb[i] - sig) * gb;
		}
	}
}

// sum_squares is Σ p[i]² in float64, in eight interleaved partial sums (lane
// j takes i ≡ j mod 8 up to the last full eight) added in lane order, then
// the rest in order: the same sum, bit for bit, in every copy.
static TARGET double KERNEL(sum_squares)(const float *p, long n) {
	double lane[8] = {0};
	long i = 0;
#ifdef KERNEL_AVX2
	__m256d a0 = _mm256_setzero_pd(), a1 = _mm256_setzero_pd();
	for (; i + 8 <= n; i += 8) {
		__m256 v = _mm256_loadu_ps(p + i);
		__m256d lo = _mm256_cvtps_pd(_mm256_castps256_ps128(v)), hi = _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1));
		a0 = _mm256_add_pd(a0, _mm256_mul_pd(lo, lo));
		a1 = _mm256_add_pd(a1, _mm256_mul_pd(hi, hi));
	}
	_mm256_storeu_pd(lane, a0);
	_mm256_storeu_pd(lane + 4, a1);
#else
	for (; i + 8 <= n; i += 8) {
		for (int j = 0; j < 8; j++) lane[j] += (double)p[i + j] * (double)p[i + j];
	}
#endif
	double sum = 0;
	for (int j = 0; j < 8; j++) sum += lane[j];
	for (; i < n; i++) sum += (double)p[i] * (double)p[i];
	return sum;
}

// ---- Winograd F(2×2, 2×2) transforms of stride-2 4×4 convolutions ----
// The same operations in the same order as winograd.go's Go references.

static TARGET void KERNEL(wino_weights)(const float *restrict w, int B, int A, float *restrict U, long xs) {
	long K = 4L * A;
	for (int b = 0; b < B; b++)
		for (int a = 0; a < A; a++) {
			const float *wk = w + ((long)b * A + a) * 16;
			for (int p = 0; p < 2; p++)
				for (int q = 0; q < 2; q++) {
					float g00 = wk[p * 4 + q], g01 = wk[p * 4 + 2 + q], g10 = wk[(2 + p) * 4 + q],
					      g11 = wk[(2 + p) * 4 + 2 + q];
					float r[3][2] = {{g00, g01}, {g00 + g10, g01 + g11}, {g10, g11}};
					float *dst = U + b * K + 4 * a + 2 * p + q;
					for (int i = 0; i < 3; i++) {
						dst[(3 * i + 0) * xs] = r[i][0];
						dst[(3 * i + 1) * xs] = r[i][0] + r[i][1];
						dst[(3 * i + 2) * xs] = r[i][1];
					}
				}
		}
}

static TARGET void KERNEL(wino_weights_adj)(const float *restrict dU, long xs, int B, int A, float *restrict dw) {
	long K = 4L * A;
	for (int b = 0; b < B; b++)
		for (int a = 0; a < A; a++) {
			float *wk = dw + ((long)b * A + a) * 16;
			for (int p = 0; p < 2; p++)
				for (int q = 0; q < 2; q++) {
					const float *src = dU + b * K + 4 * a + 2 * p + q;
					float u[3][3], e[2][3];
					for (int i = 0; i < 3; i++)
						for (int j = 0; j < 3; j++) u[i][j] = src[(3 * i + j) * xs];
					for (int j = 0; j < 3; j++) {
						e[0][j] = u[0][j] + u[1][j];
						e[1][j] = u[1][j] + u[2][j];
					}
					for (int al = 0; al < 2; al++) {
						wk[(2 * al + p) * 4 + q] = e[al][0] + e[al][1];
						wk[(2 * al + p) * 4 + 2 + q] = e[al][1] + e[al][2];
					}
				}
		}
}

// The tile transforms run with a row of tiles innermost, where the compiler
// vectorises them. The input planes are first split by column mod 4 into
// split[c][r][u] = padded plane (r, 4u + c), (tw + 1) values a row: a tile's
// values at a given row and phase are then neighbours across the tiles.

// wino_split writes one padded plane (zero border of 1) of x (H×W), split by
// column mod 4, into sp: 4 planes of (H+2) rows of tw+1 values.
static inline TARGET void KERNEL(wino_split)(const float *restrict x, int H, int W, float *restrict sp) {
	int tw = W / 4, n = tw + 1;
	long cs = (long)(H + 2) * n;
	memset(sp, 0, sizeof(float) * 4 * cs);
	for (int r = 0; r < H; r++) {
		const float *xr = x + (long)r * W;
		float *d = sp + (long)(r + 1) * n;
		// padded column pc = 4u + c holds x's column pc − 1.
		for (int u = 0; u < tw; u++) {
			d[u + 1] = xr[4 * u + 3];           // c = 0, pc = 4u + 4
			d[cs + u] = xr[4 * u];              // c = 1
			d[2 * cs + u] = xr[4 * u + 1];      // c = 2
			d[3 * cs + u] = xr[4 * u + 2];      // c = 3
		}
		d[0] = 0;
	}
}

static TARGET void KERNEL(wino_in)(const float *restrict x, int A, int H, int W, float *restrict sp,
		float *restrict V, long ld, long xs) {
	int th = H / 4, tw = W / 4, n = tw + 1;
	long cs = (long)(H + 2) * n;
	for (int a = 0; a < A; a++) {
		KERNEL(wino_split)(x + (long)a * H * W, H, W, sp);
		for (int ty = 0; ty < th; ty++)
			for (int p = 0; p < 2; p++)
				for (int q = 0; q < 2; q++) {
					const float *r0 = sp + q * cs + (long)(4 * ty + p) * n, *r1 = r0 + 2 * n, *r2 = r0 + 4 * n;
					const float *s0 = r0 + 2 * cs, *s1 = r1 + 2 * cs, *s2 = r2 + 2 * cs;
					float *o = V + (4L * a + 2 * p + q) * ld + (long)ty * tw;
					float *o0 = o, *o1 = o + xs, *o2 = o + 2 * xs, *o3 = o + 3 * xs, *o4 = o + 4 * xs,
					      *o5 = o + 5 * xs, *o6 = o + 6 * xs, *o7 = o + 7 * xs, *o8 = o + 8 * xs;
#pragma GCC ivdep
					for (int tx = 0; tx < tw; tx++) {
						float d00 = r0[tx], d01 = s0[tx], d02 = r0[tx + 1];
						float d10 = r1[tx], d11 = s1[tx], d12 = r1[tx + 1];
						float d20 = r2[tx], d21 = s2[tx], d22 = r2[tx + 1];
						float e00 = d00 - d10, e01 = d01 - d11, e02 = d02 - d12;
						float e10 = d10, e11 = d11, e12 = d12;
						float e20 = d20 - d10, e21 = d21 - d11, e22 = d22 - d12;
						o0[tx] = e00 - e01;
						o1[tx] = e01;
						o2[tx] = e02 - e01;
						o3[tx] = e10 - e11;
						o4[tx] = e11;
						o5[tx] = e12 - e11;
						o6[tx] = e20 - e21;
						o7[tx] = e21;
						o8[tx] = e22 - e21;
					}
				}
	}
}

// wino_in_adj adds, for each row of tiles and phase, first every tile's
// first two columns, then their third (the next tile's first): the order
// winoInAdjGo adds in.
static TARGET void KERNEL(wino_in_adj)(const float *restrict dV, long ld, long xs, int A, int H, int W,
		float *restrict sp, float *restrict x) {
	int th = H / 4, tw = W / 4, n = tw + 1;
	long cs = (long)(H + 2) * n;
	float *t2 = sp + 4 * cs; // the third columns, 3 rows of tw
	for (int a = 0; a < A; a++) {
		memset(sp, 0, sizeof(float) * 4 * cs);
		for (int ty = 0; ty < th; ty++)
			for (int p = 0; p < 2; p++)
				for (int q = 0; q < 2; q++) {
					float *r0 = sp + q * cs + (long)(4 * ty + p) * n, *r1 = r0 + 2 * n, *r2 = r0 + 4 * n;
					float *s0 = r0 + 2 * cs, *s1 = r1 + 2 * cs, *s2 = r2 + 2 * cs;
					float *u0 = t2, *u1 = t2 + tw, *u2 = t2 + 2 * tw;
					const float *v = dV + (4L * a + 2 * p + q) * ld + (long)ty * tw;
					const float *v0 = v, *v1 = v + xs, *v2 = v + 2 * xs, *v3 = v + 3 * xs, *v4 = v + 4 * xs,
						    *v5 = v + 5 * xs, *v6 = v + 6 * xs, *v7 = v + 7 * xs, *v8 = v + 8 * xs;
#pragma GCC ivdep
					for (int tx = 0; tx < tw; tx++) {
						float e00 = v0[tx], e01 = v1[tx], e02 = v2[tx];
						float e10 = v3[tx] - v0[tx] - v6[tx], e11 = v4[tx] - v1[tx] - v7[tx],
						      e12 = v5[tx] - v2[tx] - v8[tx];
						float e20 = v6[tx], e21 = v7[tx], e22 = v8[tx];
						r0[tx] += e00;
						s0[tx] += e01 - e00 - e02;
						u0[tx] = e02;
						r1[tx] += e10;
						s1[tx] += e11 - e10 - e12;
						u1[tx] = e12;
						r2[tx] += e20;
						s2[tx] += e21 - e20 - e22;
						u2[tx] = e22;
					}
#pragma GCC ivdep
					for (int tx = 0; tx < tw; tx++) {
						r0[tx + 1] += u0[tx];
						r1[tx + 1] += u1[tx];
						r2[tx + 1] += u2[tx];
					}
				}
		for (int r = 0; r < H; r++) {
			float *xr = x + ((long)a * H + r) * W;
			const float *d = sp + (long)(r + 1) * n;
			for (int u = 0; u < tw; u++) {
				xr[4 * u] = d[cs + u];
				xr[4 * u + 1] = d[2 * cs + u];
				xr[4 * u + 2] = d[3 * cs + u];
				xr[4 * u + 3] = d[u + 1];
			}
		}
	}
}

static TARGET void KERNEL(wino_out)(const float *restrict M, long ld, long xs, int B, int h, int w,
		float *restrict y) {
	int th = h / 2, tw = w / 2;
	for (int b = 0; b < B; b++)
		for (int ty = 0; ty < th; ty++) {
			const float *m = M + b * ld + (long)ty * tw;
			const float *m0 = m, *m1 = m + xs, *m2 = m + 2 * xs, *m3 = m + 3 * xs, *m4 = m + 4 * xs,
				    *m5 = m + 5 * xs, *m6 = m + 6 * xs, *m7 = m + 7 * xs, *m8 = m + 8 * xs;
			float *y0 = y + ((long)b * h + 2 * ty) * w, *y1 = y0 + w;
#pragma GCC ivdep
			for (int tx = 0; tx < tw; tx++) {
				float f00 = m0[tx] + m3[tx], f01 = m1[tx] + m4[tx], f02 = m2[tx] + m5[tx];
				float f10 = m3[tx] + m6[tx], f11 = m4[tx] + m7[tx], f12 = m5[tx] + m8[tx];
				y0[2 * tx] = f00 + f01;
				y0[2 * tx + 1] = f01 + f02;
				y1[2 * tx] = f10 + f11;
				y1[2 * tx + 1] = f11 + f12;
			}
		}
}

static TARGET void KERNEL(wino_out_adj)(const float *restrict gy, int B, int h, int w, float *restrict dM, long ld,
		long xs) {
	int th = h / 2, tw = w / 2;
	for (int b = 0; b < B; b++)
		for (int ty = 0; ty < th; ty++) {
			const float *g0 = gy + ((long)b * h + 2 * ty) * w, *g1 = g0 + w;
			float *o = dM + b * ld + (long)ty * tw;
			float *o0 = o, *o1 = o + xs, *o2 = o + 2 * xs, *o3 = o + 3 * xs, *o4 = o + 4 * xs, *o5 = o + 5 * xs,
			      *o6 = o + 6 * xs, *o7 = o + 7 * xs, *o8 = o + 8 * xs;
#pragma GCC ivdep
			for (int tx = 0; tx < tw; tx++) {
				float a0 = g0[2 * tx], a1 = g0[2 * tx + 1], b0 = g1[2 * tx], b1 = g1[2 * tx + 1];
				float c0 = a0 + b0, c1 = a1 + b1;
				o0[tx] = a0;
				o1[tx] = a0 + a1;
				o2[tx] = a1;
				o3[tx] = c0;
				o4[tx] = c0 + c1;
				o5[tx] = c1;
				o6[tx] = b0;
				o7[tx] = b0 + b1;
				o8[tx] = b1;
			}
		}
}

// ---- Winograd F(4×4, 2×2) transforms, across the images of a block ----
// The same operations in the same order as winograd4.go's Go references,
// with the images (lanes, m of them) innermost, where the compiler
// vectorises them.

#define W4_BT5(d0, d1, d2, d3, d4, v0, v1, v2, v3, v4)                                                          \
	do {                                                                                                       \
		__typeof__((d0) + (d1)) s_ = (d0) - (d2), u_ = (d1) - (d3);                                                          \
		v0 = (s_ + s_) + ((d3) - (d1));                                                                    \
		v1 = ((d1) + (d1)) + ((d2) - (d3));                                                                \
		v2 = (((d2) + (d2)) + (d2)) - (((d1) + (d1)) + (d3));                                              \
		v3 = (d3) - (d1);                                                                                  \
		v4 = (u_ + u_) + ((d4) - (d2));                                                                    \
	} while (0)

#define W4_B5(v0, v1, v2, v3, v4, d0, d1, d2, d3, d4)                                                           \
	do {                                                                                                       \
		__typeof__((v0) + (v1)) t_ = ((v1) - (v2)) + (v4), s_ = (v0) + (v3);                                                 \
		d0 = (v0) + (v0);                                                                                  \
		d1 = (t_ + t_) - s_;                                                                               \
		d2 = ((((v2) + (v2)) + (v2)) - ((v0) + (v0))) + ((v1) - (v4));                                     \
		d3 = (s_ - ((v1) + (v2))) - ((v4) + (v4));                                                         \
		d4 = (v4);                                                                                         \
	} while (0)

#define W4_AT5(m0, m1, m2, m3, m4, y0, y1, y2, y3)                                                              \
	do {                                                                                                       \
		__typeof__((m0) + (m1)) s_ = (m1) + (m2), d_ = (m1) - (m2), t2_ = (m3) + (m3);                                       \
		__typeof__(t2_) t4_ = t2_ + t2_, t8_ = t4_ + t4_;                                                            \
		y0 = ((m0) + s_) + (m3);                                                                           \
		y1 = d_ + t2_;                                                                                     \
		y2 = s_ + t4_;                                                                                     \
		y3 = (d_ + t8_) + (m4);                                                                            \
	} while (0)

#define W4_A5(g0, g1, g2, g3, e0, e1, e2, e3, e4)                                                               \
	do {                                                                                                       \
		__typeof__((g0) + (g1)) s_ = (g0) + (g2), t_ = (g1) + (g3), u2_ = (g2) + (g2), u8_ = ((g3) + (g3)) + ((g3) + (g3));  \
		e0 = (g0);                                                                                         \
		e1 = s_ + t_;                                                                                      \
		e2 = s_ - t_;                                                                                      \
		e3 = (((g0) + ((g1) + (g1))) + (u2_ + u2_)) + (u8_ + u8_);                                         \
		e4 = (g3);                                                                                         \
	} while (0)

#define W4_G5(g0, g1, r0, r1, r2, r3, r4)                                                                       \
	do {                                                                                                       \
		r0 = (g0) * 0.5f;                                                                                  \
		r1 = ((g0) + (g1)) * 0.5f;                                                                         \
		r2 = ((g0) - (g1)) * (1.0f / 6.0f);                                                                \
		r3 = (((g0) + (g1)) + (g1)) * (1.0f / 6.0f);                                                       \
		r4 = (g1);                                                                                         \
	} while (0)

#define W4_GT5(u0, u1, u2, u3, u4, g0, g1)                                                                      \
	do {                                                                                                       \
		float a_ = ((u0) + (u1)) * 0.5f, b_ = ((u2) + (u3)) * (1.0f / 6.0f), c_ = (u1) * 0.5f,             \
		      d_ = (((u3) + (u3)) - (u2)) * (1.0f / 6.0f);                                                 \
		g0 = a_ + b_;                                                                                      \
		g1 = (c_ + d_) + (u4);                                                                             \
	} while (0)

// The weights' transforms take 16 input channels (64 inner indices) at a
// time, their 2×2 phase kernels first laid out by kernel position (α, β) with
// the inner index innermost, where the compiler vectorises the transform.
static TARGET void KERNEL(wino4_weights)(const float *restrict w, int B, int A, float *restrict U, long xs) {
	long K = 4L * A;
	for (int b = 0; b < B; b++)
		for (int a0 = 0; a0 < A; a0 += 16) {
			int na = A - a0 < 16 ? A - a0 : 16, nk = 4 * na;
			float g[2][2][64];
			for (int a = 0; a < na; a++) {
				const float *wk = w + ((long)b * A + a0 + a) * 16;
				for (int al = 0; al < 2; al++)
					for (int be = 0; be < 2; be++)
						for (int p = 0; p < 2; p++)
							for (int q = 0; q < 2; q++)
								g[al][be][4 * a + 2 * p + q] = wk[(2 * al + p) * 4 + 2 * be + q];
			}
			float *dst = U + b * K + 4L * a0;
#pragma GCC ivdep
			for (int k = 0; k < nk; k++) {
				float r[5][2];
#pragma GCC unroll 2
				for (int be = 0; be < 2; be++)
					W4_G5(g[0][be][k], g[1][be][k], r[0][be], r[1][be], r[2][be], r[3][be], r[4][be]);
#pragma GCC unroll 5
				for (int i = 0; i < 5; i++) {
					float *o = dst + 5L * i * xs + k;
					W4_G5(r[i][0], r[i][1], o[0], o[xs], o[2 * xs], o[3 * xs], o[4 * xs]);
				}
			}
		}
}

static TARGET void KERNEL(wino4_weights_adj)(const float *restrict dU, long xs, int B, int A, float *restrict dw) {
	long K = 4L * A;
	for (int b = 0; b < B; b++)
		for (int a0 = 0; a0 < A; a0 += 16) {
			int na = A - a0 < 16 ? A - a0 : 16, nk = 4 * na;
			float g[2][2][64];
			const float *src = dU + b * K + 4L * a0;
#pragma GCC ivdep
			for (int k = 0; k < nk; k++) {
				float e[5][2];
#pragma GCC unroll 5
				for (int i = 0; i < 5; i++) {
					const float *u = src + 5L * i * xs + k;
					W4_GT5(u[0], u[xs], u[2 * xs], u[3 * xs], u[4 * xs], e[i][0], e[i][1]);
				}
#pragma GCC unroll 2
				for (int be = 0; be < 2; be++)
					W4_GT5(e[0][be], e[1][be], e[2][be], e[3][be], e[4][be], g[0][be][k], g[1][be][k]);
			}
			for (int a = 0; a < na; a++) {
				float *wk = dw + ((long)b * A + a0 + a) * 16;
				for (int al = 0; al < 2; al++)
					for (int be = 0; be < 2; be++)
						for (int p = 0; p < 2; p++)
							for (int q = 0; q < 2; q++)
								wk[(2 * al + p) * 4 + 2 * be + q] = g[al][be][4 * a + 2 * p + q];
			}
		}
}

#ifdef KERNEL_AVX2
// tr8 writes the 8×8 block at s (rows ss apart) transposed to d (rows ds
// apart).
static inline TARGET void tr8(const float *restrict s, long ss, float *restrict d, long ds) {
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
#endif

// lanes_in lays out m planes of rows×cols values (plane j at x + j·xi, rows
// cols apart) with the images innermost: l[(r·ld + c)·m + j]; 8×8 blocks
// transpose in registers where the sizes allow.
static TARGET void KERNEL(lanes_in)(const float *restrict x, long xi, int m, int rows, int cols,
		float *restrict l, long ld) {
	int j = 0;
#ifdef KERNEL_AVX2
	if (cols % 8 == 0)
		for (; j + 8 <= m; j += 8)
			for (int r = 0; r < rows; r++)
				for (int c = 0; c < cols; c += 8)
					tr8(x + (long)j * xi + (long)r * cols + c, xi, l + ((long)r * ld + c) * m + j, m);
#endif
	for (; j < m; j++)
		for (int r = 0; r < rows; r++)
			for (int c = 0; c < cols; c++) l[((long)r * ld + c) * m + j] = x[(long)j * xi + (long)r * cols + c];
}

// lanes_out is lanes_in's inverse.
static TARGET void KERNEL(lanes_out)(const float *restrict l, long ld, int m, int rows, int cols,
		float *restrict x, long xi) {
	int j = 0;
#ifdef KERNEL_AVX2
	if (cols % 8 == 0)
		for (; j + 8 <= m; j += 8)
			for (int r = 0; r < rows; r++)
				for (int c = 0; c < cols; c += 8)
					tr8(l + ((long)r * ld + c) * m + j, m, x + (long)j * xi + (long)r * cols + c, xi);
#endif
	for (; j < m; j++)
		for (int r = 0; r < rows; r++)
			for (int c = 0; c < cols; c++) x[(long)j * xi + (long)r * cols + c] = l[((long)r * ld + c) * m + j];
}

// A group of lanes: eight (v8f) or one (float), read and written through
// W4_LD and W4_ST (W4_ADD adds to memory).
#define W4_LD8(p) (*(const v8f *)(p))
#define W4_ST8(p, v) (*(v8f *)(p) = (v))
#define W4_ADD8(p, v) (*(v8f *)(p) += (v))
#define W4_LD1(p) (*(p))
#define W4_ST1(p, v) (*(p) = (v))
#define W4_ADD1(p, v) (*(p) += (v))

// W4_IN_GROUP transforms lanes j… of one tile and phase: s is the tile's
// first input, o its first output.
#define W4_IN_GROUP(T, LD, ST)                                                                                   \
	do {                                                                                                       \
		T e[5][5];                                                                                         \
		_Pragma("GCC unroll 5") for (int c = 0; c < 5; c++) {                                              \
			const float *sc = s + c * cs + j;                                                          \
			W4_BT5(LD(sc), LD(sc + rs), LD(sc + 2 * rs), LD(sc + 3 * rs), LD(sc + 4 * rs), e[0][c],    \
				e[1][c], e[2][c], e[3][c], e[4][c]);                                               \
		}                                                                                                  \
		_Pragma("GCC unroll 5") for (int i = 0; i < 5; i++) {                                              \
			float *oi = o + 5L * i * xs + j;                                                           \
			T v0, v1, v2, v3, v4;                                                                      \
			W4_BT5(e[i][0], e[i][1], e[i][2], e[i][3], e[i][4], v0, v1, v2, v3, v4);                   \
			ST(oi, v0);                                                                                \
			ST(oi + xs, v1);                                                                           \
			ST(oi + 2 * xs, v2);                                                                       \
			ST(oi + 3 * xs, v3);                                                                       \
			ST(oi + 4 * xs, v4);                                                                       \
		}                                                                                                  \
	} while (0)

#define W4_IN_ADJ_GROUP(T, LD, ADD)                                                                              \
	do {                                                                                                       \
		T e[5][5];                                                                                         \
		_Pragma("GCC unroll 5") for (int i = 0; i < 5; i++) {                                              \
			const float *vi = v + 5L * i * xs + j;                                                     \
			W4_B5(LD(vi), LD(vi + xs), LD(vi + 2 * xs), LD(vi + 3 * xs), LD(vi + 4 * xs), e[i][0],     \
				e[i][1], e[i][2], e[i][3], e[i][4]);                                               \
		}                                                                                                  \
		_Pragma("GCC unroll 5") for (int c = 0; c < 5; c++) {                                              \
			T d0, d1, d2, d3, d4;                                                                      \
			W4_B5(e[0][c], e[1][c], e[2][c], e[3][c], e[4][c], d0, d1, d2, d3, d4);                    \
			float *sc = s + c * cs + j;                                                                \
			ADD(sc, d0);                                                                               \
			ADD(sc + rs, d1);                                                                          \
			ADD(sc + 2 * rs, d2);                                                                      \
			ADD(sc + 3 * rs, d3);                                                                      \
			ADD(sc + 4 * rs, d4);                                                                      \
		}                                                                                                  \
	} while (0)

#define W4_OUT_GROUP(T, LD, ST)                                                                                  \
	do {                                                                                                       \
		T f[5][4];                                                                                         \
		_Pragma("GCC unroll 5") for (int i = 0; i < 5; i++) {                                              \
			const float *si = s + 5L * i * xs + j;                                                     \
			W4_AT5(LD(si), LD(si + xs), LD(si + 2 * xs), LD(si + 3 * xs), LD(si + 4 * xs), f[i][0],    \
				f[i][1], f[i][2], f[i][3]);                                                        \
		}                                                                                                  \
		_Pragma("GCC unroll 4") for (int c = 0; c < 4; c++) {                                              \
			float *oc = o + (long)c * m + j;                                                           \
			T y0, y1, y2, y3;                                                                          \
			W4_AT5(f[0][c], f[1][c], f[2][c], f[3][c], f[4][c], y0, y1, y2, y3);                       \
			ST(oc, y0);                                                                                \
			ST(oc + r1, y1);                                                                           \
			ST(oc + 2 * r1, y2);                                                                       \
			ST(oc + 3 * r1, y3);                                                                       \
		}                                                                                                  \
	} while (0)

#define W4_OUT_ADJ_GROUP(T, LD, ST)                                                                              \
	do {                                                                                                       \
		T e[4][5];                                                                                         \
		_Pragma("GCC unroll 4") for (int r = 0; r < 4; r++) {                                              \
			const float *sr = s + (long)r * r1 + j;                                                    \
			W4_A5(LD(sr), LD(sr + m), LD(sr + 2 * m), LD(sr + 3 * m), e[r][0], e[r][1], e[r][2],       \
				e[r][3], e[r][4]);                                                                 \
		}                                                                                                  \
		_Pragma("GCC unroll 5") for (int c = 0; c < 5; c++) {                                              \
			float *oc = o + (long)c * xs + j;                                                          \
			T v0, v1, v2, v3, v4;                                                                      \
			W4_A5(e[0][c], e[1][c], e[2][c], e[3][c], v0, v1, v2, v3, v4);                             \
			ST(oc, v0);                                                                                \
			ST(oc + 5 * xs, v1);                                                                       \
			ST(oc + 10 * xs, v2);                                                                      \
			ST(oc + 15 * xs, v3);                                                                      \
			ST(oc + 20 * xs, v4);                                                                      \
		}                                                                                                  \
	} while (0)

// w4_pad_border zeros the border of a padded plane of lanes: (H+2)×(W+2)
// positions of m lanes, the inside left to lanes_in.
static inline TARGET void KERNEL(w4_pad_border)(float *restrict l, int H, int W, int m) {
	long wp = W + 2;
	memset(l, 0, sizeof(float) * wp * m);
	for (int r = 1; r <= H; r++) {
		memset(l + r * wp * m, 0, sizeof(float) * m);
		memset(l + (r * wp + W + 1) * m, 0, sizeof(float) * m);
	}
	memset(l + (H + 1) * wp * m, 0, sizeof(float) * wp * m);
}

static TARGET void KERNEL(wino4_in)(const float *restrict x, long xi, int m, int a0, int a1, int H, int W,
		float *restrict l, float *restrict V, long ld, long xs) {
	int th = H / 8, tw = W / 8, wp = W + 2;
	long rs = 2L * wp * m, cs = 2L * m; // the steps between a tile's rows and columns
	for (int a = a0; a < a1; a++) {
		KERNEL(w4_pad_border)(l, H, W, m);
		KERNEL(lanes_in)(x + (long)a * H * W, xi, m, H, W, l + (long)(wp + 1) * m, wp);
		for (int ty = 0; ty < th; ty++)
			for (int tx = 0; tx < tw; tx++)
				for (int p = 0; p < 2; p++)
					for (int q = 0; q < 2; q++) {
						const float *s = l + ((long)(8 * ty + p) * wp + 8 * tx + q) * m;
						float *o = V + (4L * a + 2 * p + q) * ld + (long)(ty * tw + tx) * m;
						int j = 0;
						for (; j + 8 <= m; j += 8) W4_IN_GROUP(v8f, W4_LD8, W4_ST8);
						for (; j < m; j++) W4_IN_GROUP(float, W4_LD1, W4_ST1);
					}
	}
}

static TARGET void KERNEL(wino4_in_adj)(const float *restrict dV, long ld, long xs, int m, int a0, int a1, int H,
		int W, float *restrict l, float *restrict x, long xi) {
	int th = H / 8, tw = W / 8, wp = W + 2;
	long rs = 2L * wp * m, cs = 2L * m;
	for (int a = a0; a < a1; a++) {
		memset(l, 0, sizeof(float) * (size_t)(H + 2) * wp * m);
		for (int ty = 0; ty < th; ty++)
			for (int tx = 0; tx < tw; tx++)
				for (int p = 0; p < 2; p++)
					for (int q = 0; q < 2; q++) {
						float *s = l + ((long)(8 * ty + p) * wp + 8 * tx + q) * m;
						const float *v = dV + (4L * a + 2 * p + q) * ld + (long)(ty * tw + tx) * m;
						int j = 0;
						for (; j + 8 <= m; j += 8) W4_IN_ADJ_GROUP(v8f, W4_LD8, W4_ADD8);
						for (; j < m; j++) W4_IN_ADJ_GROUP(float, W4_LD1, W4_ADD1);
					}
		KERNEL(lanes_out)(l + (long)(wp + 1) * m, wp, m, H, W, x + (long)a * H * W, xi);
	}
}

static TARGET void KERNEL(wino4_out)(const float *restrict M, long ld, long xs, int m, int b0, int b1, int h, int w,
		float *restrict l, float *restrict y, long yi) {
	int th = h / 4, tw = w / 4;
	long r1 = (long)w * m;
	for (int b = b0; b < b1; b++) {
		for (int ty = 0; ty < th; ty++)
			for (int tx = 0; tx < tw; tx++) {
				const float *s = M + b * ld + (long)(ty * tw + tx) * m;
				float *o = l + (long)(4 * ty * w + 4 * tx) * m;
				int j = 0;
				for (; j + 8 <= m; j += 8) W4_OUT_GROUP(v8f, W4_LD8, W4_ST8);
				for (; j < m; j++) W4_OUT_GROUP(float, W4_LD1, W4_ST1);
			}
		KERNEL(lanes_out)(l, 0, m, 1, h * w, y + (long)b * h * w, yi);
	}
}

static TARGET void KERNEL(wino4_out_adj)(const float *restrict gy, long yi, int m, int b0, int b1, int h, int w,
		float *restrict l, float *restrict dM, long ld, long xs) {
	int th = h / 4, tw = w / 4;
	long r1 = (long)w * m;
	for (int b = b0; b < b1; b++) {
		KERNEL(lanes_in)(gy + (long)b * h * w, yi, m, 1, h * w, l, 0);
		for (int ty = 0; ty < th; ty++)
			for (int tx = 0; tx < tw; tx++) {
				const float *s = l + (long)(4 * ty * w + 4 * tx) * m;
				float *o = dM + b * ld + (long)(ty * tw + tx) * m;
				int j = 0;
				for (; j + 8 <= m; j += 8) W4_OUT_ADJ_GROUP(v8f, W4_LD8, W4_ST8);
				for (; j < m; j++) W4_OUT_ADJ_GROUP(float, W4_LD1, W4_ST1);
			}
	}
}

#undef W4_BT5
#undef W4_B5
#undef W4_AT5
#undef W4_A5
#undef W4_G5
#undef W4_GT5
#undef W4_LD8
#undef W4_ST8
#undef W4_ADD8
#undef W4_LD1
#undef W4_ST1
#undef W4_ADD1
#undef W4_IN_GROUP
#undef W4_IN_ADJ_GROUP
#undef W4_OUT_GROUP
#undef W4_OUT_ADJ_GROUP
