//go:build !cgo

package ops

// Without cgo the float32 kernels are the Go ones.

func im2row32(x []float32, c, h, w int, g geom, oh, ow int, rows []float32) {
	im2rowGo(x, c, h, w, g, oh, ow, rows)
}

func row2im32(rows []float32, c, h, w int, g geom, oh, ow int, x []float32) {
	row2imGo(rows, c, h, w, g, oh, ow, x)
}

func relu32(y, x, g []float32) { relu(y, x, g) }

func biasReLU32(y, bias []float32, n int, relu bool) { biasReLUGo(y, bias, n, relu) }

func colSums32(n int, y, x []float32) { colSums(n, y, x) }

func channelRange32(y, x []float32, images, channels, c0, c1, n int) {
	channelRange(y, x, images, channels, c0, c1, n)
}

func rowBias32(y, b []float32) { rowBias(y, b) }

func Adam32(w, g, m, v []float32, c AdamConsts) { AdamUpdate(w, g, m, v, c) }

func bernoulliLogLik32(d int, y, x, l []float32) { bernoulliLogLik(d, y, x, l) }

func bernoulliGrad32(d int, y, x, l, g []float32) { bernoulliGrad(d, y, x, l, g) }

func SumSquares32(v []float32) float64 { return sumSquaresGo(v) }

func kernelCopies() []string { return []string{"go"} }

func useKernelCopy(string) string { return "go" }

func winoWeights32(w []float32, B, A int, U []float32, xs int) { winoWeightsGo(w, B, A, U, xs) }

func winoWeightsAdj32(dU []float32, xs, B, A int, dw []float32) { winoWeightsAdjGo(dU, xs, B, A, dw) }

func winoIn32(x []float32, A, H, W int, pad, V []float32, ld, xs int) {
	winoInGo(x, A, H, W, pad, V, ld, xs)
}

func winoInAdj32(dV []float32, ld, xs, A, H, W int, pad, x []float32) {
	winoInAdjGo(dV, ld, xs, A, H, W, pad, x)
}

func winoOut32(M []float32, ld, xs, B, h, w int, y []float32) { winoOutGo(M, ld, xs, B, h, w, y) }

func winoOutAdj32(gy []float32, B, h, w int, dM []float32, ld, xs int) {
	winoOutAdjGo(gy, B, h, w, dM, ld, xs)
}

func wino4Weights32(w []float32, B, A int, U []float32, xs int) { wino4WeightsGo(w, B, A, U, xs) }

func wino4WeightsAdj32(dU []float32, xs, B, A int, dw []float32) { wino4WeightsAdjGo(dU, xs, B, A, dw) }

func wino4In32(x []float32, xi, m, a0, a1, H, W int, l, V []float32, ld, xs int) {
	wino4InGo(x, xi, m, a0, a1, H, W, l, V, ld, xs)
}

func wino4InAdj32(dV []float32, ld, xs, m, a0, a1, H, W int, l, x []float32, xi int) {
	wino4InAdjGo(dV, ld, xs, m, a0, a1, H, W, l, x, xi)
}

func wino4Out32(M []float32, ld, xs, m, b0, b1, h, w int, l, y []float32, yi int) {
	wino4OutGo(M, ld, xs, m, b0, b1, h, w, l, y, yi)
}

func wino4OutAdj32(gy []float32, yi, m, b0, b1, h, w int, l, dM []float32, ld, xs int) {
	wino4OutAdjGo(gy, yi, m, b0, b1, h, w, l, dM, ld, xs)
}
