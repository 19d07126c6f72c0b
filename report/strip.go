package report

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"html/template"
	"image"
	"image/draw"
	"image/png"
	"slices"
	"strings"

	"github.com/vaelab/vaelab/evaluate"
	"github.com/vaelab/vaelab/record"
)

// The side-by-side strip puts one row of images per configuration and
// sampler under each other, cut from the grids evaluation stored, so blur
// can be compared by eye. Evaluation draws a run's samples from its seed's
// stream (vae.StreamSamples) and reconstructs the first test images of the
// split, so runs of one seed share the test images and, for the standard
// prior at the same latent size, the very latent draws. The strip therefore
// shows, for every configuration, the run of one seed they all finished.

// StripRow is one row of the strip: a configuration (and sampler) and the
// first row of its grid.
type StripRow struct {
	Label, Detail string
	Image         Grid
}

// Strip is a section's side-by-side comparison.
type Strip struct {
	Note      string
	Originals *Grid      // the test images every reconstruction row shows
	Recon     []StripRow // one per configuration
	Samples   []StripRow // one per configuration and sampler
}

// representatives picks, per group, the finished run whose grids stand for
// it: the run of the smallest seed that every group with a finished run
// has finished (so the strip compares like with like), else each group's
// first finished run. ok says whether a common seed was found.
func representatives(groups []*Group) (reps []*record.RunInfo, seed uint64, ok bool) {
	var common []uint64
	first := true
	for _, g := range groups {
		var seeds []uint64
		for _, r := range g.Runs {
			if r.Status == record.StatusDone {
				seeds = append(seeds, r.Seed)
			}
		}
		if len(seeds) == 0 {
			continue
		}
		if first {
			common, first = seeds, false
			continue
		}
		common = slices.DeleteFunc(common, func(s uint64) bool { return !slices.Contains(seeds, s) })
	}
	if len(common) > 0 {
		seed, ok = slices.Min(common), true
	}
	for _, g := range groups {
		var rep *record.RunInfo
		for i, r := range g.Runs {
			if r.Status == record.StatusDone && (!ok || r.Seed == seed) {
				rep = &g.Runs[i]
				break
			}
		}
		reps = append(reps, rep)
	}
	return reps, seed, ok
}

// tileGeometry finds the rows of tiles in a grid that data.Grid drew:
// tiles separated and framed by borders of s white rows every p rows.
// It returns p and s, or ok false for a picture of another layout.
func tileGeometry(img image.Image) (p, s int, ok bool) {
	b := img.Bounds()
	h := b.Dy()
	white := make([]bool, h)
	for y := range h {
		white[y] = true
		for x := b.Min.X; x < b.Max.X && white[y]; x++ {
			r, g, bl, _ := img.At(x, b.Min.Y+y).RGBA()
			white[y] = r == 0xffff && g == 0xffff && bl == 0xffff
		}
	}
	// vaelab writes grids at scale 2; other scales are tried after it.
	for _, s := range []int{2, 1, 3, 4} {
		for p := s + 1; p+s <= h; p++ {
			if (h-s)%p != 0 {
				continue
			}
			good := true
			for k := 0; k*p < h && good; k++ {
				for y := k * p; y < k*p+s && good; y++ {
					good = white[y]
				}
			}
			if good {
				return p, s, true
			}
		}
	}
	return 0, 0, false
}

// cropRows cuts tile row k (0-based) of a grid, with its borders, as a
// PNG data URI; ok false when the grid has no such row or an unknown layout.
func cropRows(img image.Image, k int) (template.URL, bool) {
	p, s, ok := tileGeometry(img)
	if !ok || (k+1)*p+s > img.Bounds().Dy() {
		return "", false
	}
	b := img.Bounds()
	r := image.Rect(b.Min.X, b.Min.Y+k*p, b.Max.X, b.Min.Y+(k+1)*p+s)
	out := image.NewRGBA(image.Rect(0, 0, r.Dx(), r.Dy()))
	draw.Draw(out, out.Bounds(), img, r.Min, draw.Src)
	var buf bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&buf, out); err != nil {
		return "", false
	}
	return template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes())), true
}

// decodeArtifact reads an artifact (checked against its checksum) and
// decodes it; problem says why not.
func decodeArtifact(a record.Artifact) (image.Image, string) {
	b, problem := readArtifact(a)
	if problem != "" {
		return nil, problem
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Sprintf("image file is not a PNG: %v", err)
	}
	return img, ""
}

// buildStrip cuts the strip from the representatives' grids: the first row
// of test images once, each configuration's reconstructions of them (the
// second row of its reconstruction grid) and each sampler's first row of
// samples.
func buildStrip(groups []*Group, repArts []map[string]record.Artifact, seed uint64, common bool) *Strip {
	s := &Strip{}
	cut := func(a record.Artifact, k int, label, detail string) StripRow {
		row := StripRow{Label: label, Detail: detail, Image: Grid{Kind: a.Kind}}
		img, problem := decodeArtifact(a)
		if problem != "" {
			row.Image.Problem = problem
			return row
		}
		uri, ok := cropRows(img, k)
		if !ok {
			row.Image.Problem = "the grid's layout was not recognised; its whole grid is under Images per configuration"
			return row
		}
		row.Image.URI = uri
		return row
	}
	for i, g := range groups {
		arts := repArts[i]
		if a, ok := arts["reconstructions"]; ok {
			if s.Originals == nil {
				o := cut(a, 0, "", "").Image
				s.Originals = &o
			}
			s.Recon = append(s.Recon, cut(a, 1, g.Label, "sharpness "+FormatStat(g.Stats["recon/sharpness_laplacian"], true, 3)))
		}
		for _, kind := range withSamplerGrids(arts, "samples") {
			name := "prior"
			if n, ok := strings.CutPrefix(kind, "samples_"); ok {
				name = n
			}
			key := evaluate.SamplerKey(name, "samples/sharpness_laplacian")
			s.Samples = append(s.Samples, cut(arts[kind], 0, g.Label+" · "+name, "sharpness "+FormatStat(g.Stats[key], true, 3)))
		}
	}
	if s.Originals == nil && len(s.Samples) == 0 {
		return nil
	}
	if common {
		s.Note = fmt.Sprintf("Every row comes from the run of seed %d of its configuration: the same test images, and sample draws from the same random stream (the same latents for the standard prior at equal latent size; other samplers and priors map that stream to their own latents).", seed)
	} else {
		s.Note = "No seed was finished by every configuration, so each row comes from its configuration's first finished run: the test images are the same, the sample draws are not."
	}
	return s
}
