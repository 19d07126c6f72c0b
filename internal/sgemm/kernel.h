// vaelab's float32 matrix product (kernel.c). Kernels: 0 baseline, 1 AVX2, 2 AVX-512 12×32,
// 3 AVX-512 8×48 (where AVX-512 runs, the one of 2 and 3 that pads a product least).

// vaelab_sgemm_best is the fastest kernel this CPU can run.
int vaelab_sgemm_best(void);

// vaelab_sgemm_tile gives a kernel's register tile: mr rows by nr columns of c.
void vaelab_sgemm_tile(int kernel, int *mr, int *nr);

// vaelab_sgemm_reads_b_in_place reports whether vaelab_sgemm_block, let,
// reads b in place for a block of m rows of c.
int vaelab_sgemm_reads_b_in_place(int kernel, int tb, int m, long ldb);

// vaelab_sgemm_block computes rows i0..i1 and columns j0..j1 of
// c = alpha·op(a)·op(b) + beta·c (row-major; op transposes when ta or tb is
// set); -1 when its packing memory could not be allocated. With in_place
// set, the AVX2 kernel may read an untransposed b where it is instead of
// packing it (for few rows of c; the bits are the same either way).
int vaelab_sgemm_block(int kernel, int ta, int tb, int i0, int i1, int j0, int j1, int k, float alpha,
		const float *a, long lda, const float *b, long ldb, float beta, float *c, long ldc, int in_place);
