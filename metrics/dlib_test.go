package metrics

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/vaelab/vaelab/data"
	"github.com/vaelab/vaelab/internal/testenv"
)

// orlFaces reads ORL photographs (92×112 8-bit PGM) as the loaders do:
// float32(b)/255.
func orlFaces(t *testing.T, names []string) data.Images {
	t.Helper()
	dir := filepath.Join(testenv.SharedData(t, "orl_att"), "orl_att")
	im := data.Images{Height: 112, Width: 92, Channels: 1}
	for _, name := range names {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		const header = "P5\n92 112\n255\n"
		if !strings.HasPrefix(string(b), header) || len(b) != len(header)+92*112 {
			t.Fatalf("%s: not a 92x112 8-bit PGM", name)
		}
		for _, v := range b[len(header):] {
			im.Pix = append(im.Pix, float32(v)/255)
		}
		im.N++
	}
	return im
}

// The Go port gives face-api's descriptors (its JavaScript on TF.js's CPU
// backend, testdata/dlib/reference.cjs) on 8 real faces to 1e-4.
func TestDlibMatchesFaceAPI(t *testing.T) {
	var ref struct {
		Faces       []string    `json:"faces"`
		Descriptors [][]float64 `json:"descriptors"`
	}
	b, err := os.ReadFile(filepath.Join("testdata", "dlib", "reference.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &ref); err != nil || len(ref.Faces) < 8 {
		t.Fatalf("reference: %v, %d faces", err, len(ref.Faces))
	}
	net, err := LoadDlib(testenv.DlibWeights(t))
	if err != nil {
		t.Fatal(err)
	}
	faces := orlFaces(t, ref.Faces)
	one, err := net.Descriptors(context.Background(), faces)
	if err != nil {
		t.Fatal(err)
	}
	// The same faces as two sets of one pass, batched differently.
	split, err := net.DescriptorsOf(context.Background(), faces.First(3), faces.Subset([]int{3, 4, 5, 6, 7}))
	if err != nil {
		t.Fatal(err)
	}
	for name, got := range map[string][]float32{"one set": one, "two sets": append(split[0], split[1]...)} {
		worst := 0.0
		for i, want := range ref.Descriptors {
			for j, w := range want {
				worst = math.Max(worst, math.Abs(float64(got[i*DlibDim+j])-w))
			}
		}
		t.Logf("%s: %d faces, largest |Go − face-api| = %.2g", name, len(ref.Faces), worst)
		if worst > 1e-4 {
			t.Errorf("%s: descriptors differ from face-api's by up to %.3g (want ≤ 1e-4)", name, worst)
		}
	}
}

// A damaged or foreign file, a manifest that does not match the binary's
// size, or a tensor of the wrong shape is an error naming the file; no
// network comes back.
func TestDlibRefusesBadWeights(t *testing.T) {
	src := testenv.DlibWeights(t)
	manifest, err := os.ReadFile(filepath.Join(src, DlibManifestFile))
	if err != nil {
		t.Fatal(err)
	}
	bin, err := os.ReadFile(filepath.Join(src, DlibWeightsFile))
	if err != nil {
		t.Fatal(err)
	}
	write := func(m, b []byte) string {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, DlibManifestFile), m, 0o644)
		os.WriteFile(filepath.Join(dir, DlibWeightsFile), b, 0o644)
		return dir
	}
	flipped := append([]byte(nil), bin...)
	flipped[1000] ^= 1
	if _, err := LoadDlib(write(manifest, flipped)); err == nil || !strings.Contains(err.Error(), DlibWeightsFile) || !strings.Contains(err.Error(), "sha256") {
		t.Errorf("a damaged weights file: %v", err)
	}
	if _, err := LoadDlib(write(manifest, bin[:len(bin)-10])); err == nil || !strings.Contains(err.Error(), DlibWeightsFile) {
		t.Errorf("a truncated weights file: %v", err)
	}
	if _, err := LoadDlib(t.TempDir()); err == nil || !strings.Contains(err.Error(), "vaelab data fetch dlib-face") {
		t.Errorf("no files: %v", err)
	}
	// Past the checksums: the decoding checks themselves.
	short := strings.Replace(string(manifest), `"shape": [256, 128]`, `"shape": [255, 128]`, 1)
	short = strings.Replace(short, `"shape":[256,128]`, `"shape":[255,128]`, 1)
	if short == string(manifest) {
		t.Fatal("the manifest has no fc shape to alter")
	}
	if _, err := decodeDlib([]byte(short), bin, "m.json"); err == nil || !strings.Contains(err.Error(), "m.json") || !strings.Contains(err.Error(), "bytes") {
		t.Errorf("a manifest that does not match the binary: %v", err)
	}
	padded := append(append([]byte(nil), bin...), make([]byte, 256)...)
	if _, err := decodeDlib([]byte(short), padded[:len(bin)-128], "m.json"); err == nil || !strings.Contains(err.Error(), "fc has shape [255 128]") {
		t.Errorf("a tensor of the wrong shape: %v", err)
	}
	if _, err := decodeDlib([]byte("[]"), bin, "m.json"); err == nil || !strings.Contains(err.Error(), "m.json") {
		t.Errorf("an empty manifest: %v", err)
	}
}

// BenchmarkDlibDescriptors measures descriptors per second on Olivetti-size
// faces (64×64 grey) with the process's BLAS.
func BenchmarkDlibDescriptors(b *testing.B) {
	net, err := LoadDlib(testenv.DlibWeights(b))
	if err != nil {
		b.Fatal(err)
	}
	im := data.Images{N: 32, Height: 64, Width: 64, Channels: 1, Pix: make([]float32, 32*64*64)}
	for i := range im.Pix {
		im.Pix[i] = float32(i%251) / 251
	}
	b.ResetTimer()
	for range b.N {
		if _, err := net.Descriptors(context.Background(), im); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*im.N)/b.Elapsed().Seconds(), "images/s")
}

// The descriptor separates people on our faces: ORL's 400 photographs of 40
// people, verification by descriptor distance (same person vs different),
// ROC AUC ≥ 0.90.
func TestDlibVerifiesORLPeople(t *testing.T) {
	if testing.Short() {
		t.Skip("400 descriptors")
	}
	net, err := LoadDlib(testenv.DlibWeights(t))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	var person []int
	for s := 1; s <= 40; s++ {
		for i := 1; i <= 10; i++ {
			names = append(names, fmt.Sprintf("s%d/%d.pgm", s, i))
			person = append(person, s)
		}
	}
	d, err := net.Descriptors(context.Background(), orlFaces(t, names))
	if err != nil {
		t.Fatal(err)
	}
	v, err := VerifyPeople(d, DlibDim, person)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("ORL verification ROC AUC %.4f over %d same-person and %d different pairs; %.1f%% of same-person pairs within dlib's 0.6", v.AUC, v.Same, v.Diff, 100*v.SameWithin)
	if v.AUC < 0.90 {
		t.Errorf("ROC AUC %.4f, want ≥ 0.90", v.AUC)
	}
}

// VerifyPeople's AUC by sorting equals the count over every (same, different)
// pair of distances, ties half; and the degenerate cases are what they must be.
func TestVerifyPeople(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	desc := make([]float32, 30*2)
	person := make([]int, 30)
	for i := range person {
		person[i] = i % 4
		for k := range 2 {
			desc[i*2+k] = float32(person[i]) + float32(math.Round(rng.NormFloat64()*2))/2 // coarse: ties happen
		}
	}
	v, err := VerifyPeople(desc, 2, person)
	if err != nil {
		t.Fatal(err)
	}
	var same, diff []float64
	for i := range person {
		for j := i + 1; j < len(person); j++ {
			dx, dy := float64(desc[i*2]-desc[j*2]), float64(desc[i*2+1]-desc[j*2+1])
			d := math.Sqrt(dx*dx + dy*dy)
			if person[i] == person[j] {
				same = append(same, d)
			} else {
				diff = append(diff, d)
			}
		}
	}
	wins := 0.0
	for _, s := range same {
		for _, d := range diff {
			switch {
			case s < d:
				wins++
			case s == d:
				wins += 0.5
			}
		}
	}
	if want := wins / float64(len(same)*len(diff)); math.Abs(v.AUC-want) > 1e-12 || v.Same != len(same) || v.Diff != len(diff) {
		t.Errorf("AUC %v over %d/%d pairs, the pair count gives %v over %d/%d", v.AUC, v.Same, v.Diff, want, len(same), len(diff))
	}
	apart := []float32{0, 0, 0.1, 0, 5, 5, 5.1, 5}
	if v, _ := VerifyPeople(apart, 2, []int{1, 1, 2, 2}); v.AUC != 1 || v.SameWithin != 1 {
		t.Errorf("separated people: %+v, want AUC 1, all same pairs within 0.6", v)
	}
	if _, err := VerifyPeople(apart, 2, []int{1, 2, 3, 4}); err == nil {
		t.Error("no same-person pair: no error")
	}
}

// In dlib's face space the Fréchet distance between two disjoint random
// sets of 150 Olivetti faces is small, and it grows monotonically with each
// of Heusel et al.'s disturbances over their four levels, to at least 3
// times the real-vs-real value.
func TestFDDlibWorsensWithEachDisturbance(t *testing.T) {
	testenv.Full(t, "fd_dlib over Heusel et al.'s disturbances: 3,150 face descriptors, 16 s on one core")
	net, err := LoadDlib(testenv.DlibWeights(t))
	if err != nil {
		t.Fatal(err)
	}
	im := olivetti(t)
	ctx := context.Background()
	perm := rand.New(rand.NewPCG(7, 8)).Perm(im.N)
	half1, half2 := im.Subset(perm[:150]), im.Subset(perm[150:300])
	features := func(x data.Images) *mat.Dense {
		d, err := net.Descriptors(ctx, x)
		if err != nil {
			t.Fatal(err)
		}
		v := make([]float64, len(d))
		for i, f := range d {
			v[i] = float64(f)
		}
		return mat.NewDense(x.N, DlibDim, v)
	}
	f1 := features(half1)
	fd := func(x data.Images) float64 {
		v, err := FrechetFeatures(f1, features(x))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	base := fd(half2)
	for _, d := range Disturbances() {
		prev, line := base, fmt.Sprintf("%-16s halves %.4f", d.Name, base)
		for _, level := range d.Levels {
			s := fd(d.Apply(half2, level, rand.New(rand.NewPCG(9, 9))))
			line += fmt.Sprintf(" | %g: %.4f", level, s)
			if !(s > prev) {
				t.Errorf("%s: fd_dlib does not grow from %.4g to %.4g at level %g", d.Name, prev, s, level)
			}
			prev = s
		}
		if !(prev > 3*base) {
			t.Errorf("%s: fd_dlib at the strongest level %.4g is not well above the halves' %.4g", d.Name, prev, base)
		}
		t.Log(line)
	}
}

func TestBalancedBatch(t *testing.T) {
	for _, c := range []struct{ n, limit, workers, want int }{
		{40, 16, 2, 10}, {32, 16, 2, 16}, {1000, 16, 2, 16}, {1, 16, 2, 1}, {17, 16, 1, 9}, {3, 16, 4, 3}, {100, 16, 3, 12},
	} {
		got := balancedBatch(c.n, c.limit, c.workers)
		nb := (c.n + got - 1) / got
		if got != c.want || got > c.limit {
			t.Errorf("balancedBatch(%d, %d, %d) = %d (%d batches), want %d", c.n, c.limit, c.workers, got, nb, c.want)
		}
	}
}
