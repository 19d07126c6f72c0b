package data

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"fmt"
	"io"
)

// MAT-file v5 element types and array classes that the loaders understand.
// Reference: MathWorks, "MAT-File Format", Level 5.
const (
	miINT8       = 1
	miUINT8      = 2
	miINT32      = 5
	miUINT32     = 6
	miDOUBLE     = 9
	miMATRIX     = 14
	miCOMPRESSED = 15

	mxDOUBLE = 6
	mxUINT8  = 9
)

// maxInflated bounds a compressed MAT element's inflated size (no dataset here
// comes near it), so a crafted file cannot exhaust memory.
const maxInflated = 1 << 30

// matArray is one numeric array read from a MAT-file, its data in the file's
// column-major order.
type matArray struct {
	Name  string
	Dims  []int
	Class int
	// Data holds the real part as stored; DataType says how (miUINT8: one byte
	// per element, which MATLAB also uses for doubles that fit in a byte).
	Data     []byte
	DataType int
}

// readMatV5 parses the first array of a little-endian MAT-file v5, inflating it
// first if it is stored compressed.
func readMatV5(b []byte) (*matArray, error) {
	if len(b) < 128+8 || string(b[:6]) != "MATLAB" {
		return nil, fmt.Errorf("not a MAT-file v5: missing the 128-byte \"MATLAB 5.0\" header")
	}
	if string(b[126:128]) != "IM" {
		return nil, fmt.Errorf("MAT-file: endian indicator %q, only little-endian (\"IM\") files are supported", b[126:128])
	}
	le := binary.LittleEndian
	typ, size := le.Uint32(b[128:]), uint64(le.Uint32(b[132:]))
	if 136+size > uint64(len(b)) {
		return nil, fmt.Errorf("MAT-file truncated: first element needs %d bytes, file has %d", 136+size, len(b))
	}
	body := b[136 : 136+size]
	switch typ {
	case miMATRIX:
		return parseMatrix(body)
	case miCOMPRESSED:
		zr, err := zlib.NewReader(bytes.NewReader(body))
		if err != nil {
			return nil, fmt.Errorf("MAT-file compressed element: %w", err)
		}
		inner, err := io.ReadAll(io.LimitReader(zr, maxInflated+1))
		if err != nil {
			return nil, fmt.Errorf("MAT-file compressed element (truncated or corrupt): %w", err)
		}
		if len(inner) > maxInflated {
			return nil, fmt.Errorf("MAT-file compressed element inflates beyond %d bytes", maxInflated)
		}
		if len(inner) < 8 || le.Uint32(inner) != miMATRIX {
			return nil, fmt.Errorf("MAT-file: compressed element does not hold an array")
		}
		n := uint64(le.Uint32(inner[4:]))
		if 8+n > uint64(len(inner)) {
			return nil, fmt.Errorf("MAT-file: compressed array truncated (%d of %d bytes)", len(inner)-8, n)
		}
		return parseMatrix(inner[8 : 8+n])
	}
	return nil, fmt.Errorf("MAT-file: first element has type %d, want an array (14) or compressed array (15)", typ)
}

// parseMatrix reads the subelements of a miMATRIX: flags, dimensions, name, real part.
func parseMatrix(body []byte) (*matArray, error) {
	le := binary.LittleEndian
	r := matReader{b: body, end: len(body)}
	flags, _, err := r.element()
	if err != nil {
		return nil, fmt.Errorf("MAT-file array flags: %w", err)
	}
	if len(flags) < 8 {
		return nil, fmt.Errorf("MAT-file: array flags too short")
	}
	arr := &matArray{Class: int(flags[0])}
	dims, dtype, err := r.element()
	if err != nil || dtype != miINT32 {
		return nil, fmt.Errorf("MAT-file dimensions: element type %d, %v", dtype, err)
	}
	for i := 0; i+4 <= len(dims); i += 4 {
		arr.Dims = append(arr.Dims, int(int32(le.Uint32(dims[i:]))))
	}
	name, _, err := r.element()
	if err != nil {
		return nil, fmt.Errorf("MAT-file array name: %w", err)
	}
	arr.Name = string(name)
	if arr.Data, arr.DataType, err = r.element(); err != nil {
		return nil, fmt.Errorf("MAT-file data of %q: %w", arr.Name, err)
	}
	return arr, nil
}

type matReader struct {
	b        []byte
	off, end int
}

// element reads one data element, in its normal or small (packed) form, and
// advances past its padding to the next 8-byte boundary.
func (r *matReader) element() ([]byte, int, error) {
	if r.off+8 > r.end {
		return nil, 0, fmt.Errorf("element header at offset %d runs past the array", r.off)
	}
	le := binary.LittleEndian
	tag := le.Uint32(r.b[r.off:])
	if small := tag >> 16; small != 0 { // small data element: type and size share 4 bytes
		typ, size := int(tag&0xffff), int(small)
		if size > 4 {
			return nil, 0, fmt.Errorf("small element at offset %d claims %d bytes", r.off, size)
		}
		data := r.b[r.off+4 : r.off+4+size]
		r.off += 8
		return data, typ, nil
	}
	typ, size := int(tag), uint64(le.Uint32(r.b[r.off+4:]))
	start := uint64(r.off + 8)
	if start+size > uint64(r.end) {
		return nil, 0, fmt.Errorf("element at offset %d needs %d bytes, %d remain", r.off, size, uint64(r.end)-start)
	}
	r.off = int(start + (size+7)/8*8)
	return r.b[start : start+size], typ, nil
}

// matUint8Images turns a uint8-stored array of d×n (one image per column) into
// n images of d bytes each, checking the dimensions against want.
func matUint8Images(arr *matArray, d, n int) ([]byte, error) {
	if arr.DataType != miUINT8 || len(arr.Dims) != 2 || arr.Dims[0] != d || arr.Dims[1] != n {
		return nil, fmt.Errorf("array %q stored as type %d, dims %v; want uint8 %dx%d", arr.Name, arr.DataType, arr.Dims, d, n)
	}
	if len(arr.Data) != d*n {
		return nil, fmt.Errorf("array %q has %d data bytes, want %d", arr.Name, len(arr.Data), d*n)
	}
	return arr.Data, nil
}
