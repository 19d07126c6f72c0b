package metrics

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
	got, err := net.Descriptors(context.Background(), orlFaces(t, ref.Faces))
	if err != nil {
		t.Fatal(err)
	}
	worst := 0.0
	for i, want := range ref.Descriptors {
		for j, w := range want {
			worst = math.Max(worst, math.Abs(float64(got[i*DlibDim+j])-w))
		}
	}
	t.Logf("%d faces, largest |Go − face-api| = %.2g", len(ref.Faces), worst)
	if worst > 1e-4 {
		t.Errorf("descriptors differ from face-api's by up to %.3g (want ≤ 1e-4)", worst)
	}
}
