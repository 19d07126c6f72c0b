package data

import (
	"encoding/binary"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
)

// LoadNPY decodes a NumPy .npy array of images: shape (N, H, W) for grayscale
// or (N, H, W, C) with C = 1 or 3. Formats 1.0, 2.0 and 3.0; dtypes uint8
// (scaled by /255) and float32/float64 in either byte order (values must lie
// in [0, 1]); C or Fortran order.
func LoadNPY(path string) (Images, error) {
	b, err := ReadRegular(path, 0)
	if err != nil {
		return Images{}, fmt.Errorf("load npy: %w", err)
	}
	im, err := decodeNPY(b)
	if err != nil {
		return Images{}, fmt.Errorf("load npy %s: %w", path, err)
	}
	return im, nil
}

var (
	npyDescr   = regexp.MustCompile(`'descr'\s*:\s*'([<>|=])([uif])(\d+)'`)
	npyFortran = regexp.MustCompile(`'fortran_order'\s*:\s*(True|False)`)
	npyShape   = regexp.MustCompile(`'shape'\s*:\s*\(([^)]*)\)`)
)

func decodeNPY(b []byte) (Images, error) {
	if len(b) < 10 || string(b[:6]) != "\x93NUMPY" {
		return Images{}, fmt.Errorf("not a .npy file: missing the \\x93NUMPY magic")
	}
	var hlen, start int
	switch b[6] {
	case 1:
		hlen, start = int(binary.LittleEndian.Uint16(b[8:])), 10
	case 2, 3:
		if len(b) < 12 {
			return Images{}, fmt.Errorf("truncated header")
		}
		hlen, start = int(binary.LittleEndian.Uint32(b[8:])), 12
	default:
		return Images{}, fmt.Errorf("format version %d.%d is not supported (1.0, 2.0, 3.0 are)", b[6], b[7])
	}
	if hlen < 0 || start+hlen > len(b) {
		return Images{}, fmt.Errorf("header of %d bytes runs past the end of the file", hlen)
	}
	header := string(b[start : start+hlen])
	d, f, s := npyDescr.FindStringSubmatch(header), npyFortran.FindStringSubmatch(header), npyShape.FindStringSubmatch(header)
	if d == nil || f == nil || s == nil {
		return Images{}, fmt.Errorf("header %q lacks descr, fortran_order or shape (or has an unsupported dtype)", strings.TrimSpace(header))
	}
	var shape []int
	for _, part := range strings.Split(s[1], ",") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		n, err := strconv.Atoi(part)
		if err != nil || n < 0 || n > 1<<31 {
			return Images{}, fmt.Errorf("bad shape (%s)", s[1])
		}
		shape = append(shape, n)
	}
	if len(shape) == 3 {
		shape = append(shape, 1)
	}
	if len(shape) != 4 || (shape[3] != 1 && shape[3] != 3) || shape[1] == 0 || shape[2] == 0 {
		return Images{}, fmt.Errorf("shape (%s): want (N, H, W) or (N, H, W, C) with C = 1 or 3", s[1])
	}
	kind, size := d[2], d[3]
	width, ok := map[string]int{"u1": 1, "i1": 1, "f4": 4, "f8": 8}[kind+size]
	if !ok || kind == "i" {
		return Images{}, fmt.Errorf("dtype %s%s is not supported (uint8, float32, float64 are)", kind, size)
	}
	data := b[start+hlen:]
	// The product is checked step by step, so a huge shape cannot wrap
	// around to the file's size.
	count := uint64(1)
	for _, n := range shape {
		if count = count * uint64(n); n != 0 && count > uint64(len(data)) {
			return Images{}, fmt.Errorf("shape (%s) of %s%s needs more data bytes than the file's %d (truncated, or a wrong header?)", s[1], kind, size, len(data))
		}
	}
	if count*uint64(width) != uint64(len(data)) {
		return Images{}, fmt.Errorf("shape (%s) of %s%s needs %d data bytes, file has %d (truncated?)", s[1], kind, size, count*uint64(width), len(data))
	}
	if err := CheckFits(int64(count)*4, fmt.Sprintf("shape (%s) as float32", s[1]), "use a smaller array"); err != nil {
		return Images{}, err
	}
	var order binary.ByteOrder = binary.LittleEndian
	if d[1] == ">" {
		order = binary.BigEndian
	}
	vals := make([]float32, count)
	for i := range vals {
		var v float64
		switch width {
		case 1:
			v = float64(data[i]) / 255
		case 4:
			v = float64(math.Float32frombits(order.Uint32(data[4*i:])))
		case 8:
			v = math.Float64frombits(order.Uint64(data[8*i:]))
		}
		if !(v >= 0 && v <= 1) {
			return Images{}, fmt.Errorf("value %v at element %d is outside [0, 1]; scale float data to [0, 1]", v, i)
		}
		vals[i] = float32(v)
	}
	im := Images{N: shape[0], Height: shape[1], Width: shape[2], Channels: shape[3], Pix: vals}
	if f[1] == "True" { // Fortran order: the first index varies fastest
		im.Pix = make([]float32, count)
		n, h, w, c := shape[0], shape[1], shape[2], shape[3]
		for i := range n {
			for y := range h {
				for x := range w {
					for k := range c {
						im.Pix[((i*h+y)*w+x)*c+k] = vals[i+n*(y+h*(x+w*k))]
					}
				}
			}
		}
	}
	return im, nil
}

// npySet is dataset.name npy: a NumPy array of images at dataset.path,
// downloaded from dataset.url on first use when one is given.
type npySet struct{}

func (npySet) Doc() string {
	return "a NumPy .npy array of images, (N, H, W) or (N, H, W, C), uint8 or floats in [0, 1], at dataset.path (downloaded from dataset.url, checked by dataset.sha256, when given); random split"
}

func (k npySet) check(c Config) error { return checkFileSettings(c, k) }

func (npySet) pathRequired() bool { return true }

func (npySet) takesURL() {}

func (npySet) splits() []string { return []string{"random", "block"} }

func (npySet) path(c Config, dataDir string) string { return specPath(c, dataDir) }

func (npySet) decode(c Config, path string) (*decodedSet, error) {
	im, err := LoadNPY(path)
	return &decodedSet{Images: im, Source: "npy " + c.Path}, err
}
