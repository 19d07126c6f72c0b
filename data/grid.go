package data

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
)

// Grid tiles images into a picture with cols columns, each pixel drawn as a
// scale×scale block, separated by a one-block border.
func Grid(im Images, cols, scale int) (image.Image, error) {
	if im.N == 0 || cols <= 0 || scale <= 0 {
		return nil, fmt.Errorf("image grid: %d images, %d columns, scale %d", im.N, cols, scale)
	}
	if im.Channels != 1 && im.Channels != 3 {
		return nil, fmt.Errorf("image grid: %d channels", im.Channels)
	}
	rows := (im.N + cols - 1) / cols
	cw, ch := (im.Width+1)*scale, (im.Height+1)*scale
	out := image.NewRGBA(image.Rect(0, 0, cols*cw+scale, rows*ch+scale))
	for i := range out.Pix {
		out.Pix[i] = 255 // white border
	}
	for i := range im.N {
		ox, oy := (i%cols)*cw+scale, (i/cols)*ch+scale
		px := im.At(i)
		for y := range im.Height {
			for x := range im.Width {
				c := pixelColor(px, (y*im.Width+x)*im.Channels, im.Channels)
				for dy := range scale {
					for dx := range scale {
						out.SetRGBA(ox+x*scale+dx, oy+y*scale+dy, c)
					}
				}
			}
		}
	}
	return out, nil
}

func pixelColor(px []float32, off, channels int) color.RGBA {
	to8 := func(v float32) uint8 { return uint8(clamp01(float64(v))*255 + 0.5) }
	if channels == 1 {
		g := to8(px[off])
		return color.RGBA{g, g, g, 255}
	}
	return color.RGBA{to8(px[off]), to8(px[off+1]), to8(px[off+2]), 255}
}

// WriteGridPNG writes Grid(im, cols, scale) as a PNG: grey images as a
// grey PNG, compressed for speed (grids are written at every evaluation).
func WriteGridPNG(w io.Writer, im Images, cols, scale int) error {
	g, err := Grid(im, cols, scale)
	if err != nil {
		return err
	}
	if rgba, ok := g.(*image.RGBA); ok && im.Channels == 1 {
		grey := image.NewGray(rgba.Bounds())
		for i := range grey.Pix {
			grey.Pix[i] = rgba.Pix[4*i]
		}
		g = grey
	}
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	return enc.Encode(w, g)
}
