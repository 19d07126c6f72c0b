package evaluate

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"

	"gonum.org/v1/gonum/mat"

	"github.com/vaelab/vaelab/data"
	"github.com/vaelab/vaelab/experiments"
	"github.com/vaelab/vaelab/internal/atomicfile"
	"github.com/vaelab/vaelab/internal/safefile"
	"github.com/vaelab/vaelab/metrics"
	"github.com/vaelab/vaelab/record"
	"github.com/vaelab/vaelab/vae"
)

// faceSide is the real side in dlib's face descriptor space: the
// descriptors of the same real test images as the other metrics' and their
// Gaussian, and the real-vs-real baseline there.
type faceSide struct {
	desc     []float32
	ref      *metrics.Reference
	baseline []record.Summary
}

// dlibProtocol describes the feature space for stored protocols.
func dlibProtocol(n int) string {
	return fmt.Sprintf("N=%d real test images; dlib face descriptor (face-api 1.7.15 weights; images padded to a square, resized to 150×150, grey replicated to RGB; 128-d)", n)
}

func (c *ReferenceCache) dlib() (*metrics.DlibNet, error) {
	return c.net.Get(c.DataDir, func() (*metrics.DlibNet, error) {
		return metrics.LoadDlib(filepath.Join(c.DataDir, data.DlibFaceDir))
	})
}

func (c *ReferenceCache) faceSide(e *evaluation, net *metrics.DlibNet, real *realSide) (*faceSide, error) {
	key := fmt.Sprintf("%+v|%d", e.cfg.Dataset, real.n)
	return c.faces.Get(key, func() (*faceSide, error) {
		// The same training images as the randconv1 baseline.
		rng := rand.New(rand.NewPCG(e.cfg.Dataset.Seed, 0xba5e))
		train := e.ds.Train.Subset(rng.Perm(e.ds.Train.N)[:real.n])
		d, err := net.DescriptorsOf(e.ctx, real.images, train)
		if err != nil {
			return nil, err
		}
		f := &faceSide{desc: d[0]}
		g, err := metrics.FitGaussian(descMatrix(f.desc))
		if err != nil {
			return nil, err
		}
		if f.ref, err = metrics.NewReference(g); err != nil {
			return nil, err
		}
		td := d[1]
		fd, err := f.ref.DistanceTo(descMatrix(td))
		if err != nil {
			return nil, err
		}
		proto := fmt.Sprintf("Fréchet distance, %s vs %d training images (real-vs-real baseline at the same N)", dlibProtocol(real.n), real.n)
		f.baseline = []record.Summary{{Key: "real/fd_dlib", Value: fd, Protocol: proto}}
		// Bootstrapped from the dataset seed, like the randconv1 baseline's.
		base := &evaluation{ctx: e.ctx, cfg: experiments.RunConfig{Seed: e.cfg.Dataset.Seed}}
		if err := base.frechetSE("real/fd_dlib", descMatrix(f.desc), descMatrix(td), proto); err != nil {
			return nil, err
		}
		f.baseline = append(f.baseline, base.out...)
		if labels := e.ds.TestLabels; len(labels) >= real.n {
			if v, err := metrics.VerifyPeople(f.desc, metrics.DlibDim, labels[:real.n]); err == nil {
				f.baseline = append(f.baseline, record.Summary{Key: "real/verify_auc_dlib", Value: v.AUC, Protocol: fmt.Sprintf("ROC AUC of descriptor distances, same person vs different, over the %d same-person and %d different-people pairs of the real test images; %s", v.Same, v.Diff, dlibProtocol(real.n))})
			}
		}
		orl, err := c.orlVerification(e.ctx, net)
		if err != nil {
			return nil, err
		}
		if orl != nil {
			f.baseline = append(f.baseline, record.Summary{Key: "features/dlib_orl_auc", Value: orl.AUC, Protocol: fmt.Sprintf("the feature space's check, not the run's: ROC AUC of descriptor distances, same person vs different, over the %d same-person and %d different-people pairs of ORL's 400 photographs of 40 people (92×112 grey, as every input: padded to a square, resized to 150×150, grey replicated to RGB); %.1f%% of same-person pairs within dlib's 0.6", orl.Same, orl.Diff, 100*orl.SameWithin)})
		}
		return f, nil
	})
}

// orlFolder is where ORL's photographs sit in the data directory (one
// folder per person), for the feature space's verification check.
const orlFolder = "orl_att"

// orlVerification is the descriptor's verification figure on ORL, computed
// once per machine (400 descriptors, a few seconds) and kept in the cache
// directory beside the decoded datasets, under the weights' sha256. Without
// ORL in the data directory, or with an unreadable one, it is nil: the
// check is then not shown, and the run's own scores are not held up by it.
func (c *ReferenceCache) orlVerification(ctx context.Context, net *metrics.DlibNet) (*metrics.Verification, error) {
	return c.orl.Get("orl", func() (*metrics.Verification, error) {
		root := filepath.Join(c.DataDir, orlFolder)
		if _, err := os.Stat(root); err != nil {
			return nil, nil
		}
		cached := ""
		if c.CacheDir != "" {
			cached = filepath.Join(c.CacheDir, "dlib-orl-verification-"+metrics.DlibWeightsSHA256[:16]+".json")
			var v metrics.Verification
			if b, err := safefile.Read(cached, safefile.MaxSmall); err == nil && json.Unmarshal(b, &v) == nil && v.Same > 0 {
				return &v, nil
			}
		}
		orl, err := data.LoadFolder(ctx, root, data.Prep{})
		if err != nil {
			return nil, ctx.Err()
		}
		d, err := net.Descriptors(ctx, orl.Images)
		if err != nil {
			return nil, err
		}
		v, err := metrics.VerifyPeople(d, metrics.DlibDim, orl.Labels)
		if err != nil {
			return nil, nil // not a folder of several people's photographs
		}
		if cached != "" {
			b, _ := json.Marshal(v)
			if err := os.MkdirAll(c.CacheDir, 0o755); err == nil {
				atomicfile.Write(cached, 0o644, func(w io.Writer) error { _, err := w.Write(b); return err }) // a cache: failing to keep it costs a recomputation
			}
		}
		return &v, nil
	})
}

func descMatrix(d []float32) *mat.Dense {
	v := make([]float64, len(d))
	for i, x := range d {
		v[i] = float64(x)
	}
	return mat.NewDense(len(d)/metrics.DlibDim, metrics.DlibDim, v)
}

// faceQuality scores every sampler's samples and the reconstructions in the
// face descriptor space (fd_dlib, and FD∞ for samples), and the
// reconstructions' identity: id_similarity (mean cosine similarity of each
// test image's descriptor and its reconstruction's), id_match (the share
// within dlib's 0.6) and, where identities are known, id_nearest (the share
// whose nearest real test image is the same person).
func (e *evaluation) faceQuality(real *realSide, refs *ReferenceCache) error {
	net, err := refs.dlib()
	if err != nil {
		return err
	}
	side, err := refs.faceSide(e, net, real)
	if err != nil {
		return err
	}
	rng := vae.NewRand(e.cfg.Seed, vae.StreamFaces)
	ims := make([]data.Images, len(e.sets))
	for i, set := range e.sets {
		ims[i] = set.im
	}
	descs, err := net.DescriptorsOf(e.ctx, ims...)
	if err != nil {
		return err
	}
	realDesc := descMatrix(side.desc)
	for i, set := range e.sets {
		d := descs[i]
		x := descMatrix(d)
		fd, err := side.ref.DistanceTo(x)
		if err != nil {
			return err
		}
		proto := dlibProtocol(real.n) + " " + set.what
		e.add(set.prefix+"/fd_dlib", fd, "Fréchet distance, "+proto)
		if set.prefix == "recon" {
			e.identity(side.desc, d, proto)
			continue
		}
		if err := e.frechetSE(set.prefix+"/fd_dlib", realDesc, x, "Fréchet distance, "+proto); err != nil {
			return err
		}
		fdInf, err := side.ref.FrechetUnbiased(x, fd, fdPoints, rng)
		if err != nil {
			return err
		}
		e.add(set.prefix+"/fd_dlib_inf", fdInf, fmt.Sprintf("Fréchet distance extrapolated to infinitely many samples (Chong & Forsyth 2020), %d sample sizes, ", fdPoints)+proto)
		real := faceImages{desc: side.desc}
		if labels := e.ds.TestLabels; len(labels) >= real.n() {
			real.labels = labels[:real.n()]
		}
		for _, m := range faceMetrics() {
			if v, p, ok := m.score(real, d); ok {
				e.add(set.prefix+strings.TrimPrefix(m.Key, "samples"), v, p+"; "+proto)
			}
		}
	}
	e.out = append(e.out, side.baseline...)
	return nil
}

// identity compares each real test image's descriptor with its
// reconstruction's.
func (e *evaluation) identity(real, recon []float32, proto string) {
	n := len(real) / metrics.DlibDim
	cos, match := 0.0, 0
	for i := range n {
		a, b := real[i*metrics.DlibDim:(i+1)*metrics.DlibDim], recon[i*metrics.DlibDim:(i+1)*metrics.DlibDim]
		dot, na, nb, dist := 0.0, 0.0, 0.0, 0.0
		for k := range a {
			dot += float64(a[k]) * float64(b[k])
			na += float64(a[k]) * float64(a[k])
			nb += float64(b[k]) * float64(b[k])
			dist += float64(a[k]-b[k]) * float64(a[k]-b[k])
		}
		cos += dot / math.Sqrt(na*nb)
		if math.Sqrt(dist) < metrics.DlibSamePerson {
			match++
		}
	}
	e.add("recon/id_similarity", cos/float64(n), "mean cosine similarity of each test image's descriptor and its reconstruction's; "+proto)
	e.add("recon/id_match", float64(match)/float64(n), fmt.Sprintf("share of reconstructions within dlib's same-person distance %.1f of their image's descriptor; ", metrics.DlibSamePerson)+proto)
	labels := e.ds.TestLabels
	if len(labels) < n {
		return
	}
	hit := 0
	for i := range n {
		best, bestD := -1, math.Inf(1)
		for j := range n {
			dist := 0.0
			for k := range metrics.DlibDim {
				v := float64(recon[i*metrics.DlibDim+k] - real[j*metrics.DlibDim+k])
				dist += v * v
			}
			if dist < bestD {
				best, bestD = j, dist
			}
		}
		if labels[best] == labels[i] {
			hit++
		}
	}
	e.add("recon/id_nearest", float64(hit)/float64(n), "share of reconstructions whose nearest real test image (descriptor distance) is the same person; "+proto)
}
