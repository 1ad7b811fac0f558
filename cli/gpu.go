package cli

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"
	"github.com/spf13/cobra"

	"github.com/fleetsim/fleetsim/gpu"
)

// newGPUCommand is fleetsim gpu: real GPUs through NVML (inventory, sample)
// and measurements of real servers (bench).
func newGPUCommand(streams Streams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "gpu",
		Short: "Inspect, sample and benchmark real GPUs (NVML) and inference servers",
		Args:  argsRange(0, 0),
	}
	cmd.AddCommand(newGPUBenchCommand(streams))
	cmd.AddCommand(newGPUInventoryCommand(streams), newGPUSampleCommand(streams))
	return cmd
}

// gpuInventoryFlags are the flags of fleetsim gpu inventory.
type gpuInventoryFlags struct {
	output string
}

func newGPUInventoryCommand(streams Streams) *cobra.Command {
	f := &gpuInventoryFlags{}
	cmd := &cobra.Command{
		Use:   "inventory",
		Short: "List the GPUs of this machine through NVML, matched to the GPU catalog",
		Long: `List every NVIDIA GPU NVML sees: name, UUID, memory, clocks, power, temperature,
utilization, MIG mode, PCIe link and active NVLinks, and the fleetsim GPU
catalog id it matches (by name and memory; "none" with the reason). A field
the device does not support is shown as "-" (null in JSON). Needs the NVIDIA
driver and a binary built with cgo. See docs/gpu.md.`,
		Args: argsRange(0, 0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.output != "table" && f.output != "json" {
				return usageError{err: fmt.Errorf("--output: must be table or json, got %q", f.output), use: cmd.UseLine()}
			}
			return gpuInventory(f, streams)
		},
	}
	cmd.Flags().StringVar(&f.output, "output", "table", "output format: table or json")
	return cmd
}

// gpuSampleFlags are the flags of fleetsim gpu sample.
type gpuSampleFlags struct {
	interval time.Duration
	out      string
}

func newGPUSampleCommand(streams Streams) *cobra.Command {
	f := &gpuSampleFlags{}
	cmd := &cobra.Command{
		Use:   "sample [flags] -- COMMAND [ARGS...]",
		Short: "Run a command and sample every GPU's power, energy, clocks and utilization while it runs",
		Long: `Run COMMAND (its stdin, stdout and stderr pass through) and sample every GPU
through NVML every --interval, from the command's start to its exit. With
--out FILE.csv or FILE.json the series is written atomically (CSV: one row
per GPU and sample; JSON: summary and series). A summary per GPU (mean and
peak power, energy, mean utilization, peak memory) goes to stderr. The exit
code is the command's (1 if it could not start or NVML is missing). See
docs/gpu.md.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageError{err: errors.New("give the command to run after --"), use: cmd.UseLine()}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.interval <= 0 {
				return usageError{err: fmt.Errorf("--interval: must be > 0, got %v", f.interval), use: cmd.UseLine()}
			}
			if f.out != "" {
				if ext := strings.ToLower(filepath.Ext(f.out)); ext != ".csv" && ext != ".json" {
					return usageError{err: fmt.Errorf("--out: must end in .csv or .json, got %q", f.out), use: cmd.UseLine()}
				}
			}
			return gpuSample(f, args, streams)
		},
	}
	cmd.Flags().SetInterspersed(false) // flags after COMMAND are the command's
	cmd.Flags().DurationVar(&f.interval, "interval", 100*time.Millisecond, "time between samples")
	cmd.Flags().StringVar(&f.out, "out", "", "write the series to FILE.csv or FILE.json (atomically)")
	return cmd
}

// exitCodeError carries the exit code of a command run by gpu sample.
type exitCodeError struct {
	code int
}

func (e exitCodeError) Error() string { return fmt.Sprintf("command exited with status %d", e.code) }

// ExitCode is the exit code fleetsim should exit with.
func (e exitCodeError) ExitCode() int { return e.code }

// printSampleSummary writes a table of the summaries to streams.Err.
func printSampleSummary(series []gpu.Series, streams Streams) error {
	t := tablewriter.NewTable(streams.Err, tablewriter.WithHeaderAutoFormat(tw.Off))
	t.Header("GPU", "name", "samples", "duration s", "mean W", "peak W", "energy J", "energy from", "mean util %", "peak mem GiB", "error")
	for _, s := range series {
		m := gpu.Summarize(s)
		t.Append(fmt.Sprint(m.Index), m.Name, fmt.Sprint(m.Samples), fmt.Sprintf("%.2f", m.DurationS),
			optF(m.MeanPowerW, 1), optF(m.PeakPowerW, 1), optF(m.EnergyJ, 1), dash(m.EnergySource),
			optF(m.MeanGPUUtilPct, 1), optGiB(m.PeakMemUsedBytes), dash(m.Error))
	}
	return t.Render()
}

func optF(v *float64, prec int) string {
	if v == nil {
		return "-"
	}
	return fmt.Sprintf("%.*f", prec, *v)
}

func optGiB(v *uint64) string {
	if v == nil {
		return "-"
	}
	return fmt.Sprintf("%.1f", float64(*v)/(1<<30))
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
