package runs

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// Local runs a plan on this machine's worker pool (the Scheduler's), with a
// progress bar on Progress when it is a terminal and one log line per run
// on Log.
type Local struct {
	Scheduler     *Scheduler
	Log, Progress io.Writer
}

// Execute trains the plan's runs here.
func (l *Local) Execute(ctx context.Context, plan *Plan) Result {
	sc, stdout, stderr := l.Scheduler, l.Log, l.Progress
	total := int64(0)
	for _, r := range plan.ToTrain {
		if n, err := r.Config.Dataset.TrainCount(); err == nil {
			total += int64(r.Config.Train.Epochs * r.Config.Train.EpochSteps(n))
		}
	}
	f, isFile := stderr.(*os.File)
	if len(plan.ToTrain) == 0 || !isFile || !term.IsTerminal(int(f.Fd())) {
		sc.Log = stdout
		return sc.Execute(ctx, plan)
	}
	bar := progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(stderr),
		progressbar.OptionSetDescription(fmt.Sprintf("training %d runs", len(plan.ToTrain))),
		progressbar.OptionShowCount(),
		progressbar.OptionSetItsString("steps"),
		progressbar.OptionShowIts(),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionThrottle(200*time.Millisecond),
		progressbar.OptionClearOnFinish(),
	)
	sc.Log = &barWriter{bar: bar, w: stdout}
	sc.OnStep = func() { _ = bar.Add(1) }
	res := sc.Execute(ctx, plan)
	_ = bar.Finish()
	return res
}

// barWriter prints log lines above the progress bar.
type barWriter struct {
	mu  sync.Mutex
	bar *progressbar.ProgressBar
	w   io.Writer
}

func (b *barWriter) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	_ = b.bar.Clear()
	n, err := b.w.Write(p)
	_ = b.bar.RenderBlank()
	return n, err
}
