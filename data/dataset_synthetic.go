package data

import (
	"fmt"
	"math/rand/v2"
)

// SyntheticVersion names the face renderer. Change it whenever the pixels a seed
// produces change, so stored results are never compared across renderers by accident.
const SyntheticVersion = "synthfaces-v1"

// SyntheticFactorNames are the generative factors of the synthetic faces, in the
// order they are stored. Each is drawn independently and uniformly from [0, 1].
func SyntheticFactorNames() []string {
	return []string{
		"face_width", "skin_tone", "eye_spacing", "eye_openness",
		"mouth_curvature", "hair_length", "pose", "light_direction",
	}
}

// supersample is the number of sub-pixel samples per axis; edges are anti-aliased
// by averaging them.
const supersample = 4

// Synthetic renders n grayscale size×size faces whose factors are drawn from seed.
// The result depends only on (n, size, seed): pixels are quantised to 8 bits, so
// the same arguments give the same bytes on every machine.
func Synthetic(n, size int, seed uint64) (Images, *Factors, error) {
	if n <= 0 {
		return Images{}, nil, fmt.Errorf("synthetic faces: count %d must be positive", n)
	}
	if size < 8 || size > 512 {
		return Images{}, nil, fmt.Errorf("synthetic faces: size %d must be in [8, 512]", size)
	}
	if err := CheckFits(syntheticBytes(n, size), fmt.Sprintf("%d synthetic faces of %dx%d", n, size, size), "lower dataset.count or dataset.size"); err != nil {
		return Images{}, nil, err
	}
	rng := rand.New(rand.NewPCG(seed, 0xfacef00d))
	k := len(SyntheticFactorNames())
	f := &Factors{Names: SyntheticFactorNames(), Values: make([]float64, n*k)}
	for i := range f.Values {
		f.Values[i] = rng.Float64()
	}
	im := Images{N: n, Height: size, Width: size, Channels: 1, Pix: make([]float32, n*size*size)}
	for i := range n {
		renderFace(im.At(i), size, newFace(f.Row(i)))
	}
	return im, f, nil
}

// face holds one face's geometry in normalised coordinates: u, v in [-1, 1],
// u to the right, v downwards.
type face struct {
	cx, cy, a, b      float64 // face ellipse centre and half-axes
	skin, light       float64
	eyeDX, eyeY, eyeR float64 // eye offset from the feature centre, eye half-height
	featX             float64 // horizontal centre of eyes, nose and mouth (pose)
	mouthY, mouthCurv float64
	hairLow           float64 // lowest v the hair reaches beside the face
}

func newFace(x []float64) face {
	pose := 2*x[6] - 1
	f := face{
		cx:        0.12 * pose,
		cy:        0.08,
		a:         0.46 + 0.20*x[0],
		b:         0.70,
		skin:      0.45 + 0.40*x[1],
		eyeDX:     0.14 + 0.12*x[2],
		eyeR:      0.015 + 0.075*x[3],
		mouthCurv: 2*x[4] - 1,
		hairLow:   -0.30 + 0.95*x[5],
		light:     2*x[7] - 1,
	}
	f.featX = f.cx + 0.22*pose
	f.eyeY = f.cy - 0.18
	f.mouthY = f.cy + 0.38
	return f
}

// shade returns the intensity at (u, v): shapes painted back to front.
func (f face) shade(u, v float64) float64 {
	const background, hair, eye, mouth = 0.92, 0.12, 0.04, 0.18
	val := background - 0.10*(v+1)/2 // faint vertical gradient behind the head
	// Hair: a larger ellipse behind the face, cut off below hairLow.
	hu, hv := (u-f.cx)/(f.a+0.16), (v-f.cy+0.06)/(f.b+0.10)
	if hu*hu+hv*hv <= 1 && v <= f.cy+f.hairLow {
		val = hair
	}
	du, dv := (u-f.cx)/f.a, (v-f.cy)/f.b
	if du*du+dv*dv > 1 {
		return val
	}
	// Skin, lit from one side, with a fringe of hair over the forehead.
	val = f.skin * (1 + 0.35*f.light*du)
	if v < f.cy-0.55*f.b {
		val = hair
	}
	// Eyes: two ellipses whose height is the openness.
	for _, side := range [2]float64{-1, 1} {
		eu, ev := (u-f.featX-side*f.eyeDX)/0.10, (v-f.eyeY)/f.eyeR
		if eu*eu+ev*ev <= 1 {
			val = eye
		}
	}
	// Nose: a faint shadow.
	nu, nv := (u-f.featX)/0.05, (v-f.cy-0.08)/0.12
	if nu*nu+nv*nv <= 1 {
		val *= 0.8
	}
	// Mouth: a parabolic band; positive curvature smiles (corners up).
	mu := (u - f.featX) / 0.26
	if mu >= -1 && mu <= 1 {
		centre := f.mouthY - 0.12*f.mouthCurv*(mu*mu-0.5)
		if d := v - centre; d >= -0.035 && d <= 0.035 {
			val = mouth
		}
	}
	return clamp01(val)
}

func renderFace(dst []float32, size int, f face) {
	inv := 1 / float64(size*supersample)
	for y := range size {
		for x := range size {
			sum := 0.0
			for sy := range supersample {
				for sx := range supersample {
					u := 2*(float64(x*supersample+sx)+0.5)*inv - 1
					v := 2*(float64(y*supersample+sy)+0.5)*inv - 1
					sum += f.shade(u, v)
				}
			}
			dst[y*size+x] = quantise(sum / (supersample * supersample))
		}
	}
}

// quantise rounds to the nearest of 256 levels, as an 8-bit image would store it.
func quantise(v float64) float32 {
	return float32(int(clamp01(v)*255+0.5)) / 255
}

func clamp01(v float64) float64 {
	if v < 0 {
		return 0
	}
	if v > 1 {
		return 1
	}
	return v
}

// syntheticFaces is one draw of synthetic faces and their factors, before
// the split; Loaders share it between runs.
type syntheticFaces struct {
	im Images
	f  *Factors
}

func drawFaces(c Config) (*syntheticFaces, error) {
	im, f, err := Synthetic(c.Count, c.Size, c.Seed)
	if err != nil {
		return nil, err
	}
	return &syntheticFaces{im: im, f: f}, nil
}

func (s *syntheticFaces) split(c Config) (*Dataset, error) {
	im, f := s.im, s.f
	nTest, err := testCount(im.N, c.TestFraction)
	if err != nil {
		return nil, fmt.Errorf("dataset.test_fraction: %w", err)
	}
	// Synthetic faces are independent draws, so the last block is as fair a test
	// set as a random one; "random" is honoured when asked for.
	train, test := BlockSplit(im.N, nTest)
	if c.split() == "random" {
		train, test = RandomSplit(im.N, nTest, c.Seed)
	}
	return &Dataset{
		Name:  c.Name,
		Train: im.Subset(train), Test: im.Subset(test),
		TrainFactors: f.subset(train), TestFactors: f.subset(test),
		Source: fmt.Sprintf("%s size=%d count=%d seed=%d, %s split", SyntheticVersion, c.Size, c.Count, c.Seed, c.split()),
	}, nil
}

// syntheticBytes is what n faces of size×size take while a run holds them:
// float32 pixels, and as much again for the train/test split's copies.
func syntheticBytes(n, size int) int64 { return 2 * 4 * int64(n) * int64(size) * int64(size) }

// DefaultConfig is the built-in dataset: synthetic faces (4000 of 32×32 once
// resolved).
func DefaultConfig() Config {
	return Config{Name: "synthetic", TestFraction: 0.1, Seed: 1}
}

// syntheticSet is dataset.name synthetic: procedural faces with known
// factors, made from the settings (no file), shared by every run of a
// sweep through the Loader.
type syntheticSet struct{}

func (syntheticSet) Doc() string {
	return "procedural grey faces with 8 known generative factors, any size (built in, no download); size 32, count 4000 unless set; block split"
}

func (syntheticSet) resolve(c Config) Config {
	if c.Size == 0 {
		c.Size = 32
	}
	if c.Count == 0 {
		c.Count = 4000
	}
	return c
}

func (syntheticSet) check(c Config) error {
	if c.Size < 8 || c.Size > 512 {
		return fmt.Errorf("dataset.size: %d must be between 8 and 512", c.Size)
	}
	if c.Count < 2 || c.Count > 10_000_000 {
		return fmt.Errorf("dataset.count: %d must be between 2 and 10000000", c.Count)
	}
	if c.Channels > 1 || c.Crop != 0 || c.Path != "" || c.URL != "" {
		return fmt.Errorf("dataset: synthetic faces are grayscale and take no channels, crop, path or url")
	}
	return nil
}

// Synthetic faces are independent draws, so the last block is as fair a
// test set as a random one; they have no identities.
func (syntheticSet) splits() []string { return []string{"block", "random"} }

func (syntheticSet) path(c Config, dataDir string) string { return specPath(c, dataDir) }

func (syntheticSet) generate(l *Loader, c Config) (*Dataset, error) {
	// Drawing thousands of faces takes about as long as a short run trains,
	// so every run of a sweep shares one draw.
	key := fmt.Sprintf("%d|%d|%d", c.Count, c.Size, c.Seed)
	faces, err := l.faces.Get(key, func() (*syntheticFaces, error) { return drawFaces(c) })
	if err != nil {
		return nil, err
	}
	return faces.split(c)
}

func (syntheticSet) trainCount(c Config) (int, error) {
	if c.Count == 0 {
		return 0, fmt.Errorf("dataset %s: size unknown until loaded", c.Name)
	}
	return trainShare(c.Count, c)
}

func (syntheticSet) splitSizes(c Config) (train, test int, ok bool) {
	test, err := testCount(c.Count, c.TestFraction)
	if err != nil {
		return 0, 0, false
	}
	return c.Count - test, test, true
}

// checkMemory refuses, at plan time, faces that would not fit in
// MemoryLimit: their size is known before they are made.
func (syntheticSet) checkMemory(c Config) error {
	return CheckFits(syntheticBytes(c.Count, c.Size), fmt.Sprintf("dataset: %d synthetic faces of %dx%d", c.Count, c.Size, c.Size), "lower dataset.count or dataset.size")
}
