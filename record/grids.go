package record

import "fmt"

// TrainingGridKind is the artifact kind of the image grid a run stores
// during training (eval.grid_every) at an epoch's end: the epoch and the
// step are in the kind, so that a run has one artifact per grid and the
// views can order them without reading the files.
func TrainingGridKind(epoch, step int) string { return fmt.Sprintf("train_grid_e%d_s%d", epoch, step) }

// ParseTrainingGrid reads the epoch and step of a training grid's kind; ok
// is false for every other kind.
func ParseTrainingGrid(kind string) (epoch, step int, ok bool) {
	var rest string
	n, err := fmt.Sscanf(kind, "train_grid_e%d_s%d%s", &epoch, &step, &rest)
	if n != 2 || err == nil || epoch < 0 || step < 0 || TrainingGridKind(epoch, step) != kind {
		return 0, 0, false
	}
	return epoch, step, true
}
