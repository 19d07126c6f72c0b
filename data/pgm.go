package data

import (
	"bufio"
	"bytes"
	"fmt"
	"image"
	"io"
	"strconv"
)

// decodePGM reads a binary (P5) or plain (P2) PGM image with 8- or 16-bit samples.
func decodePGM(r io.Reader) (*image.Gray, error) {
	br := bufio.NewReader(r)
	magic, err := pgmToken(br)
	if err != nil || (magic != "P5" && magic != "P2") {
		return nil, fmt.Errorf("not a PGM image: magic %q, want P5 or P2", magic)
	}
	var vals [3]int
	for i, what := range []string{"width", "height", "maxval"} {
		tok, err := pgmToken(br)
		if err != nil {
			return nil, fmt.Errorf("PGM header: %s: %w", what, err)
		}
		if vals[i], err = strconv.Atoi(tok); err != nil || vals[i] <= 0 || vals[i] > 65535 {
			return nil, fmt.Errorf("PGM header: %s %q", what, tok)
		}
	}
	w, h, maxval := vals[0], vals[1], vals[2]
	if w*h > MaxImagePixels {
		return nil, fmt.Errorf("PGM image of %dx%d is more than the %d-pixel limit (8192x8192) for one image; resize it first", w, h, MaxImagePixels)
	}
	img := image.NewGray(image.Rect(0, 0, w, h))
	scale := func(v int) uint8 { return uint8((v*255 + maxval/2) / maxval) }
	if magic == "P2" {
		for i := range img.Pix {
			tok, err := pgmToken(br)
			if err != nil {
				return nil, fmt.Errorf("PGM data truncated at pixel %d of %d", i, w*h)
			}
			v, err := strconv.Atoi(tok)
			if err != nil || v < 0 || v > maxval {
				return nil, fmt.Errorf("PGM pixel %d: %q", i, tok)
			}
			img.Pix[i] = scale(v)
		}
		return img, nil
	}
	bps := 1
	if maxval > 255 {
		bps = 2
	}
	buf := make([]byte, w*h*bps)
	if n, err := io.ReadFull(br, buf); err != nil {
		return nil, fmt.Errorf("PGM data truncated: %d of %d bytes", n, len(buf))
	}
	for i := range img.Pix {
		v := int(buf[i])
		if bps == 2 {
			v = int(buf[2*i])<<8 | int(buf[2*i+1])
		}
		if v > maxval {
			return nil, fmt.Errorf("PGM pixel %d is %d, above maxval %d", i, v, maxval)
		}
		img.Pix[i] = scale(v)
	}
	return img, nil
}

// pgmToken reads the next whitespace-separated header token, skipping comments.
// After the maxval token it consumes exactly one whitespace byte, as P5 requires.
func pgmToken(br *bufio.Reader) (string, error) {
	var tok bytes.Buffer
	for {
		c, err := br.ReadByte()
		if err != nil {
			if tok.Len() > 0 {
				return tok.String(), nil
			}
			return "", fmt.Errorf("unexpected end of file")
		}
		switch {
		case c == '#' && tok.Len() == 0:
			if _, err := br.ReadString('\n'); err != nil {
				return "", fmt.Errorf("unexpected end of file in a comment")
			}
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			if tok.Len() > 0 {
				return tok.String(), nil
			}
		default:
			if tok.Len() > 16 {
				return "", fmt.Errorf("header token too long")
			}
			tok.WriteByte(c)
		}
	}
}
