package ops

import (
	"fmt"
	"math"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// bernoulliOp is the Bernoulli log-likelihood of images x (B, D) under
// decoder logits l (B, D), per image: Σ_d x·l − softplus(l). It is one op,
// not Gorgonia's product, softplus, difference and sum, because on an MLP
// these elementwise passes cost more than the matrix products; its gradient
// with respect to the logits is (x − σ(l)) times the incoming gradient of
// each image (bernoulliGradOp). float32 runs in C (kernels_body.h), with exp
// and log1p polynomials accurate to float32's rounding and each image's sum in
// float64; float64 (numerical checks) uses the math package.
type bernoulliOp struct{ opBase }

func (op bernoulliOp) String() string          { return "vaeBernoulliLogLik" }
func (op bernoulliOp) DiffWRT(n int) []bool    { return []bool{false, true} }
func (op bernoulliOp) signature() (int, []int) { return 1, []int{2, 2} }
func (op bernoulliOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapesOf(in)
	if err != nil {
		return nil, err
	}
	if s[0].Dims() != 2 || !s[0].Eq(s[1]) {
		return nil, fmt.Errorf("%v: images %v, logits %v", op, s[0], s[1])
	}
	return tensor.Shape{s[0][0]}, nil
}

func (op bernoulliOp) Do(in ...G.Value) (G.Value, error) {
	s := in[0].Shape()
	return op.overwrite(op.String(), in, tensor.Shape{s[0]}, func(y any, src []any) {
		switch y := y.(type) {
		case []float32:
			bernoulliLogLik32(s[1], y, src[0].([]float32), src[1].([]float32))
		case []float64:
			bernoulliLogLik(s[1], y, src[0].([]float64), src[1].([]float64))
		}
	})
}

func bernoulliLogLik[T float](d int, y, x, l []T) {
	for b := range y {
		sum := 0.0
		xs, ls := x[b*d:(b+1)*d], l[b*d:(b+1)*d]
		for i, lv := range ls {
			sum += float64(xs[i])*float64(lv) - softplus64(float64(lv))
		}
		y[b] = T(sum)
	}
}

func (op bernoulliOp) SymDiff(in G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	dl, err := apply(bernoulliGradOp{}, true, in[0], in[1], grad)
	return G.Nodes{nil, dl}, err
}

// bernoulliGradOp is (x − σ(l)) ⊙ g, g broadcast along each image's row.
type bernoulliGradOp struct{ opBase }

func (op bernoulliGradOp) String() string          { return "vaeBernoulliLogLikGrad" }
func (op bernoulliGradOp) signature() (int, []int) { return 2, []int{2, 2, 1} }
func (op bernoulliGradOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapesOf(in)
	if err != nil {
		return nil, err
	}
	return s[0].Clone(), nil
}

func (op bernoulliGradOp) Do(in ...G.Value) (G.Value, error) {
	s := in[0].Shape()
	return op.overwrite(op.String(), in, s.Clone(), func(y any, src []any) {
		switch y := y.(type) {
		case []float32:
			bernoulliGrad32(s[1], y, src[0].([]float32), src[1].([]float32), src[2].([]float32))
		case []float64:
			bernoulliGrad(s[1], y, src[0].([]float64), src[1].([]float64), src[2].([]float64))
		}
	})
}

func bernoulliGrad[T float](d int, y, x, l, g []T) {
	for b, gb := range g {
		for i := b * d; i < (b+1)*d; i++ {
			y[i] = T((float64(x[i]) - sigmoid64(float64(l[i]))) * float64(gb))
		}
	}
}

// softplus64 is log(1 + eᵛ), computed stably; sigmoid64 is σ(v).
func softplus64(v float64) float64 { return math.Max(v, 0) + math.Log1p(math.Exp(-math.Abs(v))) }

func sigmoid64(v float64) float64 { return logistic(v, math.Exp(-math.Abs(v))) }

// logistic is σ(v) given e = e^−|v|.
func logistic(v, e float64) float64 {
	if v >= 0 {
		return 1 / (1 + e)
	}
	return e / (1 + e)
}
