package main

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/vaelab/vaelab/data"
	"github.com/vaelab/vaelab/runs"
	"github.com/vaelab/vaelab/serve"
)

func serveCmd(s *settings, stdout, stderr io.Writer) *cobra.Command {
	var addr string
	var remote bool
	cmd := &cobra.Command{
		Use:         "serve",
		Annotations: map[string]string{needsBLAS: "yes"}, // the latent explorer decodes
		Short:       "Serve a live, read-only web view of the workspace (experiments, curves, faces over training, a latent explorer)",
		Long: `Serve reads the database read-only (it never takes a write lock, so a sweep
can train beside it) and serves pages that update themselves while runs train.
It listens on loopback only; --allow-remote serves another address, with no
authentication: anyone who can reach it reads every experiment.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return readStore(cmd, s, func(ctx context.Context, st *runs.Store) error {
				dec := runs.NewExplorer(st, &data.Loader{DataDir: s.dataDir(), CacheDir: s.cacheDir()})
				h, err := serve.New(st, serve.Options{Decoder: dec, AllowRemote: remote, Log: stderr})
				if err != nil {
					return err
				}
				return serve.ListenAndServe(ctx, addr, h, stderr, func(a string) { fmt.Fprintf(stdout, "serving %s at http://%s/ (Ctrl-C stops)\n", s.db(), a) })
			})
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8080", "address to listen on (loopback unless --allow-remote)")
	cmd.Flags().BoolVar(&remote, "allow-remote", false, "allow a non-loopback address (no authentication: anyone who can reach it reads the workspace)")
	return cmd
}
