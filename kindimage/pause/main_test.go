package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// buildPause builds this program into a temporary folder.
func buildPause(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "pause")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestSignals checks the contract containerd relies on: pause keeps running
// until SIGTERM or SIGINT, then exits with status 0, and SIGCHLD does not
// stop it.
func TestSignals(t *testing.T) {
	bin := buildPause(t)
	tests := []struct {
		name string
		sig  syscall.Signal
	}{
		{"SIGTERM", syscall.SIGTERM},
		{"SIGINT", syscall.SIGINT},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(bin)
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			// Let it install its handlers; a stray SIGCHLD must not stop it.
			time.Sleep(200 * time.Millisecond)
			if err := cmd.Process.Signal(syscall.SIGCHLD); err != nil {
				t.Fatal(err)
			}
			select {
			case err := <-done:
				t.Fatalf("after SIGCHLD: exited (%v), want still running", err)
			case <-time.After(200 * time.Millisecond):
			}
			if err := cmd.Process.Signal(tc.sig); err != nil {
				t.Fatal(err)
			}
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("after %s: got %v, want exit status 0", tc.name, err)
				}
			case <-time.After(5 * time.Second):
				_ = cmd.Process.Kill()
				t.Fatalf("after %s: still running after 5 s, want exit", tc.name)
			}
		})
	}
}

func TestVersionFlag(t *testing.T) {
	out, err := exec.Command(buildPause(t), "-v").Output()
	if err != nil {
		t.Fatalf("pause -v: %v", err)
	}
	if got, want := strings.TrimSpace(string(out)), version; got != want {
		t.Fatalf("pause -v printed %q, want %q", got, want)
	}
}

// TestReap checks that reap collects an exited child: afterwards the child
// can no longer be waited for (ECHILD).
func TestReap(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	// Wait until the child has exited (it is a zombie until reaped).
	deadline := time.Now().Add(5 * time.Second)
	for {
		b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
		if err != nil {
			t.Fatalf("read /proc/%d/stat: %v", pid, err)
		}
		if strings.Contains(string(b), ") Z ") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("child %d did not exit within 5 s", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
	reap()
	var ws syscall.WaitStatus
	_, err := syscall.Wait4(pid, &ws, syscall.WNOHANG, nil)
	if !errors.Is(err, syscall.ECHILD) {
		t.Fatalf("Wait4 after reap: got %v, want ECHILD", err)
	}
}
