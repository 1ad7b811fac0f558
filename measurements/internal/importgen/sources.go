package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/fleetsim/fleetsim/measurements"
)

// source is one shared dataset and the importer that converts it.
type source struct {
	input  string // path under the shared folder
	output string // path under the repository root
	imp    func(io.Reader, string) ([]measurements.Row, measurements.ImportReport, error)
}

var sources = []source{
	{filepath.Join("llm_inference_bench_argonne", "batch_sweep_results.csv"), filepath.Join("measurements", "data", "argonne.csv"), measurements.ImportArgonne},
	{filepath.Join("trtllm_perf_overview", "trtllm_max_throughput.csv"), filepath.Join("measurements", "data", "trtllm.csv"), measurements.ImportTRTLLM},
	{filepath.Join("mlperf_inference_llm", "mlperf_llm_results.csv"), filepath.Join("measurements", "data", "mlperf.csv"), measurements.ImportMLPerf},
	{filepath.Join("vidur_profiling", "mlp_linear_ops_median.csv"), filepath.Join("measurements", "data", "vidur-linear.csv"), measurements.ImportVidurLinear},
}

// convert runs the importer on the file at path. Error messages name the
// file by its path under the shared folder.
func (s source) convert(path string) ([]measurements.Row, measurements.ImportReport, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, measurements.ImportReport{}, fmt.Errorf("open dataset: %w", err)
	}
	defer f.Close()
	return s.imp(f, s.input)
}

func writeRows(w io.Writer, rows []measurements.Row) error {
	return measurements.WriteCSV(w, rows)
}
