package metrics

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"sync"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"

	"github.com/vaelab/vaelab/data"
	"github.com/vaelab/vaelab/internal/blaslib"
	"github.com/vaelab/vaelab/internal/safefile"
)

// The dlib face descriptor: dlib's face-recognition ResNet (29 convolutions,
// 150×150 RGB in, a 128-d descriptor out; weights public domain), with the
// weights and the preprocessing of the npm package @vladmandic/face-api
// 1.7.15, whose JavaScript (src/faceRecognitionNet) this port follows
// layer by layer: images padded to a square (centred) and resized to 150×150
// bilinearly (TF.js resizeBilinear, no corner alignment, no half-pixel
// centres), grey replicated to RGB, the mean (122.782, 117.001, 104.298) of
// 0–255 values subtracted and the result divided by 255; then a 7×7/2 conv,
// a 3×3/2 max-pool, residual blocks of 3×3 convs at 32/64/128/256 channels
// whose "down" blocks shortcut through a 2×2 average pool padded with zero
// channels, every conv followed by its bias and a per-channel scale and
// shift, a global mean and a 256×128 product. Float32, NHWC, batched; the
// convolutions are BLAS products (the BLAS the process set up): the "same"
// ones on the 35×35 and 17×17 maps as 3 filter-row products over the
// zero-padded maps (convSame), the others as one im2col product.
const (
	DlibWeightsFile    = data.DlibWeightsFile
	DlibManifestFile   = data.DlibManifestFile
	DlibWeightsSHA256  = data.DlibWeightsSHA256
	DlibManifestSHA256 = data.DlibManifestSHA256
	dlibSide           = 150
	DlibDim            = 128
	// DlibSamePerson is dlib's threshold on the Euclidean distance of two
	// descriptors below which they are taken for the same person.
	DlibSamePerson = 0.6
)

var dlibMean = [3]float32{122.782, 117.001, 104.298}

// DlibNet is the network with its weights.
type DlibNet struct {
	t    map[string]dlibTensor
	conv map[string]dlibConv // by layer prefix, scale folded in
	bufs sync.Pool           // *dlibBuffers, kept between calls
}

// dlibConv is one conv layer with its per-channel scale folded into the
// filters and bias: (x∗f + b)·s + t = x∗(f·s) + (b·s + t), one pass less.
type dlibConv struct {
	k, cout int
	f, b    []float32
}

type dlibTensor struct {
	shape []int
	v     []float32
}

type dlibManifest []struct {
	Paths   []string `json:"paths"`
	Weights []struct {
		Name         string `json:"name"`
		Shape        []int  `json:"shape"`
		DType        string `json:"dtype"`
		Quantization *struct {
			DType string  `json:"dtype"`
			Scale float64 `json:"scale"`
			Min   float64 `json:"min"`
		} `json:"quantization"`
	} `json:"weights"`
}

// LoadDlib reads the weights from dir (the two files of the package's
// model folder), checking both files' sha256, the manifest against the
// binary's size and every tensor the network uses against its shape: a
// damaged or foreign file is an error naming it, and no partial network is
// returned.
func LoadDlib(dir string) (*DlibNet, error) {
	read := func(name, sum string) ([]byte, error) {
		path := filepath.Join(dir, name)
		b, err := safefile.Read(path, safefile.MaxWeights)
		if err != nil {
			return nil, fmt.Errorf("dlib face descriptor: %w (vaelab data fetch dlib-face installs it)", err)
		}
		if got := sha256.Sum256(b); hex.EncodeToString(got[:]) != sum {
			return nil, fmt.Errorf("dlib face descriptor: %s has sha256 %s, not face-api 1.7.15's %s: a damaged or foreign file; fetch it again with vaelab data fetch dlib-face", path, hex.EncodeToString(got[:]), sum)
		}
		return b, nil
	}
	mb, err := read(DlibManifestFile, DlibManifestSHA256)
	if err != nil {
		return nil, err
	}
	bin, err := read(DlibWeightsFile, DlibWeightsSHA256)
	if err != nil {
		return nil, err
	}
	return decodeDlib(mb, bin, filepath.Join(dir, DlibManifestFile))
}

// decodeDlib dequantises the weights as TF.js does: value = min + scale·q in
// double precision, stored as float32.
func decodeDlib(manifest, bin []byte, where string) (*DlibNet, error) {
	var m dlibManifest
	if err := json.Unmarshal(manifest, &m); err != nil || len(m) != 1 {
		return nil, fmt.Errorf("dlib face descriptor: manifest %s is not a one-group TF.js weights manifest (%v)", where, err)
	}
	net := &DlibNet{t: map[string]dlibTensor{}}
	off := 0
	for _, w := range m[0].Weights {
		n := 1
		for _, d := range w.Shape {
			n *= d
		}
		t := dlibTensor{shape: w.Shape, v: make([]float32, n)}
		switch {
		case w.Quantization != nil && w.Quantization.DType == "uint8":
			if off+n > len(bin) {
				return nil, fmt.Errorf("dlib face descriptor: manifest %s needs %d bytes for %s, the weights file ends at %d", where, off+n, w.Name, len(bin))
			}
			for i := range n {
				t.v[i] = float32(float64(bin[off+i])*w.Quantization.Scale + w.Quantization.Min)
			}
			off += n
		case w.Quantization == nil && w.DType == "float32":
			if off+4*n > len(bin) {
				return nil, fmt.Errorf("dlib face descriptor: manifest %s needs %d bytes for %s, the weights file ends at %d", where, off+4*n, w.Name, len(bin))
			}
			for i := range n {
				b := bin[off+4*i:]
				t.v[i] = math.Float32frombits(uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24)
			}
			off += 4 * n
		default:
			return nil, fmt.Errorf("dlib face descriptor: manifest %s: tensor %s has an encoding this port does not read", where, w.Name)
		}
		net.t[w.Name] = t
	}
	if off != len(bin) {
		return nil, fmt.Errorf("dlib face descriptor: manifest %s describes %d bytes, the weights file has %d", where, off, len(bin))
	}
	if err := net.checkShapes(); err != nil {
		return nil, fmt.Errorf("dlib face descriptor: manifest %s: %w", where, err)
	}
	net.foldScales()
	return net, nil
}

// dlibBlocks are the residual blocks in order, with their output channels
// and whether they go down.
var dlibBlocks = []struct {
	name string
	ch   int
	down bool
}{
	{"conv32_1", 32, false}, {"conv32_2", 32, false}, {"conv32_3", 32, false},
	{"conv64_down", 64, true}, {"conv64_1", 64, false}, {"conv64_2", 64, false}, {"conv64_3", 64, false},
	{"conv128_down", 128, true}, {"conv128_1", 128, false}, {"conv128_2", 128, false},
	{"conv256_down", 256, true}, {"conv256_1", 256, false}, {"conv256_2", 256, false}, {"conv256_down_out", 256, true},
}

// DlibFLOPs is the network's floating-point operations per image (two per
// multiply-add of its convolutions and final product), for speed figures.
func DlibFLOPs() float64 {
	conv := func(side, k, cin, cout int) float64 { return 2 * float64(side*side*k*k*cin*cout) }
	side := (dlibSide-7)/2 + 1
	total := conv(side, 7, 3, 32)
	side = (side-3)/2 + 1 // max-pool
	in := 32
	for _, b := range dlibBlocks {
		if b.down {
			side = (side-3)/2 + 1
		}
		total += conv(side, 3, in, b.ch) + conv(side, 3, b.ch, b.ch)
		in = b.ch
	}
	return total + 2*256*DlibDim
}

func (n *DlibNet) foldScales() {
	n.conv = map[string]dlibConv{}
	prefixes := []string{"conv32_down"}
	for _, b := range dlibBlocks {
		prefixes = append(prefixes, b.name+"/conv1", b.name+"/conv2")
	}
	for _, p := range prefixes {
		f := n.t[p+"/conv/filters"]
		bias, sw, sb := n.t[p+"/conv/bias"].v, n.t[p+"/scale/weights"].v, n.t[p+"/scale/biases"].v
		c := dlibConv{k: f.shape[0], cout: f.shape[3], f: make([]float32, len(f.v)), b: make([]float32, len(bias))}
		for i, v := range f.v {
			c.f[i] = v * sw[i%c.cout]
		}
		for ch := range c.b {
			c.b[ch] = bias[ch]*sw[ch] + sb[ch]
		}
		n.conv[p] = c
	}
}

func (n *DlibNet) checkShapes() error {
	want := map[string][]int{"conv32_down/conv/filters": {7, 7, 3, 32}, "fc": {256, DlibDim}}
	conv := func(prefix string, k, in, out int) {
		want[prefix+"/conv/filters"] = []int{k, k, in, out}
		for _, s := range []string{"/conv/bias", "/scale/weights", "/scale/biases"} {
			want[prefix+s] = []int{out}
		}
	}
	conv("conv32_down", 7, 3, 32)
	in := 32
	for _, b := range dlibBlocks {
		conv(b.name+"/conv1", 3, in, b.ch)
		conv(b.name+"/conv2", 3, b.ch, b.ch)
		in = b.ch
	}
	for name, shape := range want {
		t, ok := n.t[name]
		if !ok {
			return fmt.Errorf("tensor %s is missing", name)
		}
		if fmt.Sprint(t.shape) != fmt.Sprint(shape) {
			return fmt.Errorf("tensor %s has shape %v, the network needs %v", name, t.shape, shape)
		}
	}
	return nil
}

// fmap is a batch of feature maps, NHWC.
type fmap struct {
	n, h, w, c int
	v          []float32
}

// dlibBatch bounds the images pushed through the network at once.
const dlibBatch = 16

// Descriptors returns each image's 128-d descriptor (n × 128, row-major).
func (n *DlibNet) Descriptors(ctx context.Context, im data.Images) ([]float32, error) {
	d, err := n.DescriptorsOf(ctx, im)
	if err != nil {
		return nil, err
	}
	return d[0], nil
}

// DescriptorsOf returns the descriptors of several image sets of one shape
// in one pass, so that small sets keep every core busy.
func (n *DlibNet) DescriptorsOf(ctx context.Context, sets ...data.Images) ([][]float32, error) {
	if len(sets) == 0 {
		return nil, fmt.Errorf("dlib descriptors: no images")
	}
	type item struct{ set, i int }
	var items []item
	for s, im := range sets {
		if im.N == 0 {
			return nil, fmt.Errorf("dlib descriptors: no images")
		}
		if im.Channels != 1 && im.Channels != 3 {
			return nil, fmt.Errorf("dlib descriptors: %d channels; want grey or RGB images", im.Channels)
		}
		if im.Height != sets[0].Height || im.Width != sets[0].Width || im.Channels != sets[0].Channels {
			return nil, fmt.Errorf("dlib descriptors: sets of %d×%d×%d and %d×%d×%d images in one pass", sets[0].Height, sets[0].Width, sets[0].Channels, im.Height, im.Width, im.Channels)
		}
		for i := range im.N {
			items = append(items, item{s, i})
		}
	}
	out := make([][]float32, len(sets))
	for s, im := range sets {
		out[s] = make([]float32, im.N*DlibDim)
	}
	// Batches go to one goroutine per usable core (not per P: the BLAS setup
	// adds a spare one): the BLAS runs single-threaded (vaelab's workers
	// parallelise runs), and each batch's products are independent.
	workers := blaslib.Cores()
	size := balancedBatch(len(items), dlibBatch, workers)
	batches := make(chan []item)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf, _ := n.bufs.Get().(*dlibBuffers)
			if buf == nil {
				buf = &dlibBuffers{}
			}
			defer n.bufs.Put(buf)
			for batch := range batches {
				im := data.Images{N: len(batch), Height: sets[0].Height, Width: sets[0].Width, Channels: sets[0].Channels}
				im.Pix = make([]float32, 0, im.N*im.Dim())
				for _, it := range batch {
					im.Pix = append(im.Pix, sets[it.set].At(it.i)...)
				}
				d := n.forward(buf, dlibInput(buf, im))
				for j, it := range batch {
					copy(out[it.set][it.i*DlibDim:(it.i+1)*DlibDim], d[j*DlibDim:])
				}
			}
		}()
	}
	var err error
	for start := 0; start < len(items); start += size {
		if err = ctx.Err(); err != nil {
			break
		}
		batches <- items[start:min(start+size, len(items))]
	}
	close(batches)
	wg.Wait()
	if err != nil {
		return nil, err
	}
	return out, nil
}

// balancedBatch is the batch size, at most limit, that splits n images into
// a multiple of workers batches of near-equal size: 40 images on 2 workers
// are 4 batches of 10, not 16, 16 and 8 (one worker idle for a third).
func balancedBatch(n, limit, workers int) int {
	nb := (n + limit - 1) / limit
	if n >= workers {
		nb = (nb + workers - 1) / workers * workers
	}
	return max(1, (n+nb-1)/nb)
}

// dlibInput is the network's input for images with values in [0, 1]: 0–255
// RGB, padded to a square, resized to 150×150, normalised. Grey images are
// resized once and replicated: the channels of RGB are resized
// independently, so this is the same as resizing the replicated image.
func dlibInput(buf *dlibBuffers, im data.Images) fmap {
	x := fmap{n: im.N, h: dlibSide, w: dlibSide, c: 3, v: buf.get(im.N * dlibSide * dlibSide * 3)[:0]}
	side := max(im.Height, im.Width)
	for i := range im.N {
		px := im.At(i)
		v255 := make([]float32, len(px))
		for j, v := range px {
			v255[j] = float32(float64(v) * 255)
		}
		r := resizeBilinearTF(padSquare(v255, im.Height, im.Width, im.Channels), side, side, im.Channels, dlibSide, dlibSide)
		for p := range dlibSide * dlibSide {
			for ch := range 3 {
				v := r[p*im.Channels+min(ch, im.Channels-1)]
				d := float32(float64(v) - float64(dlibMean[ch]))
				x.v = append(x.v, float32(float64(d)/255))
			}
		}
	}
	return x
}

// padSquare pads the shorter side with zeros, half before (rounded down)
// and the rest after, as face-api's padToSquare with centring.
func padSquare(px []float32, h, w, c int) []float32 {
	if h == w {
		return px
	}
	side := max(h, w)
	diff := side - min(h, w)
	after := int(math.Round(float64(diff) * 0.5))
	before := diff - after
	out := make([]float32, side*side*c)
	for y := range h {
		oy, ox := y, 0
		if h < w {
			oy += before
		} else {
			ox += before
		}
		copy(out[(oy*side+ox)*c:], px[y*w*c:(y+1)*w*c])
	}
	return out
}

// resizeBilinearTF is TF.js's CPU resizeBilinear with alignCorners and
// halfPixelCenters false: source coordinate = (in/out)·dst, interpolated in
// double precision, stored as float32.
func resizeBilinearTF(src []float32, h, w, c, oh, ow int) []float32 {
	if h == oh && w == ow {
		return src
	}
	out := make([]float32, oh*ow*c)
	rh, rw := float64(h)/float64(oh), float64(w)/float64(ow)
	for y := range oh {
		fy := rh * float64(y)
		top, bottom := min(h-1, int(math.Floor(fy))), min(h-1, int(math.Ceil(fy)))
		dy := fy - math.Floor(fy)
		for x := range ow {
			fx := rw * float64(x)
			left, right := min(w-1, int(math.Floor(fx))), min(w-1, int(math.Ceil(fx)))
			dx := fx - math.Floor(fx)
			for k := range c {
				tl, tr := float64(src[(top*w+left)*c+k]), float64(src[(top*w+right)*c+k])
				bl, br := float64(src[(bottom*w+left)*c+k]), float64(src[(bottom*w+right)*c+k])
				t := tl + (tr-tl)*dx
				b := bl + (br-bl)*dx
				out[(y*ow+x)*c+k] = float32(t + (b-t)*dy)
			}
		}
	}
	return out
}

// dlibBuffers recycles one worker's buffers between layers and batches:
// a fresh large slice costs page faults and a clear each time.
type dlibBuffers struct{ free [][]float32 }

// get returns n floats of unspecified value, from the smallest free buffer
// that holds them.
func (b *dlibBuffers) get(n int) []float32 {
	best := -1
	for i, f := range b.free {
		if cap(f) >= n && (best < 0 || cap(f) < cap(b.free[best])) {
			best = i
		}
	}
	if best < 0 {
		return make([]float32, n)
	}
	f := b.free[best]
	b.free = append(b.free[:best], b.free[best+1:]...)
	return f[:n]
}

func (b *dlibBuffers) zeros(n int) []float32 {
	f := b.get(n)
	clear(f)
	return f
}

func (b *dlibBuffers) put(f []float32) { b.free = append(b.free, f) }

func (n *DlibNet) forward(buf *dlibBuffers, x fmap) []float32 {
	x = n.convLayer(buf, x, "conv32_down", 2, false, true)
	pooled := maxPool3s2(buf, x)
	buf.put(x.v)
	x = pooled
	for _, b := range dlibBlocks {
		if b.down {
			x = n.residualDown(buf, x, b.name)
		} else {
			x = n.residual(buf, x, b.name)
		}
	}
	// Global mean, then the 256×128 product.
	mean := make([]float32, x.n*x.c)
	for i := range x.n {
		for p := range x.h * x.w {
			for k := range x.c {
				mean[i*x.c+k] += x.v[(i*x.h*x.w+p)*x.c+k]
			}
		}
	}
	for i := range mean {
		mean[i] /= float32(x.h * x.w)
	}
	buf.put(x.v)
	fc := n.t["fc"]
	out := make([]float32, x.n*DlibDim)
	sgemm(x.n, DlibDim, x.c, mean, fc.v, out)
	return out
}

func (n *DlibNet) residual(buf *dlibBuffers, x fmap, name string) fmap {
	mid := n.convLayer(buf, x, name+"/conv1", 1, true, true)
	out := n.convLayer(buf, mid, name+"/conv2", 1, true, false)
	buf.put(mid.v)
	for i := range out.v {
		out.v[i] = max(0, out.v[i]+x.v[i])
	}
	buf.put(x.v)
	return out
}

func (n *DlibNet) residualDown(buf *dlibBuffers, x fmap, name string) fmap {
	mid := n.convLayer(buf, x, name+"/conv1", 2, false, true)
	out := n.convLayer(buf, mid, name+"/conv2", 1, true, false)
	buf.put(mid.v)
	pooled := dlibAvgPool2(buf, x)
	buf.put(x.v)
	if pooled.h != out.h || pooled.w != out.w {
		grown := padBottomRight(buf, out, pooled.h, pooled.w)
		buf.put(out.v)
		out = grown
	}
	for i := range pooled.n {
		for p := range pooled.h * pooled.w {
			for k := range out.c {
				j := (i*out.h*out.w+p)*out.c + k
				if k < pooled.c {
					out.v[j] += pooled.v[(i*pooled.h*pooled.w+p)*pooled.c+k]
				}
				out.v[j] = max(0, out.v[j])
			}
		}
	}
	buf.put(pooled.v)
	return out
}

// convLayer is a conv (stride 1 with "same" padding, or "valid" when same
// is false) with its folded bias and scale, and a ReLU when relu is set.
func (n *DlibNet) convLayer(buf *dlibBuffers, x fmap, prefix string, stride int, same, relu bool) fmap {
	c := n.conv[prefix]
	if same && stride == 1 && x.h >= sameGridMin {
		return convSame(buf, x, c, relu)
	}
	out := convIm2col(buf, x, c, stride, same)
	addBias(out.v, out.v, c.b, relu)
	return out
}

// sameGridMin is the smallest map side convolved on the padded grid: on
// smaller maps the padding's extra positions (a 10×10 grid for 8×8 maps)
// cost more than im2col's copies.
const sameGridMin = 16

// addBias writes src + b (per channel, rows of len(b)) to dst, through a
// ReLU when relu is set.
func addBias(dst, src, b []float32, relu bool) {
	for r := 0; r < len(src); r += len(b) {
		row, out := src[r:r+len(b)], dst[r:r+len(b)]
		for ch, v := range row {
			v += b[ch]
			if relu {
				v = max(0, v)
			}
			out[ch] = v
		}
	}
}

// convSame is a stride-1 convolution with "same" padding as k products,
// one per filter row, with no full im2col: the batch is zero-padded once
// and each padded position gathers its row of k taps (k·c contiguous
// floats, kx = 0…k−1); filter row ky is then one product of the gathered
// matrix, read from row offset ky·(W+2p), with the contiguous block of
// the filters for (ky, 0…k−1). The products run on the padded grid and the
// valid positions are kept. Against one product per tap, the inner
// dimension is k times longer (about 1.4× the speed on 32 channels).
func convSame(buf *dlibBuffers, x fmap, c dlibConv, relu bool) fmap {
	k, cout := c.k, c.cout
	pad := (k - 1) / 2
	ph, pw := x.h+2*pad, x.w+2*pad
	m := x.n * ph * pw
	rows := m + (k-1)*pw // room for the last filter rows' overhang
	p := buf.zeros((rows + k) * x.c)
	for i := range x.n {
		for y := range x.h {
			copy(p[((i*ph+y+pad)*pw+pad)*x.c:], x.v[((i*x.h+y)*x.w)*x.c:((i*x.h+y)*x.w+x.w)*x.c])
		}
	}
	kc := k * x.c
	g := buf.get(rows * kc)
	for r := range rows {
		copy(g[r*kc:(r+1)*kc], p[r*x.c:])
	}
	acc := buf.get(m * cout)
	for ky := range k {
		beta := float32(1)
		if ky == 0 {
			beta = 0
		}
		w := c.f[ky*kc*cout : (ky+1)*kc*cout]
		blas32.Implementation().Sgemm(blas.NoTrans, blas.NoTrans, m, cout, kc, 1, g[ky*pw*kc:(ky*pw+m)*kc], kc, w, cout, beta, acc, cout)
	}
	out := fmap{n: x.n, h: x.h, w: x.w, c: cout, v: buf.get(x.n * x.h * x.w * cout)}
	for i := range x.n {
		for y := range x.h {
			addBias(out.v[((i*x.h+y)*x.w)*cout:((i*x.h+y)*x.w+x.w)*cout], acc[((i*ph+y)*pw)*cout:((i*ph+y)*pw+x.w)*cout], c.b, relu)
		}
	}
	buf.put(p)
	buf.put(g)
	buf.put(acc)
	return out
}

// convIm2col is a convolution by im2col and one product: "same" or
// "valid" padding, any stride. NHWC makes each filter row's taps (ky fixed,
// kx varying) one contiguous span of the input, so a row is copied at once.
func convIm2col(buf *dlibBuffers, x fmap, c dlibConv, stride int, same bool) fmap {
	k, cout := c.k, c.cout
	pad := 0
	if same {
		pad = (k - 1) / 2
	}
	oh, ow := (x.h+2*pad-k)/stride+1, (x.w+2*pad-k)/stride+1
	kk := k * k * x.c
	cols := buf.get(x.n * oh * ow * kk)
	for i := range x.n {
		for oy := range oh {
			for ox := range ow {
				row := cols[((i*oh+oy)*ow+ox)*kk:]
				ix0 := ox*stride - pad
				lo, hi := max(0, -ix0), min(k, x.w-ix0) // taps inside the map
				for ky := range k {
					taps := row[ky*k*x.c : (ky+1)*k*x.c]
					iy := oy*stride + ky - pad
					if iy < 0 || iy >= x.h || lo >= hi {
						clear(taps)
						continue
					}
					clear(taps[:lo*x.c])
					copy(taps[lo*x.c:], x.v[((i*x.h+iy)*x.w+ix0+lo)*x.c:((i*x.h+iy)*x.w+ix0+hi)*x.c])
					clear(taps[hi*x.c:])
				}
			}
		}
	}
	out := fmap{n: x.n, h: oh, w: ow, c: cout, v: buf.get(x.n * oh * ow * cout)}
	sgemm(x.n*oh*ow, cout, kk, cols, c.f, out.v)
	buf.put(cols)
	return out
}

func maxPool3s2(buf *dlibBuffers, x fmap) fmap {
	oh, ow := (x.h-3)/2+1, (x.w-3)/2+1
	out := fmap{n: x.n, h: oh, w: ow, c: x.c, v: buf.get(x.n * oh * ow * x.c)}
	for i := range x.n {
		for oy := range oh {
			for ox := range ow {
				dst := out.v[((i*oh+oy)*ow+ox)*x.c : ((i*oh+oy)*ow+ox+1)*x.c]
				copy(dst, x.v[((i*x.h+oy*2)*x.w+ox*2)*x.c:])
				for dy := range 3 {
					for dx := range 3 {
						src := x.v[((i*x.h+oy*2+dy)*x.w+ox*2+dx)*x.c:]
						src = src[:len(dst)]
						for k, v := range src {
							dst[k] = max(dst[k], v)
						}
					}
				}
			}
		}
	}
	return out
}

func dlibAvgPool2(buf *dlibBuffers, x fmap) fmap {
	oh, ow := (x.h-2)/2+1, (x.w-2)/2+1
	out := fmap{n: x.n, h: oh, w: ow, c: x.c, v: buf.get(x.n * oh * ow * x.c)}
	for i := range x.n {
		for oy := range oh {
			for ox := range ow {
				for k := range x.c {
					s := float32(0)
					for dy := range 2 {
						for dx := range 2 {
							s += x.v[((i*x.h+oy*2+dy)*x.w+ox*2+dx)*x.c+k]
						}
					}
					out.v[((i*oh+oy)*ow+ox)*x.c+k] = s / 4
				}
			}
		}
	}
	return out
}

// padBottomRight grows maps to h×w with zero rows and columns at the end.
func padBottomRight(buf *dlibBuffers, x fmap, h, w int) fmap {
	out := fmap{n: x.n, h: h, w: w, c: x.c, v: buf.zeros(x.n * h * w * x.c)}
	for i := range x.n {
		for y := range x.h {
			copy(out.v[((i*h+y)*w)*x.c:], x.v[((i*x.h+y)*x.w)*x.c:((i*x.h+y)*x.w+x.w)*x.c])
		}
	}
	return out
}

// sgemm is c = a·b for row-major a (m×k) and b (k×n), through blas32.
func sgemm(m, n, k int, a, b, c []float32) {
	blas32.Implementation().Sgemm(blas.NoTrans, blas.NoTrans, m, n, k, 1, a, k, b, n, 0, c, n)
}
