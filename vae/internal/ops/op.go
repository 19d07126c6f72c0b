package ops

import (
	"fmt"
	"hash"
	"hash/fnv"
	"reflect"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// A kernel is what an op of this package states: its name with every
// parameter (String, which also hashes it), the ranks of its output and
// inputs, its output shape and its computation. A kernel with a SymDiff is
// differentiable; one without DiffWRT is differentiable in every input. The
// rest of Gorgonia's Op interface is the same for all of them (op, diffOp).
type kernel interface {
	fmt.Stringer
	signature() (out int, ins []int)
	InferShape(...G.DimSizer) (tensor.Shape, error)
	Do(...G.Value) (G.Value, error)
}

// gradient is a differentiable kernel's SymDiff.
type gradient interface {
	SymDiff(in G.Nodes, output, grad *G.Node) (G.Nodes, error)
}

// op is a kernel as a Gorgonia Op.
type op struct{ kernel }

func (o op) Arity() int {
	_, ins := o.signature()
	return len(ins)
}

func (o op) Type() hm.Type {
	out, ins := o.signature()
	return fnType(out, ins...)
}

func (o op) Hashcode() uint32 {
	h := fnv.New32a()
	o.WriteHash(h)
	return h.Sum32()
}

func (o op) WriteHash(h hash.Hash) { h.Write([]byte(o.String())) }
func (op) ReturnsPtr() bool        { return false }
func (op) CallsExtern() bool       { return false }
func (op) OverwritesInput() int    { return -1 }

// diffOp is a differentiable kernel as a Gorgonia Op.
type diffOp struct{ op }

func (o diffOp) DiffWRT(n int) []bool {
	if d, ok := o.kernel.(interface{ DiffWRT(int) []bool }); ok {
		return d.DiffWRT(n)
	}
	return trues(n)
}

func (o diffOp) SymDiff(in G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	return o.kernel.(gradient).SymDiff(in, output, grad)
}

// asOp makes a kernel a Gorgonia Op.
func asOp(k kernel) G.Op {
	if _, ok := k.(gradient); ok {
		return diffOp{op{k}}
	}
	return op{k}
}

func tensorType(dims int) G.TensorType { return G.TensorType{Dims: dims, Of: hm.TypeVariable('a')} }

// fnType is the type of an op from tensors of the given ranks to a tensor of rank out.
func fnType(out int, ins ...int) hm.Type {
	ts := make([]hm.Type, 0, len(ins)+1)
	for _, d := range ins {
		ts = append(ts, tensorType(d))
	}
	return hm.NewFnType(append(ts, tensorType(out))...)
}

// opBase holds a kernel's output buffer when it has one (see
// reusingOutput) and the helpers that fill it.
type opBase struct{ out *outBuf }

func (b *opBase) setOut(o *outBuf) { b.out = o }

// reusingOutput returns k with an output buffer of its own. Training graphs
// use it for every op; evaluation graphs, run at other batch sizes and then
// left alone, allocate instead of holding memory.
func reusingOutput(k kernel) kernel {
	p := reflect.New(reflect.TypeOf(k)) // an addressable copy of k
	p.Elem().Set(reflect.ValueOf(k))
	b, ok := p.Interface().(interface{ setOut(*outBuf) })
	if !ok {
		return k
	}
	b.setOut(new(outBuf))
	return p.Elem().Interface().(kernel)
}

// apply is G.ApplyOp of a kernel, with its output kept from step to step if
// reuse is set (in training graphs).
func apply(k kernel, reuse bool, in ...*G.Node) (*G.Node, error) {
	if reuse {
		k = reusingOutput(k)
	}
	return G.ApplyOp(asOp(k), in...)
}
