package data

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"image"
	"io"
	"io/fs"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/vaelab/vaelab/internal/jpegturbo"
	"github.com/vaelab/vaelab/internal/progress"
)

// An image collection is a dataset of image files (a Kind that is a
// collection): a folder (name folder, or celeba's extracted
// img_align_celeba) or a zip of them (celeba's img_align_celeba.zip, read
// without extracting). Its images are decoded on
// every core, preprocessed, rounded to 8-bit levels and streamed, in order,
// into the decoded-dataset cache file (or into memory without a cache), so
// the decoded set is held once, as bytes.

// imageSource lists a collection's image files and reads them.
type imageSource interface {
	Len() int
	Name(i int) string          // relative path, for labels and errors
	Read(i int) ([]byte, error) // the file's bytes, bounded by maxImageFileBytes
	Describe() string
	Close() error
}

// progressFunc starts a meter for long data work; nil reports nothing.
type progressFunc func(what string, total int) *progress.Meter

// openImageSource opens a folder or, for a path ending in .zip, a zip.
func openImageSource(c Config, p string) (imageSource, error) {
	if strings.EqualFold(filepath.Ext(p), ".zip") {
		return openZipSource(p)
	}
	return openFolderSource(p)
}

type folderSource struct {
	root  string
	files []string
}

func openFolderSource(root string) (*folderSource, error) {
	// A folder given as a symbolic link is read where it points: WalkDir
	// does not follow a link at its root.
	if real, err := filepath.EvalSymlinks(root); err == nil {
		root = real
	}
	var files []string
	// Symlinked subfolders and files are followed (walkFiles).
	err := walkFiles(root, func(rel string, _ fs.FileInfo) error {
		if isImageFile(rel) {
			files = append(files, rel)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("image folder %s: %w", root, err)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("image folder %s: no .png, .jpg, .jpeg or .pgm files", root)
	}
	sort.Slice(files, func(i, j int) bool { return naturalLess(files[i], files[j]) })
	return &folderSource{root: root, files: files}, nil
}

func (f *folderSource) Len() int          { return len(f.files) }
func (f *folderSource) Name(i int) string { return f.files[i] }
func (f *folderSource) Describe() string  { return "folder " + f.root }
func (f *folderSource) Close() error      { return nil }
func (f *folderSource) Read(i int) ([]byte, error) {
	return ReadRegular(filepath.Join(f.root, f.files[i]), maxImageFileBytes)
}

type zipSource struct {
	path    string
	r       *zip.ReadCloser
	members []*zip.File
	names   []string // without the members' common top folder
}

func openZipSource(p string) (*zipSource, error) {
	f, _, err := openRegular(p, -1) // a FIFO or a device is refused, not read
	if err != nil {
		return nil, err
	}
	f.Close()
	r, err := zip.OpenReader(p)
	if err != nil {
		return nil, fmt.Errorf("zip %s: %w", p, err)
	}
	z := &zipSource{path: p, r: r}
	for _, f := range r.File {
		if !f.FileInfo().IsDir() && isImageFile(f.Name) {
			z.members = append(z.members, f)
		}
	}
	if len(z.members) == 0 {
		r.Close()
		return nil, fmt.Errorf("zip %s: no .png, .jpg, .jpeg or .pgm members", p)
	}
	sort.Slice(z.members, func(i, j int) bool { return naturalLess(z.members[i].Name, z.members[j].Name) })
	top := ""
	if first, _, ok := strings.Cut(z.members[0].Name, "/"); ok {
		top = first + "/"
		for _, f := range z.members {
			if !strings.HasPrefix(f.Name, top) {
				top = ""
				break
			}
		}
	}
	for _, f := range z.members {
		z.names = append(z.names, strings.TrimPrefix(f.Name, top))
	}
	return z, nil
}

func (z *zipSource) Len() int          { return len(z.members) }
func (z *zipSource) Name(i int) string { return z.names[i] }
func (z *zipSource) Describe() string  { return "zip " + z.path }
func (z *zipSource) Close() error      { return z.r.Close() }

// Read reads a member, refusing one whose declared size is past the
// one-image limit before reading it, and one that is damaged (its data
// ends early, or its CRC-32 differs).
func (z *zipSource) Read(i int) ([]byte, error) {
	f := z.members[i]
	if f.UncompressedSize64 > maxImageFileBytes {
		return nil, fmt.Errorf("zip %s: member %s declares %s, more than the %s limit for one image", z.path, f.Name, byteSize(int64(min(f.UncompressedSize64, 1<<62))), byteSize(maxImageFileBytes))
	}
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("zip %s: member %s: %w", z.path, f.Name, err)
	}
	defer rc.Close()
	b := make([]byte, 0, f.UncompressedSize64)
	b, err = readAllLimited(rc, b, maxImageFileBytes)
	if err != nil {
		return nil, fmt.Errorf("zip %s: member %s: %w", z.path, f.Name, err)
	}
	return b, nil
}

func readAllLimited(r io.Reader, b []byte, max int64) ([]byte, error) {
	buf := bytes.NewBuffer(b)
	n, err := buf.ReadFrom(io.LimitReader(r, max+1))
	if err != nil {
		return nil, err
	}
	if n > max {
		return nil, fmt.Errorf("more than the %s limit for one image", byteSize(max))
	}
	return buf.Bytes(), nil
}

func imageConfig(w, h int) image.Config { return image.Config{Width: w, Height: h} }

// jpegDecoderName names the JPEG decoder this process uses: libjpeg-turbo
// when installed (PIL's and torchvision's decoder, four times Go's speed),
// else Go's image/jpeg. The two differ by a level or so (chroma
// upsampling), so it is part of a decoded dataset's cache key and source.
func jpegDecoderName() string {
	if tj, err := jpegturbo.Open(); err == nil {
		return tj.Name()
	}
	return "Go image/jpeg"
}

// decodeScratch is one decoding worker's buffers, kept between images.
type decodeScratch struct {
	raw []byte
	rs  resizer
}

// decodeOne decodes and preprocesses one image file's bytes into 8-bit
// levels, h×w×c.
func decodeOne(b []byte, name string, p Prep, tj *jpegturbo.Lib) ([]byte, [3]int, error) {
	return (&decodeScratch{}).decode(b, name, p, tj)
}

func (sc *decodeScratch) decode(b []byte, name string, p Prep, tj *jpegturbo.Lib) ([]byte, [3]int, error) {
	var pix []float32
	var h, w, c int
	ext := strings.ToLower(filepath.Ext(name))
	if tj != nil && (ext == ".jpg" || ext == ".jpeg") {
		iw, ih, grey, err := tj.Header(b)
		if err == nil {
			err = checkImageSize(name, imageConfig(iw, ih))
		}
		var raw []byte
		if err == nil {
			raw, err = tj.DecodeInto(sc.raw, b, iw, ih, grey)
			sc.raw = raw
		}
		if err != nil {
			return nil, [3]int{}, fmt.Errorf("decode image %s: %w", name, err)
		}
		nc := 3
		if grey {
			nc = 1
		}
		r, err := p.cropRect(ih, iw)
		if err != nil {
			return nil, [3]int{}, fmt.Errorf("%s: %w", name, err)
		}
		if (p.Channels == 0 || p.Channels == nc) && p.Size > 0 && p.Size != r.Dy() {
			// The common case (CelebA): resized straight from the decoded
			// bytes, the same values as through float32 pixels.
			pix = sc.rs.resize(r.Dy(), r.Dx(), nc, p.Size, p.Size, func(y int, row []float64) {
				for i, v := range raw[((r.Min.Y+y)*iw+r.Min.X)*nc : ((r.Min.Y+y)*iw+r.Max.X)*nc] {
					row[i] = float64(levelValues[v])
				}
			})
			return levelsOf(pix), [3]int{p.Size, p.Size, nc}, nil
		}
		pix = make([]float32, 0, r.Dx()*r.Dy()*nc)
		for y := r.Min.Y; y < r.Max.Y; y++ {
			for _, v := range raw[(y*iw+r.Min.X)*nc : (y*iw+r.Max.X)*nc] {
				pix = append(pix, levelValues[v])
			}
		}
		if pix, h, w, c, err = p.applyCropped(pix, r.Dy(), r.Dx(), nc); err != nil {
			return nil, [3]int{}, fmt.Errorf("%s: %w", name, err)
		}
	} else {
		img, err := decodeImage(bytes.NewReader(b), name)
		if err != nil {
			return nil, [3]int{}, err
		}
		if p.Channels == 0 {
			p.Channels = nativeChannels(img)
		}
		px, dims, err := prepareImage(img, p, name)
		if err != nil {
			return nil, [3]int{}, err
		}
		pix, h, w, c = px, dims[0], dims[1], p.Channels
	}
	return levelsOf(pix), [3]int{h, w, c}, nil
}

// levelsOf rounds values to 8-bit levels as quantise does.
func levelsOf(pix []float32) []byte {
	out := make([]byte, len(pix))
	for i, v := range pix {
		out[i] = byte(int(clamp01(float64(v))*255 + 0.5))
	}
	return out
}

// decodeChunk is how many images are decoded between two in-order writes:
// it bounds the memory of decoding to chunk images.
const decodeChunk = 512

// probeShape decodes the first image: its shape is every image's (its
// channels, when p keeps the source's, become p's).
func probeShape(src imageSource, p Prep, tj *jpegturbo.Lib) (Prep, [3]int, error) {
	_, dims, err := readAndDecode(src, 0, p, tj, &decodeScratch{})
	if err != nil {
		return p, dims, err
	}
	if p.Channels == 0 {
		p.Channels = dims[2]
	}
	return p, dims, nil
}

// decodeImages decodes every image of src with p on every core and hands
// each chunk's levels, in order, to put. Every image must have shape dims.
func decodeImages(ctx context.Context, src imageSource, p Prep, tj *jpegturbo.Lib, dims [3]int, meter *progress.Meter, put func(levels []byte) error) error {
	d := dims[0] * dims[1] * dims[2]
	chunk := make([]byte, decodeChunk*d)
	errs := make([]error, decodeChunk)
	scratch := make([]decodeScratch, runtime.GOMAXPROCS(0))
	for start := 0; start < src.Len(); start += decodeChunk {
		n := min(decodeChunk, src.Len()-start)
		next := make(chan int)
		var wg sync.WaitGroup
		for w := range scratch {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := range next {
					i := start + j
					px, got, err := readAndDecode(src, i, p, tj, &scratch[w])
					if err == nil && got != dims {
						err = fmt.Errorf("%s: %s is %dx%dx%d but %s is %dx%dx%d; set dataset.size to resize them",
							src.Describe(), src.Name(i), got[1], got[0], got[2], src.Name(0), dims[1], dims[0], dims[2])
					}
					errs[j] = err
					if err == nil {
						copy(chunk[j*d:(j+1)*d], px)
					}
				}
			}()
		}
	feed:
		for j := range n {
			select {
			case next <- j:
			case <-ctx.Done():
				break feed
			}
		}
		close(next)
		wg.Wait()
		if err := ctx.Err(); err != nil {
			return err
		}
		for _, err := range errs[:n] {
			if err != nil {
				return err
			}
		}
		if err := put(chunk[:n*d]); err != nil {
			return err
		}
		meter.Add(n)
	}
	meter.Done()
	return nil
}

func readAndDecode(src imageSource, i int, p Prep, tj *jpegturbo.Lib, sc *decodeScratch) ([]byte, [3]int, error) {
	b, err := src.Read(i)
	if err != nil {
		return nil, [3]int{}, err
	}
	px, dims, err := sc.decode(b, src.Name(i), p, tj)
	if err != nil {
		return nil, [3]int{}, fmt.Errorf("%s: %w", src.Describe(), err)
	}
	return px, dims, nil
}

// collectionMeta is what a collection knows besides its pixels (its
// Kind's meta: identity labels, an official partition, a description),
// and which JPEG decoder read it.
func collectionMeta(c Config, col collection, src imageSource, p string) (labels, partition []int, source string, err error) {
	names := make([]string, src.Len())
	for i := range names {
		names[i] = src.Name(i)
	}
	if labels, partition, source, err = col.meta(c, names, p); err != nil {
		return nil, nil, "", err
	}
	if hasJPEG(names) {
		source += "; JPEG by " + jpegDecoderName()
	}
	return labels, partition, source, nil
}

func hasJPEG(names []string) bool {
	for _, n := range names {
		if e := strings.ToLower(path.Ext(n)); e == ".jpg" || e == ".jpeg" {
			return true
		}
	}
	return false
}

func (f progressFunc) start(what string, n int) *progress.Meter {
	if f == nil {
		return nil
	}
	return f(what, n)
}

// decodeCollection decodes a collection into levels: streamed into the
// cache file cacheFile when it is set, else into memory.
func decodeCollection(ctx context.Context, c Config, col collection, p string, cacheFile string, meter progressFunc) (*decodedSet, error) {
	src, err := col.open(c, p)
	if err != nil {
		return nil, fmt.Errorf("dataset %s: %w", c.Name, err)
	}
	defer src.Close()
	labels, partition, source, err := collectionMeta(c, col, src, p)
	if err != nil {
		return nil, fmt.Errorf("dataset %s: %w", c.Name, err)
	}
	tj, _ := jpegturbo.Open() // nil: Go's decoders
	prep, dims, err := probeShape(src, c.prep(), tj)
	if err != nil {
		return nil, fmt.Errorf("dataset %s: %w", c.Name, err)
	}
	m := meter.start(fmt.Sprintf("dataset %s: decoding images", c.Name), src.Len())
	hdr := cacheHeader{N: src.Len(), Height: dims[0], Width: dims[1], Channels: dims[2], Labels: labels, Partition: partition, Source: source}
	if cacheFile != "" {
		err := writeCacheStream(cacheFile, hdr, func(w io.Writer) error {
			return decodeImages(ctx, src, prep, tj, dims, m, func(levels []byte) error { _, err := w.Write(levels); return err })
		})
		if err != nil {
			return nil, fmt.Errorf("dataset %s: %w", c.Name, err)
		}
		return nil, nil
	}
	all := make([]byte, 0, hdr.N*dims[0]*dims[1]*dims[2])
	err = decodeImages(ctx, src, prep, tj, dims, m, func(levels []byte) error { all = append(all, levels...); return nil })
	if err != nil {
		return nil, fmt.Errorf("dataset %s: %w", c.Name, err)
	}
	im, err := FromLevels(all, hdr.N, dims[0], dims[1], dims[2])
	if err != nil {
		return nil, err
	}
	return &decodedSet{Images: im, Labels: labels, Partition: partition, Source: source}, nil
}
