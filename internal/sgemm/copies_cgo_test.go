//go:build cgo && amd64

package sgemm

type kernelCopy struct {
	name string
	id   int
}

// copiesHere are the copies of the micro-kernel this CPU can run.
func copiesHere() []kernelCopy {
	var out []kernelCopy
	for id := 0; id <= best(); id++ {
		out = append(out, kernelCopy{kernelNames[id], id})
	}
	if best() == 2 {
		out = append(out, kernelCopy{kernelNames[avx512Alt], avx512Alt})
	}
	return out
}
