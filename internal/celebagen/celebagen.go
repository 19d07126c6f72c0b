// Package celebagen writes datasets laid out as CelebA is (aligned JPEGs of
// 178×218 named 000001.jpg…, img_align_celeba.zip, list_eval_partition.txt)
// with procedural faces, for tests and measurements at CelebA's size.
package celebagen

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"image"
	"image/jpeg"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sync"
)

// Width and Height are CelebA's aligned image size.
const Width, Height = 178, 218

// Full is the number of images in CelebA; TrainEnd and ValidEnd end its
// official train and validation partitions (1-based numbering, inclusive).
const (
	Full     = 202599
	TrainEnd = 162770
	ValidEnd = 182637
)

// Partition is image i's (1-based) official partition in a set of n
// images: 0 train, 1 validation, 2 test, in CelebA's proportions.
func Partition(i, n int) int {
	switch {
	case i <= TrainEnd*n/Full:
		return 0
	case i <= ValidEnd*n/Full:
		return 1
	}
	return 2
}

// Name is image i's file name (1-based).
func Name(i int) string { return fmt.Sprintf("%06d.jpg", i) }

// Face draws image i: a lit ellipse on a graded background with texture,
// its shape, colours and pose varying with i.
func Face(i int) *image.RGBA {
	rng := rand.New(rand.NewPCG(uint64(i), 0xce1eba))
	img := image.NewRGBA(image.Rect(0, 0, Width, Height))
	cx, cy := 89+rng.NormFloat64()*6, 118+rng.NormFloat64()*6
	rx, ry := 48+rng.Float64()*14, 62+rng.Float64()*14
	skin := [3]float64{150 + rng.Float64()*90, 110 + rng.Float64()*70, 90 + rng.Float64()*60}
	bg := [3]float64{rng.Float64() * 255, rng.Float64() * 255, rng.Float64() * 255}
	light := rng.Float64()*2 - 1
	marks := [][3]float64{{cx - rx*0.4, cy - ry*0.2, 7}, {cx + rx*0.4, cy - ry*0.2, 7}, {cx, cy + ry*0.45, 9}}
	seed := rng.Uint64()
	for y := range Height {
		for x := range Width {
			dx, dy := (float64(x)-cx)/rx, (float64(y)-cy)/ry
			inside := dx*dx+dy*dy < 1
			shade := 1 + 0.25*light*dx
			seed = seed*6364136223846793005 + 1442695040888963407 // texture, as photographs have
			var c [3]float64
			for k := range 3 {
				if inside {
					c[k] = skin[k] * shade
				} else {
					c[k] = bg[k] * (0.6 + 0.4*float64(y)/Height)
				}
				c[k] += float64(int(seed>>(40+8*k))&7) - 4
			}
			for _, e := range marks {
				if ex, ey := float64(x)-e[0], (float64(y)-e[1])*1.8; ex*ex+ey*ey < e[2]*e[2] {
					c = [3]float64{40, 30, 30}
				}
			}
			o := img.PixOffset(x, y)
			img.Pix[o], img.Pix[o+1], img.Pix[o+2], img.Pix[o+3] = clamp(c[0]), clamp(c[1]), clamp(c[2]), 255
		}
	}
	return img
}

func clamp(v float64) uint8 { return uint8(math.Max(0, math.Min(255, math.Round(v)))) }

// encoded returns image i as a JPEG (quality 90).
func encoded(i int) ([]byte, error) {
	var b bytes.Buffer
	err := jpeg.Encode(&b, Face(i), &jpeg.Options{Quality: 90})
	return b.Bytes(), err
}

// each encodes images 1..n on every core and hands them to put in order.
func each(ctx context.Context, n int, put func(i int, b []byte) error) error {
	const window = 256
	type result struct {
		b   []byte
		err error
	}
	for start := 1; start <= n; start += window {
		end := min(n, start+window-1)
		res := make([]result, end-start+1)
		var wg sync.WaitGroup
		next := make(chan int)
		for range runtime.NumCPU() {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range next {
					b, err := encoded(i)
					res[i-start] = result{b, err}
				}
			}()
		}
		for i := start; i <= end; i++ {
			next <- i
		}
		close(next)
		wg.Wait()
		if err := ctx.Err(); err != nil {
			return err
		}
		for j, r := range res {
			if r.err != nil {
				return r.err
			}
			if err := put(start+j, r.b); err != nil {
				return err
			}
		}
	}
	return nil
}

// Write writes n images, each encoded once, as dir/img_align_celeba.zip
// (members img_align_celeba/NNNNNN.jpg, deflated as the official archive
// is) when asZip is set, as dir/img_align_celeba/NNNNNN.jpg when asFolder is
// set, and the partition file dir/list_eval_partition.txt.
func Write(ctx context.Context, dir string, n int, asZip, asFolder bool) (err error) {
	imgs := filepath.Join(dir, "img_align_celeba")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if asFolder {
		if err := os.MkdirAll(imgs, 0o755); err != nil {
			return err
		}
	}
	var zw *zip.Writer
	if asZip {
		f, err := os.Create(filepath.Join(dir, "img_align_celeba.zip"))
		if err != nil {
			return err
		}
		defer func() {
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}()
		zw = zip.NewWriter(f) // buffers itself
	}
	err = each(ctx, n, func(i int, b []byte) error {
		if asFolder {
			if err := os.WriteFile(filepath.Join(imgs, Name(i)), b, 0o644); err != nil {
				return err
			}
		}
		if zw == nil {
			return nil
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: "img_align_celeba/" + Name(i), Method: zip.Deflate})
		if err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	})
	if err == nil && zw != nil {
		err = zw.Close()
	}
	if err != nil {
		return err
	}
	return WritePartition(filepath.Join(dir, "list_eval_partition.txt"), n)
}

// WritePartition writes CelebA's list_eval_partition.txt for n images.
func WritePartition(path string, n int) error {
	var b bytes.Buffer
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "%s %d\n", Name(i), Partition(i, n))
	}
	return os.WriteFile(path, b.Bytes(), 0o644)
}
