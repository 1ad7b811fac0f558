//go:build cgo

package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/fleetsim/fleetsim/gpu"
	"github.com/fleetsim/fleetsim/reports"
)

// openNVML returns the NVML library the gpu commands use; tests replace it
// with a mock.
var openNVML = func() nvml.Interface { return nvml.New() }

func gpuInventory(f *gpuInventoryFlags, streams Streams) error {
	devs, err := gpu.Inventory(openNVML())
	if err != nil {
		return err
	}
	if f.output == "json" {
		enc := json.NewEncoder(streams.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			GPUs []gpu.Device `json:"gpus"`
		}{devs})
	}
	t := tablewriter.NewTable(streams.Out, tablewriter.WithHeaderAutoFormat(tw.Off))
	t.Header("GPU", "name", "catalog", "mem used/total GiB", "SM MHz cur/max", "mem MHz cur/max", "power W/limit",
		"temp C", "util gpu/mem %", "MIG cur/pend", "PCIe", "NVLinks", "missing")
	for _, d := range devs {
		if d.Error != "" {
			t.Append(fmt.Sprint(d.Index), "-", "-", "-", "-", "-", "-", "-", "-", "-", "-", "-", d.Error)
			continue
		}
		var missing []string
		for _, m := range d.Missing {
			missing = append(missing, m.Field)
		}
		catalog := d.Catalog
		if catalog == gpu.NoMatch {
			catalog += ": " + d.CatalogReason
		}
		t.Append(fmt.Sprint(d.Index), d.Name, catalog,
			optGiB(d.MemoryUsedBytes)+"/"+optGiB(d.MemoryTotalBytes),
			optU(d.SMClockMHz)+"/"+optU(d.SMClockMaxMHz),
			optU(d.MemClockMHz)+"/"+optU(d.MemClockMaxMHz),
			optF(d.PowerW, 0)+"/"+optF(d.PowerLimitW, 0),
			optU(d.TemperatureC),
			optU(d.GPUUtilPct)+"/"+optU(d.MemUtilPct),
			optBool(d.MIGCurrent)+"/"+optBool(d.MIGPending),
			"gen "+optI(d.PCIeGen)+" x"+optI(d.PCIeWidth),
			optI(d.NVLinksActive),
			dash(strings.Join(missing, ",")))
	}
	return t.Render()
}

func gpuSample(f *gpuSampleFlags, args []string, streams Streams) error {
	s, err := gpu.NewSampler(openNVML())
	if err != nil {
		return err
	}
	defer s.Close()

	c := exec.Command(args[0], args[1:]...)
	c.Stdin, c.Stdout, c.Stderr = streams.In, streams.Out, streams.Err
	// Ctrl-C reaches the command from the terminal (same process group)
	// and SIGTERM is passed on to it; fleetsim waits for it to exit and
	// still writes what it sampled.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)

	ticker := time.NewTicker(f.interval)
	defer ticker.Stop()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := c.Start(); err != nil {
		signal.Stop(sig)
		return fmt.Errorf("start %s: %w", args[0], err)
	}
	done := make(chan struct{})
	go func() { s.Run(ctx, ticker.C, time.Now); close(done) }()
	go func() {
		for v := range sig {
			if v == syscall.SIGTERM {
				_ = c.Process.Signal(v)
			}
		}
	}()
	waitErr := c.Wait()
	signal.Stop(sig)
	close(sig)
	cancel()
	<-done

	series := s.Series()
	if f.out != "" {
		write := func(w io.Writer) error { return gpu.WriteCSV(w, series) }
		if strings.EqualFold(filepath.Ext(f.out), ".json") {
			write = func(w io.Writer) error { return gpu.WriteJSON(w, f.interval.Seconds(), series) }
		}
		if err := reports.WriteFile(f.out, write); err != nil {
			return err
		}
	}
	if err := printSampleSummary(series, streams); err != nil {
		return err
	}
	return commandExit(waitErr)
}

// commandExit turns the error of exec.Cmd.Wait into nil or an
// exitCodeError with the command's code (128+signal when a signal ended it,
// as shells report it).
func commandExit(err error) error {
	if err == nil {
		return nil
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return err
	}
	code := ee.ExitCode()
	if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		code = 128 + int(ws.Signal())
	}
	if code <= 0 {
		code = ExitFailure
	}
	return exitCodeError{code: code}
}

func optU(v *uint32) string {
	if v == nil {
		return "-"
	}
	return fmt.Sprint(*v)
}

func optI(v *int) string {
	if v == nil {
		return "-"
	}
	return fmt.Sprint(*v)
}

func optBool(v *bool) string {
	switch {
	case v == nil:
		return "-"
	case *v:
		return "on"
	}
	return "off"
}

// benchSampler samples every GPU in the background while gpu bench runs.
type benchSampler struct {
	s      *gpu.Sampler
	start  time.Time
	cancel context.CancelFunc
	done   chan struct{}
}

// startBenchSampling starts sampling NVML every interval; it fails when
// NVML is not available.
func startBenchSampling(interval time.Duration) (*benchSampler, error) {
	s, err := gpu.NewSampler(openNVML())
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	b := &benchSampler{s: s, start: time.Now(), cancel: cancel, done: make(chan struct{})}
	ticker := time.NewTicker(interval)
	go func() {
		defer ticker.Stop()
		s.Run(ctx, ticker.C, time.Now)
		close(b.done)
	}()
	return b, nil
}

// since is the time of t on the series' clock (seconds from the first sample).
func (b *benchSampler) since(t time.Time) float64 { return t.Sub(b.start).Seconds() }

// stop ends sampling and returns the series.
func (b *benchSampler) stop() []gpu.Series {
	b.cancel()
	<-b.done
	series := b.s.Series()
	_ = b.s.Close()
	return series
}
