package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"runtime"
	"time"

	"github.com/spf13/cobra"

	"github.com/fleetsim/fleetsim/reports"
	"github.com/fleetsim/fleetsim/sweep"
)

type sweepFlags struct {
	out          string
	workers      int
	resume       bool
	shard        int
	shards       int
	quiet        bool
	emit         string
	image        string
	configMap    string
	resultsClaim string
	parallelism  int
}

func newSweepCommand(streams Streams) *cobra.Command {
	f := &sweepFlags{}
	cmd := &cobra.Command{
		Use:   "sweep SWEEP.yaml",
		Short: "Run a grid of scenario variations, resumable, on one machine or as a Kubernetes Job",
		Long: `Run every point of SWEEP.yaml (kind: Sweep; docs/sweeps.md): the base scenario with
each combination of the parameters' values set at their paths. Points run in
parallel (--workers, default all cores), each deterministic on its own; each point's
result is written atomically to OUT/points/, so an interrupted sweep resumes with
--resume without losing or repeating points. OUT/sweep.csv combines them.

--shard i --shards n runs the points with index % n == i. --emit k8s writes a
Kubernetes Indexed Job (batch/v1) that runs n shards in pods instead;
'fleetsim sweep collect DIR...' merges the shards' outputs.`,
		Args: argsRange(1, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			sf, err := sweep.ReadFile(args[0])
			if err != nil {
				return invalid(err)
			}
			if f.emit != "" {
				return emitJob(streams.Out, sf, f)
			}
			if f.shards < 1 || f.shard < 0 || f.shard >= f.shards {
				return usageError{err: fmt.Errorf("--shard must be in [0, --shards), got %d of %d", f.shard, f.shards), use: cmd.UseLine()}
			}
			var log io.Writer
			if !f.quiet {
				log = streams.Err
			}
			start := time.Now()
			done, err := sweep.Run(sf, args[0], sweep.Options{Out: f.out, Workers: f.workers, Resume: f.resume, Shard: f.shard, Shards: f.shards}, log)
			if err != nil {
				return invalid(err)
			}
			var buf bytes.Buffer
			n, err := sweep.Collect([]string{f.out}, &buf)
			if err != nil {
				return err
			}
			if err := reports.WriteFile(f.out+"/sweep.csv", func(w io.Writer) error { _, err := w.Write(buf.Bytes()); return err }); err != nil {
				return err
			}
			if !f.quiet {
				fmt.Fprintf(streams.Err, "sweep %s: %d points simulated now, %d in %s/sweep.csv, %.1fs\n", sf.Metadata.Name, len(done), n, f.out, time.Since(start).Seconds())
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.out, "out", "o", "sweep-out", "output directory")
	fl.IntVar(&f.workers, "workers", runtime.GOMAXPROCS(0), "points simulated at once")
	fl.BoolVar(&f.resume, "resume", false, "skip points whose result is already in OUT/points")
	fl.IntVar(&f.shard, "shard", 0, "run the points with index % --shards == --shard")
	fl.IntVar(&f.shards, "shards", 1, "number of shards")
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "print nothing on stderr")
	fl.StringVar(&f.emit, "emit", "", "write a manifest instead of running: k8s (an Indexed Job)")
	fl.StringVar(&f.image, "image", "fleetsim:local", "image for --emit k8s")
	fl.StringVar(&f.configMap, "config-map", "fleetsim-sweep", "ConfigMap holding sweep.yaml, for --emit k8s")
	fl.StringVar(&f.resultsClaim, "results-claim", "fleetsim-results", "PersistentVolumeClaim for the results, for --emit k8s")
	fl.IntVar(&f.parallelism, "parallelism", 0, "pods at once for --emit k8s (default: --shards)")
	cmd.AddCommand(newSweepCollectCommand(streams))
	return cmd
}

func emitJob(out io.Writer, sf *sweep.File, f *sweepFlags) error {
	if f.emit != "k8s" {
		return usageError{err: fmt.Errorf("--emit: want k8s, got %q", f.emit), use: "fleetsim sweep SWEEP.yaml --emit k8s"}
	}
	name := sf.Metadata.Name
	if name == "" {
		name = "fleetsim-sweep"
	}
	j, err := sweep.Job(sweep.JobOptions{Name: name, Shards: f.shards, Parallelism: f.parallelism, Image: f.image,
		SweepConfigMap: f.configMap, ResultsClaim: f.resultsClaim})
	if err != nil {
		return usageError{err: err, use: "fleetsim sweep SWEEP.yaml --emit k8s --shards N"}
	}
	data, err := sweep.JobYAML(j)
	if err != nil {
		return err
	}
	if _, err := sweep.DecodeJob(data); err != nil {
		return fmt.Errorf("the emitted Job does not decode with the Kubernetes API types: %w", err)
	}
	_, err = out.Write(data)
	return err
}

func newSweepCollectCommand(streams Streams) *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "collect DIR...",
		Short: "Merge the outputs of a sweep's shards into one CSV",
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageError{err: errors.New("collect needs at least one directory"), use: cmd.UseLine()}
			}
			var buf bytes.Buffer
			n, err := sweep.Collect(args, &buf)
			if err != nil {
				return invalid(err)
			}
			if n == 0 {
				return invalid(fmt.Errorf("no point results under %v", args))
			}
			if out == "" {
				_, err = streams.Out.Write(buf.Bytes())
				return err
			}
			return reports.WriteFile(out, func(w io.Writer) error { _, err := w.Write(buf.Bytes()); return err })
		},
	}
	cmd.Flags().StringVarP(&out, "out", "o", "", "write the CSV here (default stdout)")
	return cmd
}
