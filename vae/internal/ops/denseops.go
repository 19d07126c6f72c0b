package ops

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Fully connected layers and ReLU as single ops. Gorgonia builds x·W + b from
// a matrix product and a broadcast add that first copies b into a full
// matrix, and ReLU's gradient from a comparison and a product: each a pass
// over memory and an allocation. These do the same in one pass (the bias
// rides in the GEMM's output), with gradients checked against finite
// differences in denseops_test.go.
//
//	linearOp   y = x·W + b       x (B,in), W (in,out), b (out)
//	matmulOp   op(a)·op(b)       the linear map's input and weight gradients
//	colSumOp   Σ over rows       its bias gradient
//	reluOp     max(x, 0)         its gradient is reluGradOp

// linearOp's dataInput marks a layer whose input is the images: their
// gradient is never needed, and making it would cost a matrix product.
type linearOp struct {
	opBase
	dataInput bool
}

func (op linearOp) String() string          { return fmt.Sprintf("vaeLinear(data=%t)", op.dataInput) }
func (op linearOp) DiffWRT(n int) []bool    { return []bool{!op.dataInput, true, true} }
func (op linearOp) signature() (int, []int) { return 2, []int{2, 2, 1} }

func (op linearOp) outShape(s []tensor.Shape) (tensor.Shape, error) {
	x, w, b := s[0], s[1], s[2]
	if x.Dims() != 2 || w.Dims() != 2 || x[1] != w[0] || b.TotalSize() != w[1] {
		return nil, fmt.Errorf("%v: input %v, weights %v, bias %v do not fit", op, x, w, b)
	}
	return tensor.Shape{x[0], w[1]}, nil
}

func (op linearOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapesOf(in)
	if err != nil {
		return nil, err
	}
	return op.outShape(s)
}

func (op linearOp) Do(in ...G.Value) (G.Value, error) {
	s := valueShapes(in)
	out, err := op.outShape(s)
	if err != nil {
		return nil, err
	}
	return op.overwrite(op.String(), in, out, func(y any, src []any) {
		switch y := y.(type) {
		case []float32:
			linear(s[0][0], s[0][1], s[1][1], y, typed[float32](src))
		case []float64:
			linear(s[0][0], s[0][1], s[1][1], y, typed[float64](src))
		}
	})
}

// linear adds the bias after the product rather than having the product
// read it from y (beta 1): OpenBLAS's Zen core ran the MLP's 100×400×560
// product 10-15 % slower with beta 1, and one pass over y costs less.
func linear[T float](rows, in, out int, y []T, src [][]T) {
	gemm(false, false, rows, out, in, src[0], src[1], 0, y)
	if y32, ok := any(y).([]float32); ok {
		rowBias32(y32, any(src[2]).([]float32))
		return
	}
	rowBias(y, src[2])
}

// rowBias adds b to every row of y; float32 runs in C (rowBias32).
func rowBias[T float](y, b []T) {
	for r := 0; r+len(b) <= len(y); r += len(b) {
		for j, v := range b {
			y[r+j] += v
		}
	}
}

func (op linearOp) SymDiff(in G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	dx := gradStep{matmulOp{tB: true}, G.Nodes{grad, in[1]}}
	if op.dataInput {
		dx = gradStep{}
	}
	return grads(dx, gradStep{matmulOp{tA: true}, G.Nodes{in[0], grad}}, gradStep{colSumOp{}, G.Nodes{grad}})
}

// matmulOp is op(a)·op(b), op the transpose where tA or tB is set.
type matmulOp struct {
	opBase
	tA, tB bool
}

func (op matmulOp) String() string          { return fmt.Sprintf("vaeMatMul(tA=%t,tB=%t)", op.tA, op.tB) }
func (op matmulOp) signature() (int, []int) { return 2, []int{2, 2} }

// dims returns m, n, k of the product of a and b.
func (op matmulOp) dims(a, b tensor.Shape) (m, n, k int, err error) {
	if a.Dims() != 2 || b.Dims() != 2 {
		return 0, 0, 0, fmt.Errorf("%v: shapes %v and %v", op, a, b)
	}
	m, k = a[0], a[1]
	if op.tA {
		m, k = k, m
	}
	kb, n := b[0], b[1]
	if op.tB {
		kb, n = n, kb
	}
	if k != kb {
		return 0, 0, 0, fmt.Errorf("%v: shapes %v and %v do not fit", op, a, b)
	}
	return m, n, k, nil
}

func (op matmulOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapesOf(in)
	if err != nil {
		return nil, err
	}
	m, n, _, err := op.dims(s[0], s[1])
	return tensor.Shape{m, n}, err
}

func (op matmulOp) Do(in ...G.Value) (G.Value, error) {
	m, n, k, err := op.dims(in[0].Shape(), in[1].Shape())
	if err != nil {
		return nil, err
	}
	return op.overwrite(op.String(), in, tensor.Shape{m, n}, func(y any, src []any) {
		switch y := y.(type) {
		case []float32:
			s := typed[float32](src)
			gemm(op.tA, op.tB, m, n, k, s[0], s[1], 0, y)
		case []float64:
			s := typed[float64](src)
			gemm(op.tA, op.tB, m, n, k, s[0], s[1], 0, y)
		}
	})
}

// colSumOp sums a matrix's rows: (B, n) → (n).
type colSumOp struct{ opBase }

func (op colSumOp) String() string          { return "vaeColSum" }
func (op colSumOp) signature() (int, []int) { return 1, []int{2} }
func (op colSumOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapesOf(in)
	if err != nil {
		return nil, err
	}
	return tensor.Shape{s[0][1]}, nil
}

func (op colSumOp) Do(in ...G.Value) (G.Value, error) {
	s := in[0].Shape()
	return op.do(op.String(), in, tensor.Shape{s[1]}, func(y any, src []any) {
		switch y := y.(type) {
		case []float32:
			colSums32(s[1], y, src[0].([]float32))
		case []float64:
			colSums(s[1], y, src[0].([]float64))
		}
	})
}

func colSums[T float](n int, y, x []T) {
	for r := 0; r+n <= len(x); r += n {
		for j, v := range x[r : r+n] {
			y[j] += v
		}
	}
}

// reluOp is max(x, 0) over a tensor of any shape.
type reluOp struct {
	opBase
	dims int
}

func (op reluOp) String() string          { return fmt.Sprintf("vaeReLU(%d)", op.dims) }
func (op reluOp) signature() (int, []int) { return op.dims, []int{op.dims} }
func (op reluOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapesOf(in)
	if err != nil {
		return nil, err
	}
	return s[0].Clone(), nil
}

func (op reluOp) Do(in ...G.Value) (G.Value, error) {
	return op.overwrite(op.String(), in, in[0].Shape().Clone(), func(y any, src []any) {
		switch y := y.(type) {
		case []float32:
			relu32(y, src[0].([]float32), nil)
		case []float64:
			relu(y, src[0].([]float64), nil)
		}
	})
}

func (op reluOp) SymDiff(in G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	dx, err := apply(reluGradOp{dims: op.dims}, true, in[0], grad)
	return G.Nodes{dx}, err
}

// relu writes x where x > 0 into y, or with g set, g where x > 0; 0
// elsewhere (NaN included). float32 runs in C (relu32).
func relu[T float](y, x, g []T) {
	y = y[:len(x)]
	if g == nil {
		for i, v := range x {
			y[i] = 0
			if v > 0 {
				y[i] = v
			}
		}
		return
	}
	g = g[:len(x)]
	for i, v := range x {
		y[i] = 0
		if v > 0 {
			y[i] = g[i]
		}
	}
}

// reluGradOp is ReLU's input gradient: g where x > 0 (inputs x, g).
type reluGradOp struct {
	opBase
	dims int
}

func (op reluGradOp) String() string          { return fmt.Sprintf("vaeReLUGrad(%d)", op.dims) }
func (op reluGradOp) signature() (int, []int) { return op.dims, []int{op.dims, op.dims} }
func (op reluGradOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapesOf(in)
	if err != nil {
		return nil, err
	}
	return s[0].Clone(), nil
}

func (op reluGradOp) Do(in ...G.Value) (G.Value, error) {
	return op.overwrite(op.String(), in, in[0].Shape().Clone(), func(y any, src []any) {
		switch y := y.(type) {
		case []float32:
			relu32(y, src[0].([]float32), src[1].([]float32))
		case []float64:
			relu(y, src[0].([]float64), src[1].([]float64))
		}
	})
}
