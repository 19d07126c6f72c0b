package data

import (
	"encoding/binary"
	"fmt"
)

// MAT-file v5 element types and array classes that the loaders understand.
// Reference: MathWorks, "MAT-File Format", Level 5.
const (
	miINT8   = 1
	miUINT8  = 2
	miINT32  = 5
	miUINT32 = 6
	miDOUBLE = 9
	miMATRIX = 14

	mxDOUBLE = 6
	mxUINT8  = 9
)

// matArray is one numeric array read from a MAT-file, its data in the file's
// column-major order.
type matArray struct {
	Name  string
	Dims  []int
	Class int
	// Data holds the real part, one byte per element for uint8 storage.
	Data     []byte
	DataType int
	// Offset is where Data starts in the file, for error messages and checks.
	Offset int
}

// readMatV5 parses the first array of an uncompressed little-endian MAT-file v5.
func readMatV5(b []byte) (*matArray, error) {
	if len(b) < 128+8 || string(b[:6]) != "MATLAB" {
		return nil, fmt.Errorf("not a MAT-file v5: missing the 128-byte \"MATLAB 5.0\" header")
	}
	if string(b[126:128]) != "IM" {
		return nil, fmt.Errorf("MAT-file: endian indicator %q, only little-endian (\"IM\") files are supported", b[126:128])
	}
	le := binary.LittleEndian
	typ, size := le.Uint32(b[128:]), int(le.Uint32(b[132:]))
	if typ != miMATRIX {
		return nil, fmt.Errorf("MAT-file: first element has type %d, want miMATRIX (14); compressed files are not supported here", typ)
	}
	end := 136 + size
	if end > len(b) {
		return nil, fmt.Errorf("MAT-file truncated: array needs %d bytes, file has %d", end, len(b))
	}
	r := matReader{b: b, off: 136, end: end}
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
		return nil, fmt.Errorf("MAT-file dimensions: type %d, %v", dtype, err)
	}
	for i := 0; i+4 <= len(dims); i += 4 {
		arr.Dims = append(arr.Dims, int(int32(le.Uint32(dims[i:]))))
	}
	name, _, err := r.element()
	if err != nil {
		return nil, fmt.Errorf("MAT-file array name: %w", err)
	}
	arr.Name = string(name)
	arr.Offset = r.off + 8
	arr.Data, arr.DataType, err = r.element()
	if err != nil {
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
	typ, size := int(tag), int(le.Uint32(r.b[r.off+4:]))
	start := r.off + 8
	if size < 0 || start+size > r.end {
		return nil, 0, fmt.Errorf("element at offset %d needs %d bytes, %d remain", r.off, size, r.end-start)
	}
	r.off = start + (size+7)/8*8
	return r.b[start : start+size], typ, nil
}
