package vae

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"

	"gorgonia.org/tensor"
)

// Checkpoint is the whole state of a training run at the end of an epoch, or
// within one when training was stopped: weights, Adam's moments and step
// count, and the states of the random generators, so that a resumed run
// continues exactly as an uninterrupted one.
//
// File format (version 1), all integers and floats little-endian:
//
//	"VAELAB-CHECKPOINT-1\n"
//	uint32 n, then n bytes of JSON header: run, step, epoch (completed
//	       epochs), epoch_step (steps done in the next one, omitted when 0),
//	       adam_t, rng (generator states, base64; the batch-order one as of
//	       the start of the unfinished epoch), test (last evaluation),
//	       objective_state (a stateful objective's values, omitted if none), tensors
//	       (name and shape of each parameter in order, then of each buffer:
//	       batch-norm running statistics, stored with zero moments)
//	for each tensor of N values: N float32 weights, N float64 first
//	       moments, N float64 second moments
//	32 bytes: sha256 of everything above
type Checkpoint struct {
	Run         string // the run it belongs to
	Step, Epoch int    // completed
	// EpochStep is the number of steps already done in epoch Epoch+1 when
	// training was stopped mid-epoch (0 at an epoch's end).
	EpochStep int
	AdamT     int
	RNG       map[Stream][]byte
	Test      EvalResult
	// ObjectiveState is a stateful objective's state (GECO's λ and moving
	// average), nil for the others.
	ObjectiveState []float64
	Tensors        []TensorState
}

// TensorState is one parameter with its optimiser moments.
type TensorState struct {
	Name  string
	Shape []int
	W     []float32
	M, V  []float64
}

const checkpointMagic = "VAELAB-CHECKPOINT-1\n"

type checkpointHeader struct {
	Run       string            `json:"run"`
	Step      int               `json:"step"`
	Epoch     int               `json:"epoch"`
	EpochStep int               `json:"epoch_step,omitempty"`
	AdamT     int               `json:"adam_t"`
	RNG       map[Stream][]byte `json:"rng"`
	Test      EvalResult        `json:"test"`
	ObjState  []float64         `json:"objective_state,omitempty"`
	Tensors   []struct {
		Name  string `json:"name"`
		Shape []int  `json:"shape"`
	} `json:"tensors"`
}

// Encode writes the checkpoint in the format above.
func (c *Checkpoint) Encode(w io.Writer) error {
	h := sha256.New()
	bw := bufio.NewWriter(io.MultiWriter(w, h))
	hdr := checkpointHeader{Run: c.Run, Step: c.Step, Epoch: c.Epoch, EpochStep: c.EpochStep, AdamT: c.AdamT, RNG: c.RNG, Test: c.Test, ObjState: c.ObjectiveState}
	for _, t := range c.Tensors {
		hdr.Tensors = append(hdr.Tensors, struct {
			Name  string `json:"name"`
			Shape []int  `json:"shape"`
		}{t.Name, t.Shape})
	}
	js, err := json.Marshal(hdr)
	if err != nil {
		return err
	}
	bw.WriteString(checkpointMagic)
	binary.Write(bw, binary.LittleEndian, uint32(len(js)))
	bw.Write(js)
	var buf [8]byte
	for _, t := range c.Tensors {
		for _, v := range t.W {
			binary.LittleEndian.PutUint32(buf[:4], math.Float32bits(v))
			bw.Write(buf[:4])
		}
		for _, s := range [][]float64{t.M, t.V} {
			for _, v := range s {
				binary.LittleEndian.PutUint64(buf[:], math.Float64bits(v))
				bw.Write(buf[:])
			}
		}
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	_, err = w.Write(h.Sum(nil))
	return err
}

// ErrCorruptCheckpoint marks a checkpoint that fails its checksum or format.
var ErrCorruptCheckpoint = errors.New("corrupt checkpoint")

// ReadCheckpoint reads and verifies a checkpoint written by Encode.
func ReadCheckpoint(r io.Reader) (*Checkpoint, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrCorruptCheckpoint, fmt.Sprintf(format, args...))
	}
	if len(b) < len(checkpointMagic)+4+32 || string(b[:len(checkpointMagic)]) != checkpointMagic {
		return nil, bad("not a vaelab checkpoint (version 1)")
	}
	body, sum := b[:len(b)-32], b[len(b)-32:]
	if got := sha256.Sum256(body); string(got[:]) != string(sum) {
		return nil, bad("sha256 mismatch (the file is truncated or altered)")
	}
	off := len(checkpointMagic)
	n := int(binary.LittleEndian.Uint32(body[off:]))
	off += 4
	if n < 0 || off+n > len(body) {
		return nil, bad("header runs past the end")
	}
	var hdr checkpointHeader
	if err := json.Unmarshal(body[off:off+n], &hdr); err != nil {
		return nil, bad("header: %v", err)
	}
	off += n
	c := &Checkpoint{Run: hdr.Run, Step: hdr.Step, Epoch: hdr.Epoch, EpochStep: hdr.EpochStep, AdamT: hdr.AdamT, RNG: hdr.RNG, Test: hdr.Test, ObjectiveState: hdr.ObjState}
	for _, th := range hdr.Tensors {
		size := 1
		for _, d := range th.Shape {
			size *= d
		}
		if size <= 0 || off+size*20 > len(body) {
			return nil, bad("tensor %s of shape %v runs past the end", th.Name, th.Shape)
		}
		t := TensorState{Name: th.Name, Shape: th.Shape, W: make([]float32, size), M: make([]float64, size), V: make([]float64, size)}
		for i := range t.W {
			t.W[i] = math.Float32frombits(binary.LittleEndian.Uint32(body[off:]))
			off += 4
		}
		for _, s := range [][]float64{t.M, t.V} {
			for i := range s {
				s[i] = math.Float64frombits(binary.LittleEndian.Uint64(body[off:]))
				off += 8
			}
		}
		c.Tensors = append(c.Tensors, t)
	}
	if off != len(body) {
		return nil, bad("%d bytes left after the tensors", len(body)-off)
	}
	return c, nil
}

// snapshot captures the trainer's state after epoch epoch, at step step.
func (t *trainer) snapshot(run string, step, epoch int, test EvalResult, sources map[Stream]*rand.PCG) (*Checkpoint, error) {
	c := &Checkpoint{Run: run, Step: step, Epoch: epoch, AdamT: t.opt.t, Test: test, RNG: map[Stream][]byte{},
		ObjectiveState: append([]float64(nil), t.state...)}
	for s, src := range sources {
		b, err := src.MarshalBinary()
		if err != nil {
			return nil, err
		}
		c.RNG[s] = b
	}
	for i, p := range t.learnables {
		w, ok := p.Value().Data().([]float32)
		if !ok {
			return nil, fmt.Errorf("checkpoint: parameter %s is not float32", p.Name())
		}
		c.Tensors = append(c.Tensors, TensorState{Name: p.Name(), Shape: append([]int(nil), p.Shape()...),
			W: append([]float32(nil), w...), M: t.opt.m[i].values(), V: t.opt.v[i].values()})
	}
	// Buffers follow the parameters, with zero moments: they are not trained.
	for _, b := range t.m.buffers {
		w := b.Value.Data().([]float32)
		c.Tensors = append(c.Tensors, TensorState{Name: b.Name, Shape: append([]int(nil), b.Value.Shape()...),
			W: append([]float32(nil), w...), M: make([]float64, len(w)), V: make([]float64, len(w))})
	}
	return c, nil
}

// loadBuffers copies the buffers that follow the first n tensors of c into m.
func loadBuffers(m *Model, c *Checkpoint, n int) error {
	for i, b := range m.buffers {
		ts := c.Tensors[n+i]
		if ts.Name != b.Name || !slices.Equal(ts.Shape, []int(b.Value.Shape())) {
			return fmt.Errorf("checkpoint tensor %d is %s %v, the model's is %s %v", n+i, ts.Name, ts.Shape, b.Name, b.Value.Shape())
		}
		copy(b.Value.Data().([]float32), ts.W)
	}
	return nil
}

// restore loads a checkpoint into the trainer and the generators, checking
// that it fits the model parameter by parameter.
func (t *trainer) restore(c *Checkpoint, sources map[Stream]*rand.PCG) error {
	if len(c.Tensors) != len(t.learnables)+len(t.m.buffers) {
		return fmt.Errorf("checkpoint has %d tensors, the model %d: it belongs to another architecture", len(c.Tensors), len(t.learnables)+len(t.m.buffers))
	}
	if err := loadBuffers(t.m, c, len(t.learnables)); err != nil {
		return err
	}
	for i, p := range t.learnables {
		ts := c.Tensors[i]
		if ts.Name != p.Name() || !slices.Equal(ts.Shape, []int(p.Shape())) {
			return fmt.Errorf("checkpoint parameter %d is %s %v, the model's is %s %v", i, ts.Name, ts.Shape, p.Name(), p.Shape())
		}
		copy(p.Value().Data().([]float32), ts.W)
		t.opt.m[i].set(ts.M)
		t.opt.v[i].set(ts.V)
	}
	t.opt.t = c.AdamT
	if len(c.ObjectiveState) != len(t.state) {
		return fmt.Errorf("checkpoint has %d values of objective state, the objective %d: it belongs to another objective", len(c.ObjectiveState), len(t.state))
	}
	copy(t.state, c.ObjectiveState)
	for s, src := range sources {
		b, ok := c.RNG[s]
		if !ok {
			return fmt.Errorf("checkpoint lacks the state of the %s generator", s)
		}
		if err := src.UnmarshalBinary(b); err != nil {
			return fmt.Errorf("checkpoint %s generator: %w", s, err)
		}
	}
	return nil
}

// LoadModel rebuilds a float32 model of architecture cfg, for images of the
// given shape, with the weights of checkpoint c.
func LoadModel(cfg ModelConfig, shape Shape, c *Checkpoint) (*Model, error) {
	m, err := NewModel(cfg, shape, tensor.Float32, rand.New(rand.NewPCG(0, 0)))
	if err != nil {
		return nil, err
	}
	if len(c.Tensors) != len(m.params)+len(m.buffers) {
		return nil, fmt.Errorf("checkpoint has %d tensors, the model %d: it belongs to another architecture", len(c.Tensors), len(m.params)+len(m.buffers))
	}
	if err := loadBuffers(m, c, len(m.params)); err != nil {
		return nil, err
	}
	for i, p := range m.params {
		ts := c.Tensors[i]
		if ts.Name != p.Name || !slices.Equal(ts.Shape, []int(p.Value.Shape())) {
			return nil, fmt.Errorf("checkpoint parameter %d is %s %v, the model's is %s %v", i, ts.Name, ts.Shape, p.Name, p.Value.Shape())
		}
		copy(p.Value.Data().([]float32), ts.W)
	}
	return m, nil
}
