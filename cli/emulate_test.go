package cli

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spf13/viper"
)

// syncBuffer is a bytes.Buffer safe for one writer and one reader at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestEmulateCLIErrors checks that bad input exits 2 with a clear message.
func TestEmulateCLIErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"unknown gpu", []string{"emulate", "--gpu", "h900", "--model", "llama-3.1-8b"}, `unknown GPU "h900"`},
		{"unknown model", []string{"emulate", "--gpu", "h100", "--model", "gpt-9"}, `unknown model "gpt-9"`},
		{"no model", []string{"emulate", "--gpu", "h100"}, "needs --gpu and --model"},
		{"bad tp", []string{"emulate", "--gpu", "h100", "--model", "llama-3.1-8b", "--tp", "3"}, "tensor parallelism"},
		{"bad listen", []string{"emulate", "--gpu", "h100", "--model", "llama-3.1-8b", "--listen", "256.0.0.1:x"}, "listen"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			err := Run(tc.args, Streams{In: strings.NewReader(""), Out: &out, Err: &errb})
			if got := ExitCode(err); got != ExitInvalid {
				t.Errorf("exit code: got %d, want %d (err %v)", got, ExitInvalid, err)
			}
			if !strings.Contains(errb.String(), tc.want) {
				t.Errorf("stderr: got %q, want it to contain %q", errb.String(), tc.want)
			}
		})
	}
}

// TestEmulateCLIServes starts `fleetsim emulate` on a free port, reads the
// address it prints on stderr, serves one request, and stops it by
// cancelling its context (what SIGINT does).
func TestEmulateCLIServes(t *testing.T) {
	var errb syncBuffer
	streams := Streams{In: strings.NewReader(""), Out: io.Discard, Err: &errb}
	root := newRoot(viper.New(), streams)
	for _, c := range root.Commands() {
		if c.Name() == "emulate" && c.Hidden {
			t.Errorf("emulate is hidden, want it listed")
		}
	}
	cmd := newEmulateCommand(streams)
	cmd.SetArgs([]string{"--gpu", "h100", "--model", "llama-3.1-8b", "--listen", "127.0.0.1:0", "--speedup", "50"})
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- cmd.ExecuteContext(ctx) }()

	addrRE := regexp.MustCompile(`listening on (http://\S+)`)
	var base string
	for deadline := time.Now().Add(5 * time.Second); base == ""; time.Sleep(5 * time.Millisecond) {
		if m := addrRE.FindStringSubmatch(errb.String()); m != nil {
			base = m[1]
		}
		if time.Now().After(deadline) {
			t.Fatalf("no address on stderr after 5 s: %q", errb.String())
		}
	}
	resp, err := http.Post(base+"/v1/completions", "application/json", strings.NewReader(`{"prompt":"hello there","max_tokens":3}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"completion_tokens":3`) {
		t.Errorf("completion: got %d %s, want 200 with 3 completion tokens", resp.StatusCode, body)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("emulate after shutdown: got %v, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("emulate did not stop within 10 s of cancellation")
	}
	if !strings.Contains(errb.String(), "shutting down") {
		t.Errorf("stderr: got %q, want a shutdown message", errb.String())
	}
}
