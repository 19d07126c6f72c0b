package ops

import (
	"fmt"
	"math"
)

// float is the element type of the kernels: models run in float32 (C
// kernels) or float64 (the gradient tests).
type float interface{ ~float32 | ~float64 }

// ImageShape is the shape of one image: what layout ops reorder.
type ImageShape struct{ Height, Width, Channels int }

// Dim is the number of values in one image.
func (s ImageShape) Dim() int { return s.Height * s.Width * s.Channels }

// dataHolder is satisfied by tensors and by Gorgonia's scalar values.
type dataHolder interface{ Data() interface{} }

// Values64 returns the values of a float32 or float64 tensor or scalar as float64.
func Values64(t dataHolder) []float64 {
	switch d := t.Data().(type) {
	case []float64:
		return d
	case []float32:
		out := make([]float64, len(d))
		for i, x := range d {
			out[i] = float64(x)
		}
		return out
	case float64:
		return []float64{d}
	case float32:
		return []float64{float64(d)}
	}
	panic(fmt.Sprintf("ops: tensor of unexpected type %T", t.Data()))
}

// AdamConsts are the constants of one Adam step: β1, β2, the bias-corrected
// step lr/(1−β1^t), 1/(1−β2^t), ε, and the scale applied to the gradient.
type AdamConsts struct{ B1, B2, Step, Inv2, Eps, Scale float64 }

// AdamUpdate updates one parameter and its moments in one pass. It only
// reads the gradient g, which is the output of a node of the training graph
// (possibly a value other nodes share). float32 runs in C (Adam32), with the
// same arithmetic.
func AdamUpdate[T float](w, g, m, v []T, c AdamConsts) {
	b1, b2, step, inv2, eps, scale := T(c.B1), T(c.B2), T(c.Step), T(c.Inv2), T(c.Eps), T(c.Scale)
	g, m, v = g[:len(w)], m[:len(w)], v[:len(w)]
	for j := range w {
		grad := scale * g[j]
		mj := b1*m[j] + (1-b1)*grad
		vj := b2*v[j] + (1-b2)*grad*grad
		m[j], v[j] = mj, vj
		w[j] -= step * mj / (T(math.Sqrt(float64(vj*inv2))) + eps)
	}
}

// sumSquaresGo is Σ v² in float64: eight interleaved partial sums (lane j
// takes v[i] with i ≡ j mod 8, up to the last full eight) added in lane order,
// then the rest; sumSquares32, the C kernel, sums in the same order.
func sumSquaresGo(v []float32) float64 {
	var lane [8]float64
	i := 0
	for ; i+8 <= len(v); i += 8 {
		for j, x := range v[i : i+8] {
			lane[j] += float64(x) * float64(x)
		}
	}
	sum := 0.0
	for _, l := range lane {
		sum += l
	}
	for _, x := range v[i:] {
		sum += float64(x) * float64(x)
	}
	return sum
}
