// Command celebagen writes a CelebA-layout dataset of procedural faces (JPEGs
// of 178×218, list_eval_partition.txt), as a folder and/or as
// img_align_celeba.zip, for measuring vaelab at CelebA's size:
//
//	go run ./scripts/celebagen -n 202599 -o /tmp/celeba -zip -folder
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"time"

	"github.com/vaelab/vaelab/internal/celebagen"
)

func main() {
	n := flag.Int("n", celebagen.Full, "images")
	out := flag.String("o", "celeba", "output folder")
	asZip := flag.Bool("zip", true, "write img_align_celeba.zip")
	asFolder := flag.Bool("folder", false, "write img_align_celeba/*.jpg")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	start := time.Now()
	if err := os.MkdirAll(*out, 0o755); err != nil {
		fail(err)
	}
	if err := celebagen.Write(ctx, *out, *n, *asZip, *asFolder); err != nil {
		fail(err)
	}
	fmt.Printf("%d images in %s (%.0f s)\n", *n, *out, time.Since(start).Seconds())
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "celebagen:", err)
	os.Exit(1)
}
