package vae

import (
	"context"
	"fmt"
	"math/rand/v2"

	G "gorgonia.org/gorgonia"

	"github.com/vaelab/vaelab/data"

	"github.com/vaelab/vaelab/vae/internal/ops"
)

// EvalResult holds test-set averages per image, in nats.
type EvalResult struct {
	N                     int
	ELBO, Recon, KL, Loss float64
}

// Metrics returns the result under the test/ metric keys.
func (e EvalResult) Metrics() []Metric {
	return []Metric{{KeyTestLoss, e.Loss}, {KeyTestRecon, e.Recon}, {KeyTestKL, e.KL}, {KeyTestELBO, e.ELBO}}
}

// Evaluate estimates objective c's loss (its evaluation form: β-weighted for
// elbo) and the ELBO of every image of im with one reparameterised sample
// each, drawn from rng, and averages them. The batch size only changes
// speed: a short last batch is padded and the padding ignored.
func (m *Model) Evaluate(ctx context.Context, im data.Images, c ObjectiveConfig, batch int, rng *rand.Rand) (EvalResult, error) {
	var r EvalResult
	if im.N == 0 {
		return r, fmt.Errorf("evaluate: no images")
	}
	obj, err := ObjectiveNamed(c.Type)
	if err != nil {
		return r, err
	}
	err = m.forEachBatch(ctx, im, batch, func(out *readouts, n int) {
		logpx, kl := ops.Values64(out.logpx), ops.Values64(out.kl)
		for i := range n {
			r.Recon -= logpx[i]
			r.KL += kl[i]
		}
	}, func(n int) []float64 { return normals(rng, n) })
	if err != nil {
		return r, fmt.Errorf("evaluate: %w", err)
	}
	r.N = im.N
	r.Recon /= float64(im.N)
	r.KL /= float64(im.N)
	r.ELBO = -r.Recon - r.KL
	r.Loss = obj.evalLoss(c, obj.final(c), r.Recon, r.KL)
	return r, nil
}

// Reconstruct returns the decoder means at z = μ(x) for each image of im.
func (m *Model) Reconstruct(ctx context.Context, im data.Images, batch int) (data.Images, error) {
	out := data.Images{Height: im.Height, Width: im.Width, Channels: im.Channels}
	err := m.forEachBatch(ctx, im, batch, func(r *readouts, n int) {
		out.Pix = append(out.Pix, float32s(ops.Values64(r.mean)[:n*m.inDim])...)
		out.N += n
	}, func(n int) []float64 { return make([]float64, n) })
	return out, err
}

// Sample decodes n draws z from the prior (rng) into decoder means shaped like like.
func (m *Model) Sample(ctx context.Context, n int, like data.Images, rng *rand.Rand) (data.Images, error) {
	return m.Decode(ctx, m.prior.Sample(rng, n, m.cfg.Latent), like)
}

// Decode maps latent codes (n × latent values, row-major) to decoder means,
// images shaped like like: what samplers and metrics generate with.
func (m *Model) Decode(ctx context.Context, z []float64, like data.Images) (data.Images, error) {
	L := m.cfg.Latent
	if like.Dim() != m.inDim {
		return data.Images{}, fmt.Errorf("decode: image shape %dx%dx%d does not match the model input of %d values",
			like.Height, like.Width, like.Channels, m.inDim)
	}
	if len(z) == 0 || len(z)%L != 0 {
		return data.Images{}, fmt.Errorf("decode: %d values are not whole codes of %d latent dimensions", len(z), L)
	}
	if err := ctx.Err(); err != nil {
		return data.Images{}, err
	}
	return m.decodeChunks(z, like, decodeValues)
}

func (m *Model) decodeChunks(z []float64, like data.Images, maxValues int) (data.Images, error) {
	L := m.cfg.Latent
	n := len(z) / L
	out := data.Images{N: n, Height: like.Height, Width: like.Width, Channels: like.Channels, Pix: make([]float32, 0, n*m.inDim)}
	chunk := max(1, min(n, maxValues/m.inDim))
	for start := 0; start < n; start += chunk {
		rows := min(chunk, n-start)
		d, err := m.newDecoder(rows)
		if err != nil {
			return data.Images{}, err
		}
		if err := d.let(d.z, nil, z[start*L:(start+rows)*L]); err != nil {
			return data.Images{}, err
		}
		vm := G.NewTapeMachine(d.g)
		err = vm.RunAll()
		if err == nil {
			out.Pix = append(out.Pix, float32s(ops.Values64(d.mean.Value()))...)
		}
		vm.Close()
		if err != nil {
			return data.Images{}, fmt.Errorf("decode: %w", err)
		}
	}
	return out, nil
}

// decodeValues bounds the output values of one decoder graph: codes are
// decoded in chunks of that many pixels (1,000 samples of 64×64 grey, or
// 341 of 64×64 RGB), so a conv decoder's buffers stay bounded however many
// samples are drawn. Sets under it are decoded in one graph, as ever.
const decodeValues = 1 << 22

// forEachBatch runs the forward pass over im in batches of at most batch images.
// eps supplies the ε of the real rows of each batch (rows × latent values, drawn
// in image order, so the draws do not depend on the batch size); padding rows get
// zeros. use receives the pass's outputs with the number of real rows.
func (m *Model) forEachBatch(ctx context.Context, im data.Images, batch int,
	use func(r *readouts, n int), eps func(n int) []float64) error {
	return m.forEachBatchPasses(ctx, im, batch, 1, use, eps)
}

// forEachBatchPasses is forEachBatch repeated passes times over one graph.
// Its graph is the ELBO's at β = 1; the passes read per-image terms, never
// the loss.
func (m *Model) forEachBatchPasses(ctx context.Context, im data.Images, batch int, passes int,
	use func(r *readouts, n int), eps func(n int) []float64) error {
	if im.Dim() != m.inDim {
		return fmt.Errorf("image shape %dx%dx%d does not match the model input of %d values", im.Height, im.Width, im.Channels, m.inDim)
	}
	b := min(batch, im.N)
	o, err := m.newObjective(b, ObjectiveConfig{}, false, 0)
	if err != nil {
		return err
	}
	reads, err := o.addReadouts()
	if err != nil {
		return err
	}
	vm := G.NewTapeMachine(o.g)
	defer vm.Close()
	idx := make([]int, b)
	for pass := 0; pass < passes*im.N; pass += im.N {
		for start := 0; start < im.N; start += b {
			if err := ctx.Err(); err != nil {
				return err
			}
			n := min(b, im.N-start)
			for i := range idx {
				idx[i] = start + i%n // pad a short last batch by repeating its images
			}
			e := make([]float64, b*m.cfg.Latent)
			copy(e, eps(n*m.cfg.Latent))
			if err := o.feed(gather(im, idx), e, 1); err != nil {
				return err
			}
			if err := vm.RunAll(); err != nil {
				return err
			}
			use(reads, n)
			vm.Reset()
		}
	}
	return nil
}

// Traverse decodes latent traversals of one image: for each latent dimension
// (rows, in order), that dimension swept over steps evenly spaced values of
// the prior's traversal range (columns) with the others held at the image's
// posterior mean.
func (m *Model) Traverse(ctx context.Context, img data.Images, steps int) (data.Images, error) {
	lo, hi := m.prior.TraversalRange()
	if img.N != 1 || steps < 2 {
		return data.Images{}, fmt.Errorf("traverse: %d images, %d steps; want one image and at least 2 steps", img.N, steps)
	}
	mu, _, err := m.Encode(ctx, img, 1)
	if err != nil {
		return data.Images{}, err
	}
	L := m.cfg.Latent
	z := make([]float64, 0, L*steps*L)
	for j := range L {
		for s := range steps {
			code := append([]float64(nil), mu...)
			code[j] = lo + (hi-lo)*float64(s)/float64(steps-1)
			z = append(z, code...)
		}
	}
	d, err := m.newDecoder(L * steps)
	if err != nil {
		return data.Images{}, err
	}
	if err := d.let(d.z, nil, z); err != nil {
		return data.Images{}, err
	}
	vm := G.NewTapeMachine(d.g)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		return data.Images{}, fmt.Errorf("traverse: %w", err)
	}
	return data.Images{N: L * steps, Height: img.Height, Width: img.Width, Channels: img.Channels,
		Pix: float32s(ops.Values64(d.mean.Value()))}, nil
}
