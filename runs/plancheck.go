package runs

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/vaelab/vaelab/data"
	"github.com/vaelab/vaelab/evaluate"
	"github.com/vaelab/vaelab/experiments"
	"github.com/vaelab/vaelab/vae"
)

// CheckPlan makes the checks of a spec's runs that need the workspace's
// settings, before anything is written or trained: a dataset path must not
// lead a download out of the data directory, and one outside it must exist;
// a dataset whose size the spec gives must fit in memory.
// Its errors are the user's to fix: each starts with the spec key (so that
// Spec.Locate finds its line) and names the run.
func CheckPlan(rs []experiments.Run, dataDir string) error {
	for _, r := range rs {
		inRun := func(err error) error { return fmt.Errorf("%w (run %s, %s)", err, r.ID, r.Label()) }
		if err := r.Config.Dataset.CheckPath(dataDir); err != nil {
			return inRun(err)
		}
		if err := r.Config.Dataset.CheckPartition(dataDir); err != nil {
			return inRun(err)
		}
		if err := r.Config.Dataset.CheckMemory(); err != nil {
			return inRun(err)
		}
		if r.Config.Eval.Uses("dlib") {
			if _, err := os.Stat(filepath.Join(dataDir, data.DlibFaceDir, data.DlibWeightsFile)); err != nil {
				return inRun(fmt.Errorf("eval.features: dlib needs the face descriptor's weights, not in %s: run `vaelab data fetch dlib-face`", filepath.Join(dataDir, data.DlibFaceDir)))
			}
		}
		if err := checkPrimary(r.Config.Eval); err != nil {
			return inRun(err)
		}
		if train, test, ok := r.Config.Dataset.SplitSizes(); ok {
			if err := checkSplitSizes(r.Config, train, test); err != nil {
				return inRun(err)
			}
		}
	}
	return nil
}

// minEvalImages is the fewest images the evaluation can score: the
// bias-corrected Fréchet distance fits subsets of N/4 to N images, N ≥ 8.
const minEvalImages = 8

// checkSplitSizes checks that a dataset's train and test splits are large
// enough for training's batch and the evaluation's metrics, and that the
// objective's schedule fits in the training steps they give, so that a run
// fails before its first step, not after its last. The scheduler calls it
// once a dataset is read; CheckPlan, when the spec fixes the sizes.
func checkSplitSizes(cfg experiments.RunConfig, train, test int) error {
	if train < cfg.Train.BatchSize {
		return fmt.Errorf("train.batch_size: %d is larger than the %d training images; lower it, or use more images", cfg.Train.BatchSize, train)
	}
	if err := cfg.Objective.CheckSteps(cfg.Train.Epochs * cfg.Train.EpochSteps(train)); err != nil {
		return err
	}
	if err := cfg.Model.CheckTrainImages(train); err != nil {
		return err
	}
	ev := cfg.Eval.WithDefaults()
	n := min(ev.Samples, test, train)
	need := max(minEvalImages, ev.NearestK+1)
	if n < need {
		change := "raise dataset.count or dataset.test_fraction"
		if n == ev.Samples {
			change = "raise eval.samples"
		}
		return fmt.Errorf("evaluation: its metrics score min(eval.samples %d, %d test images, %d training images) = %d images, fewer than the %d they need; %s",
			ev.Samples, test, train, n, need, change)
	}
	return nil
}

// checkPrimary checks eval.primary: a metric of the catalogue with a
// better direction (the ranking sorts by it), computed by this evaluation.
func checkPrimary(ev vae.EvalConfig) error {
	if ev.Primary == "" {
		return nil
	}
	var known []string
	for _, m := range evaluate.Catalogue() {
		if m.Dir != evaluate.Neutral {
			known = append(known, m.Key)
		}
	}
	m, ok := evaluate.Lookup(ev.Primary)
	if !ok || m.Dir == evaluate.Neutral {
		return fmt.Errorf("eval.primary: %q is not a metric the ranking can sort by (known: %s)", ev.Primary, strings.Join(known, ", "))
	}
	if m.Needs != "" && !ev.Uses(m.Needs) {
		return fmt.Errorf("eval.primary: %s is computed only with eval.features: [%s]; add it there, or pick another metric", ev.Primary, m.Needs)
	}
	return nil
}
