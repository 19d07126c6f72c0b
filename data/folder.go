package data

import (
	"context"
	"fmt"
	"image"
	"image/color"
	_ "image/jpeg" // registers JPEG decoding
	_ "image/png"  // registers PNG decoding
	"io"
	"path/filepath"
	"strings"

	"github.com/vaelab/vaelab/internal/jpegturbo"
)

// Folder is an image folder after decoding and preprocessing.
type Folder struct {
	Images Images
	// Files are the image paths relative to the root, in load order.
	Files []string
	// Labels index LabelNames and come from each image's first folder below the
	// root; nil when the images are not all in subfolders.
	Labels     []int
	LabelNames []string
}

// imageExts are the file types the folder loader reads.
func isImageFile(path string) bool {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".png", ".jpg", ".jpeg", ".pgm":
		return true
	}
	return false
}

// LoadFolder reads every PNG, JPEG and PGM file under root, recursively, in
// natural order of their paths (s2 before s10), so the order is the same on
// every machine. Images are converted and resized by p; without a size they
// must all have the first image's size. Without p.Channels, the first image
// decides: grayscale files give 1 channel, colour files 3.
func LoadFolder(ctx context.Context, root string, p Prep) (*Folder, error) {
	src, err := openFolderSource(root)
	if err != nil {
		return nil, err
	}
	tj, _ := jpegturbo.Open() // nil: Go's decoders
	p, dims, err := probeShape(src, p, tj)
	if err != nil {
		return nil, err
	}
	all := make([]byte, 0, src.Len()*dims[0]*dims[1]*dims[2])
	if err := decodeImages(ctx, src, p, tj, dims, nil, func(levels []byte) error { all = append(all, levels...); return nil }); err != nil {
		return nil, err
	}
	im, err := FromLevels(all, src.Len(), dims[0], dims[1], dims[2])
	if err != nil {
		return nil, err
	}
	f := &Folder{Files: src.files, Images: im}
	f.Labels, f.LabelNames = folderLabels(src.files)
	return f, nil
}

// prepareImage applies p to a decoded image. Only the pixels the crops keep
// are converted to values: per-pixel conversions commute with cropping, so
// the result is that of converting every pixel first.
func prepareImage(img image.Image, p Prep, name string) ([]float32, [2]int, error) {
	b := img.Bounds()
	r, err := p.cropRect(b.Dy(), b.Dx())
	if err != nil {
		return nil, [2]int{}, fmt.Errorf("%s: %w", name, err)
	}
	pix, h, w, c := imagePixels(img, r.Add(b.Min))
	pix, h, w, _, err = p.applyCropped(pix, h, w, c)
	if err != nil {
		return nil, [2]int{}, fmt.Errorf("%s: %w", name, err)
	}
	return pix, [2]int{h, w}, nil
}

// decodeImageFile decodes a PNG, JPEG or PGM file.
// Its declared size is checked against MaxImagePixels before any pixel is
// allocated; only regular files are opened.
func decodeImageFile(path string) (image.Image, error) {
	fh, _, err := openRegular(path, maxImageFileBytes)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	return decodeImage(fh, path)
}

// decodeImage decodes a PGM (by name), PNG or JPEG image from r.
func decodeImage(r io.ReadSeeker, name string) (image.Image, error) {
	var img image.Image
	var err error
	if strings.EqualFold(filepath.Ext(name), ".pgm") {
		img, err = decodePGM(r) // its header is checked against the same limit
	} else {
		cfg, _, cerr := image.DecodeConfig(r)
		if cerr != nil {
			return nil, fmt.Errorf("decode image %s: %w", name, cerr)
		}
		if err := checkImageSize(name, cfg); err != nil {
			return nil, err
		}
		if _, err := r.Seek(0, io.SeekStart); err != nil {
			return nil, err
		}
		img, _, err = image.Decode(r)
	}
	if err != nil {
		return nil, fmt.Errorf("decode image %s: %w", name, err)
	}
	if b := img.Bounds(); b.Dx() == 0 || b.Dy() == 0 {
		return nil, fmt.Errorf("decode image %s: empty image", name)
	}
	return img, nil
}

// nativeChannels is 1 for grayscale images and 3 otherwise.
func nativeChannels(img image.Image) int {
	switch img.ColorModel() {
	case color.GrayModel, color.Gray16Model:
		return 1
	}
	return 3
}

// imagePixels returns the pixels of an image inside r in [0, 1], row-major,
// channel-last: grey images as one channel, others as RGB. JPEG's YCbCr and
// the common RGBA layouts are read from their planes, with the conversions
// of their color types' RGBA methods, so the values are those of img.At.
func imagePixels(img image.Image, r image.Rectangle) ([]float32, int, int, int) {
	h, w := r.Dy(), r.Dx()
	switch m := img.(type) {
	case *image.Gray:
		out := make([]float32, 0, h*w)
		for y := r.Min.Y; y < r.Max.Y; y++ {
			o := m.PixOffset(r.Min.X, y)
			for _, v := range m.Pix[o : o+w] {
				out = append(out, float32(v)/255)
			}
		}
		return out, h, w, 1
	case *image.YCbCr:
		out := make([]float32, 0, h*w*3)
		for y := r.Min.Y; y < r.Max.Y; y++ {
			for x := r.Min.X; x < r.Max.X; x++ {
				yi, ci := m.YOffset(x, y), m.COffset(x, y)
				cr, cg, cb, _ := color.YCbCr{Y: m.Y[yi], Cb: m.Cb[ci], Cr: m.Cr[ci]}.RGBA()
				out = append(out, float32(cr)/65535, float32(cg)/65535, float32(cb)/65535)
			}
		}
		return out, h, w, 3
	case *image.RGBA:
		if opaque(m) {
			out := make([]float32, 0, h*w*3)
			for y := r.Min.Y; y < r.Max.Y; y++ {
				o := m.PixOffset(r.Min.X, y)
				for i := o; i < o+4*w; i += 4 {
					cr, cg, cb, _ := color.RGBA{m.Pix[i], m.Pix[i+1], m.Pix[i+2], 255}.RGBA()
					out = append(out, float32(cr)/65535, float32(cg)/65535, float32(cb)/65535)
				}
			}
			return out, h, w, 3
		}
	}
	c := nativeChannels(img)
	out := make([]float32, 0, h*w*c)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			cr, cg, cb, _ := img.At(x, y).RGBA()
			if c == 1 {
				out = append(out, float32(cr)/65535)
			} else {
				out = append(out, float32(cr)/65535, float32(cg)/65535, float32(cb)/65535)
			}
		}
	}
	return out, h, w, c
}

func opaque(m *image.RGBA) bool {
	for i := 3; i < len(m.Pix); i += 4 {
		if m.Pix[i] != 255 {
			return false
		}
	}
	return true
}

// folderLabels labels each file by its first folder below the root, numbering
// the folders in natural order. No labels when any file is directly in the root.
func folderLabels(files []string) ([]int, []string) {
	ids := map[string]int{}
	var names []string
	labels := make([]int, len(files))
	for i, f := range files {
		top, _, nested := strings.Cut(filepath.ToSlash(f), "/")
		if !nested {
			return nil, nil
		}
		id, ok := ids[top]
		if !ok {
			id = len(names)
			ids[top] = id
			names = append(names, top)
		}
		labels[i] = id
	}
	return labels, names
}

// naturalLess orders strings with digit runs compared by value: "s2/1.pgm" <
// "s10/1.pgm", "1.pgm" < "2.pgm" < "10.pgm".
func naturalLess(a, b string) bool {
	for a != "" && b != "" {
		da, db := isDigit(a[0]), isDigit(b[0])
		if da && db {
			na, ra := digitRun(a)
			nb, rb := digitRun(b)
			ta, tb := strings.TrimLeft(na, "0"), strings.TrimLeft(nb, "0")
			if len(ta) != len(tb) {
				return len(ta) < len(tb)
			}
			if ta != tb {
				return ta < tb
			}
			a, b = ra, rb
			continue
		}
		if a[0] != b[0] {
			return a[0] < b[0]
		}
		a, b = a[1:], b[1:]
	}
	return len(a) < len(b)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func digitRun(s string) (string, string) {
	i := 0
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	return s[:i], s[i:]
}
