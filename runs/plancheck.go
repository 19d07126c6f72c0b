package runs

import (
	"fmt"

	"github.com/vaelab/vaelab/experiments"
)

// CheckPlan makes the checks of a spec's runs that need the workspace's
// settings, before anything is written or trained: a dataset path must not
// lead a download out of the data directory, and one outside it must exist;
// a dataset whose size the spec gives must fit in memory.
// Its errors are the user's to fix and name the run and the spec key.
func CheckPlan(rs []experiments.Run, dataDir string) error {
	for _, r := range rs {
		if err := r.Config.Dataset.CheckPath(dataDir); err != nil {
			return fmt.Errorf("run %s (%s): %w", r.ID, r.Label(), err)
		}
		if err := r.Config.Dataset.CheckMemory(); err != nil {
			return fmt.Errorf("run %s (%s): %w", r.ID, r.Label(), err)
		}
	}
	return nil
}
