package experiments

// sobolDirections are the primitive polynomials and initial direction
// numbers of dimensions 2 to 10 of Joe & Kuo's new-joe-kuo-6.21201 set
// (dimension 1 is the van der Corput sequence): degree s, coefficients a,
// and m_1 … m_s.
var sobolDirections = []struct {
	s, a int
	m    []uint32
}{
	{1, 0, []uint32{1}},
	{2, 1, []uint32{1, 3}},
	{3, 1, []uint32{1, 3, 1}},
	{3, 2, []uint32{1, 1, 1}},
	{4, 1, []uint32{1, 1, 3, 3}},
	{4, 4, []uint32{1, 3, 5, 13}},
	{5, 2, []uint32{1, 1, 5, 5, 17}},
	{5, 4, []uint32{1, 1, 5, 5, 5}},
	{5, 7, []uint32{1, 1, 7, 11, 1}},
}

// maxSobolDims is the most dimensions the Sobol points are made for.
const maxSobolDims = 10

const sobolBits = 32

// sobolVectors are the direction numbers v_k (scaled to 32 bits) of each
// of d dimensions.
func sobolVectors(d int) [][sobolBits]uint32 {
	v := make([][sobolBits]uint32, d)
	for k := range sobolBits {
		v[0][k] = 1 << (sobolBits - 1 - k)
	}
	for j := 1; j < d; j++ {
		dir := sobolDirections[j-1]
		for k := 0; k < dir.s; k++ {
			v[j][k] = dir.m[k] << (sobolBits - 1 - k)
		}
		for k := dir.s; k < sobolBits; k++ {
			x := v[j][k-dir.s] ^ (v[j][k-dir.s] >> dir.s)
			for l := 1; l < dir.s; l++ {
				if (dir.a>>(dir.s-1-l))&1 == 1 {
					x ^= v[j][k-l]
				}
			}
			v[j][k] = x
		}
	}
	return v
}

// sobolPoint is point i (0-based: point 0 is the origin) of the
// d-dimensional Sobol sequence, digitally shifted by shift (one 32-bit word
// per dimension, XORed in: a shift that keeps the sequence's
// stratification), by the Gray-code definition x_i = ⊕ of v_k over the set
// bits k of gray(i).
func sobolPoint(i, d int, shift []uint32) []float64 {
	v := sobolVectors(d)
	g := uint64(i) ^ (uint64(i) >> 1)
	out := make([]float64, d)
	for j := range d {
		x := shift[j]
		for k := 0; k < sobolBits && g>>k != 0; k++ {
			if (g>>k)&1 == 1 {
				x ^= v[j][k]
			}
		}
		out[j] = float64(x) / (1 << sobolBits)
	}
	return out
}
