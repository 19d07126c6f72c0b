package vae

import (
	"fmt"
	"hash"
	"math"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// bernoulliOp is the Bernoulli log-likelihood of images x (B, D) under
// decoder logits l (B, D), per image: Σ_d x·l − softplus(l). It is one op,
// not Gorgonia's product, softplus, difference and sum, because on an MLP
// these elementwise passes cost more than the matrix products; its gradient
// with respect to the logits is (x − σ(l)) times the incoming gradient of
// each image (bernoulliGradOp). The float32 path evaluates exp and log1p with
// the polynomials below, accurate to about 1e-11 relative, far inside
// float32's rounding (6e-8); float64 (numerical checks) uses the math package.
type bernoulliOp struct{ opBase }

func (op bernoulliOp) String() string        { return "vaeBernoulliLogLik" }
func (op bernoulliOp) Hashcode() uint32      { return hashOf(op) }
func (op bernoulliOp) WriteHash(h hash.Hash) { h.Write([]byte(op.String())) }
func (op bernoulliOp) DiffWRT(n int) []bool  { return []bool{false, true} }
func (op bernoulliOp) Arity() int            { return 2 }
func (op bernoulliOp) Type() hm.Type         { return fnType(1, 2, 2) }
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
	return doFloat(op.String(), in, tensor.Shape{s[0]}, func(y any, src []any) {
		switch y := y.(type) {
		case []float32:
			bernoulliLogLik(s[1], y, src[0].([]float32), src[1].([]float32), softplus32)
		case []float64:
			bernoulliLogLik(s[1], y, src[0].([]float64), src[1].([]float64), softplus64)
		}
	})
}

func bernoulliLogLik[T float](d int, y, x, l []T, softplus func(float64) float64) {
	for b := range y {
		sum := 0.0
		xs, ls := x[b*d:(b+1)*d], l[b*d:(b+1)*d]
		for i, lv := range ls {
			sum += float64(xs[i])*float64(lv) - softplus(float64(lv))
		}
		y[b] = T(sum)
	}
}

func (op bernoulliOp) SymDiff(in G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	dl, err := G.ApplyOp(bernoulliGradOp{}, in[0], in[1], grad)
	return G.Nodes{nil, dl}, err
}

// bernoulliGradOp is (x − σ(l)) ⊙ g, g broadcast along each image's row.
type bernoulliGradOp struct{ opBase }

func (op bernoulliGradOp) String() string        { return "vaeBernoulliLogLikGrad" }
func (op bernoulliGradOp) Hashcode() uint32      { return hashOf(op) }
func (op bernoulliGradOp) WriteHash(h hash.Hash) { h.Write([]byte(op.String())) }
func (op bernoulliGradOp) Arity() int            { return 3 }
func (op bernoulliGradOp) Type() hm.Type         { return fnType(2, 2, 2, 1) }
func (op bernoulliGradOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapesOf(in)
	if err != nil {
		return nil, err
	}
	return s[0].Clone(), nil
}

func (op bernoulliGradOp) Do(in ...G.Value) (G.Value, error) {
	s := in[0].Shape()
	return doFloat(op.String(), in, s.Clone(), func(y any, src []any) {
		switch y := y.(type) {
		case []float32:
			bernoulliGrad(s[1], y, typed[float32](src), sigmoid32)
		case []float64:
			bernoulliGrad(s[1], y, typed[float64](src), sigmoid64)
		}
	})
}

func bernoulliGrad[T float](d int, y []T, src [][]T, sigmoid func(float64) float64) {
	x, l, g := src[0], src[1], src[2]
	for b, gb := range g {
		for i := b * d; i < (b+1)*d; i++ {
			y[i] = T((float64(x[i]) - sigmoid(float64(l[i]))) * float64(gb))
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

// softplus32 and sigmoid32 are softplus64 and sigmoid64 with expNeg and
// log1pUnit in place of the math package: the same values to about 1e-11,
// several times faster.
func softplus32(v float64) float64 { return math.Max(v, 0) + log1pUnit(expNeg(-math.Abs(v))) }

func sigmoid32(v float64) float64 { return logistic(v, expNeg(-math.Abs(v))) }

// expNeg is eˣ for x ≤ 0: x = n·ln2 + r with |r| ≤ ln2/2, eʳ from its Taylor
// series to r⁹ (error below 1e-11 relative), times 2ⁿ built in the exponent
// bits. Below −708 it returns 0, as math.Exp nearly does.
func expNeg(x float64) float64 {
	if x < -708 {
		return 0
	}
	const ln2Hi, ln2Lo = 6.93147180369123816490e-01, 1.90821492927058770002e-10
	n := -float64(int64(0.5 - x*math.Log2E)) // round(x·log₂e), x ≤ 0
	r := (x - n*ln2Hi) - n*ln2Lo
	p := 1 + r*(1+r*(1.0/2+r*(1.0/6+r*(1.0/24+r*(1.0/120+r*(1.0/720+r*(1.0/5040+r*(1.0/40320+r*(1.0/362880)))))))))
	return p * math.Float64frombits(uint64(int64(n)+1023)<<52)
}

// log1pUnit is log(1 + e) for e in [0, 1]: 2·atanh(s) + k·ln2 with
// s = e/(2 + e) (k = 0) when 1 + e ≤ √2, else s = (e − 1)/(e + 3) (k = 1), so
// |s| ≤ 0.172 and the series to s¹³ is within 2e-12 relative.
func log1pUnit(e float64) float64 {
	var s, k float64
	if e <= math.Sqrt2-1 {
		s = e / (2 + e)
	} else {
		s, k = (e-1)/(e+3), math.Ln2
	}
	s2 := s * s
	return k + 2*s*(1+s2*(1.0/3+s2*(1.0/5+s2*(1.0/7+s2*(1.0/9+s2*(1.0/11+s2*(1.0/13)))))))
}
