package report

import (
	"fmt"
	"math"
)

// FaceSpace is the validation panel of the dlib feature space, shown when
// a section's runs were scored in it: how far apart real faces are there
// (the real-vs-real baseline), how well it tells people apart (ROC AUC on
// the section's test faces where identities are known, and on ORL), and
// where the runs' distances sit against the baseline.
type FaceSpace struct {
	Rows []FaceSpaceRow
	Note string // what is missing and how to get it
}

// FaceSpaceRow is one figure of the panel.
type FaceSpaceRow struct {
	What, Value, Reading string
}

func faceSpace(rs []runData) *FaceSpace {
	var base, auc, orl []float64
	sampleFD, reconFD := map[string]float64{}, map[string]float64{}
	var orlProto string
	for _, r := range rs {
		s := r.sums
		if v, ok := s["real/fd_dlib"]; ok {
			base = append(base, v.Value)
		}
		if v, ok := s["real/verify_auc_dlib"]; ok {
			auc = append(auc, v.Value)
		}
		if v, ok := s["features/dlib_orl_auc"]; ok {
			orl, orlProto = append(orl, v.Value), v.Protocol
		}
		if v, ok := s["samples/fd_dlib"]; ok {
			sampleFD[r.info.ID] = v.Value
		}
		if v, ok := s["recon/fd_dlib"]; ok {
			reconFD[r.info.ID] = v.Value
		}
	}
	if len(base) == 0 {
		return nil
	}
	fs := &FaceSpace{}
	b := mean(base)
	fs.Rows = append(fs.Rows, FaceSpaceRow{"real-vs-real FD (test vs training faces, same N)", fmt.Sprintf("%.4f", b),
		"the distance sampling alone gives two sets of real faces: a run's FD near it is as close as this N can tell"})
	for _, c := range []struct {
		what string
		fd   map[string]float64
	}{{"prior samples' FD, over runs", sampleFD}, {"reconstructions' FD, over runs", reconFD}} {
		if len(c.fd) == 0 {
			continue
		}
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, v := range c.fd {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
		fs.Rows = append(fs.Rows, FaceSpaceRow{c.what, fmt.Sprintf("%.4f – %.4f", lo, hi),
			fmt.Sprintf("%.1f× – %.1f× the real-vs-real baseline", lo/b, hi/b)})
	}
	if len(auc) > 0 {
		fs.Rows = append(fs.Rows, FaceSpaceRow{"verification ROC AUC on this section's real test faces", fmt.Sprintf("%.4f", mean(auc)),
			"same person vs different by descriptor distance (1 = always right, 0.5 = chance): identity scores mean something on these faces when it is high"})
	}
	if len(orl) > 0 {
		fs.Rows = append(fs.Rows, FaceSpaceRow{"verification ROC AUC on ORL (400 photographs, 40 people)", fmt.Sprintf("%.4f", mean(orl)), orlProto})
	} else {
		fs.Note = "The ORL verification figure was not measured: with ORL in the data directory (folder orl_att, one folder per person) evaluations store it."
	}
	return fs
}

func mean(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}
