package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/fleetsim/fleetsim/emulate"
	"github.com/fleetsim/fleetsim/profiles"
)

// emulateGrace is how long `fleetsim emulate` lets running requests finish
// after SIGINT or SIGTERM before it ends them.
const emulateGrace = 5 * time.Second

// emulateFlags are the flags of fleetsim emulate.
type emulateFlags struct {
	cfg    emulate.Config
	listen string
}

// newEmulateCommand is fleetsim emulate.
func newEmulateCommand(streams Streams) *cobra.Command {
	var f emulateFlags
	cmd := &cobra.Command{
		Use:   "emulate --gpu GPU --model MODEL [flags]",
		Short: "Serve an OpenAI-compatible API that behaves like one replica in real time",
		Long: `Serve POST /v1/completions and /v1/chat/completions (streamed or not), GET /v1/models,
/health and /metrics (vLLM metric names) on --listen, answering like one replica of
--tp GPUs of --gpu serving --model: requests are batched iteration by iteration
(continuous batching with chunked prefill), and each iteration lasts the step time
fleetsim's serving model predicts, divided by --speedup. The text returned is filler;
a prompt's tokens are its whitespace-separated words (or the length of a token-id
array). Runs until SIGINT or SIGTERM, then lets running requests finish for 5 s.`,
		Args: argsRange(0, 0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if f.cfg.GPU == "" || f.cfg.Model == "" {
				return usageError{err: errors.New("emulate needs --gpu and --model"), use: cmd.UseLine()}
			}
			s, err := emulate.New(f.cfg)
			if err != nil {
				return invalid(err)
			}
			defer s.Close()
			ln, err := net.Listen("tcp", f.listen)
			if err != nil {
				return invalid(fmt.Errorf("listen: %w", err))
			}
			ctx, stop := signal.NotifyContext(cmdContext(cmd), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return serveEmulator(ctx, s, ln, streams, f.cfg)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.cfg.GPU, "gpu", "", "GPU catalog id (h100, h200, a100-80gb, l40s, mi300x, ...)")
	fl.StringVar(&f.cfg.Model, "model", "", "model catalog id or published name (llama-3.1-8b, ...)")
	fl.IntVar(&f.cfg.TP, "tp", 1, "tensor-parallel GPUs per replica: 1, 2, 4 or 8")
	fl.StringVar(&f.cfg.Precision, "precision", "bf16", "bf16 or fp8")
	fl.StringVar(&f.cfg.Profile, "profile", profiles.DefaultName, "serving profile: a built-in name or a profile file")
	fl.StringVar(&f.listen, "listen", "127.0.0.1:8000", "address to listen on (port 0 picks a free port)")
	fl.Float64Var(&f.cfg.Speedup, "speedup", 1, "divide every step time by this (1 is real time)")
	fl.IntVar(&f.cfg.MaxQueue, "max-queue", emulate.DefaultMaxQueue, "requests that may wait for admission before 429")
	fl.IntVar(&f.cfg.MaxBatch, "max-batch", emulate.DefaultMaxBatch, "the engine's sequence limit (vLLM max_num_seqs)")
	return cmd
}

// cmdContext is the command's context, or Background when run without one.
func cmdContext(cmd *cobra.Command) context.Context {
	if ctx := cmd.Context(); ctx != nil {
		return ctx
	}
	return context.Background()
}

// serveEmulator serves s on ln until ctx ends, then shuts down: it stops
// accepting, lets running requests finish for emulateGrace, then closes
// the emulator (ending what still runs with an error) and the listener.
func serveEmulator(ctx context.Context, s *emulate.Server, ln net.Listener, streams Streams, cfg emulate.Config) error {
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	spec := s.Model().Spec()
	speedup := cfg.Speedup
	if speedup == 0 {
		speedup = 1
	}
	fmt.Fprintf(streams.Err, "fleetsim emulate: %s on %d × %s at %s, speed-up %g, listening on http://%s\n",
		spec.Model.ID, spec.TensorParallel, spec.GPU.ID, spec.Precision, speedup, ln.Addr())
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	fmt.Fprintln(streams.Err, "fleetsim emulate: shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), emulateGrace)
	defer cancel()
	err := srv.Shutdown(sctx)
	_ = s.Close()
	if err != nil {
		_ = srv.Close()
	}
	return nil
}
