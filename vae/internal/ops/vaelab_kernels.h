// Declarations of the float32 kernels in kernels.c (see kernels_body.h).

void vaelab_im2row(const float *x, int c, int h, int w, int k, int s, int p, int oh, int ow, float *rows);
void vaelab_row2im(const float *rows, int c, int h, int w, int k, int s, int p, int oh, int ow, float *x);
void vaelab_relu(float *y, const float *x, const float *g, long n);
void vaelab_bias_relu(float *y, const float *bias, long c, long n, int relu);
void vaelab_col_sums(float *y, const float *x, long rows, long n);
void vaelab_channel_sums(float *y, const float *x, long images, long c, long c0, long c1, long n);
void vaelab_row_bias(float *y, const float *b, long rows, long n);
void vaelab_adam(float *w, const float *g, float *m, float *v, long n, float b1, float b2, float step, float inv2,
		float eps, float scale);
void vaelab_bernoulli_loglik(float *y, const float *x, const float *l, long rows, long d);
void vaelab_bernoulli_grad(float *y, const float *x, const float *l, const float *g, long rows, long d);
double vaelab_sum_squares(const float *p, long n);
void vaelab_wino_weights(const float *w, int B, int A, float *U, long xs);
void vaelab_wino_weights_adj(const float *dU, long xs, int B, int A, float *dw);
void vaelab_wino_in(const float *x, int A, int H, int W, float *pad, float *V, long ld, long xs);
void vaelab_wino_in_adj(const float *dV, long ld, long xs, int A, int H, int W, float *pad, float *x);
void vaelab_wino_out(const float *M, long ld, long xs, int B, int h, int w, float *y);
void vaelab_wino_out_adj(const float *gy, int B, int h, int w, float *dM, long ld, long xs);

void vaelab_wino4_weights(const float *w, int B, int A, float *U, long xs);
void vaelab_wino4_weights_adj(const float *dU, long xs, int B, int A, float *dw);
void vaelab_wino4_in(const float *x, long xi, int m, int a0, int a1, int H, int W, float *l, float *V, long ld, long xs);
void vaelab_wino4_in_adj(const float *dV, long ld, long xs, int m, int a0, int a1, int H, int W, float *l, float *x,
		long xi);
void vaelab_wino4_out(const float *M, long ld, long xs, int m, int b0, int b1, int h, int w, float *l, float *y, long yi);
void vaelab_wino4_out_adj(const float *gy, long yi, int m, int b0, int b1, int h, int w, float *l, float *dM, long ld,
		long xs);

// vaelab_kernels_have_avx2 reports whether the AVX2 copies can run here;
// vaelab_kernels_use_avx2 runs them (on = 1, if they can) or the baseline ones
// (on = 0) from now on and returns which ran before.
int vaelab_kernels_have_avx2(void);
int vaelab_kernels_use_avx2(int on);
