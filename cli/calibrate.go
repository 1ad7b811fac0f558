package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"
	"github.com/spf13/cobra"

	"github.com/fleetsim/fleetsim/calibrate"
	"github.com/fleetsim/fleetsim/measurements"
	"github.com/fleetsim/fleetsim/profiles"
	"github.com/fleetsim/fleetsim/reports"
)

func newCalibrateCommand(streams Streams) *cobra.Command {
	var (
		builtin     bool
		profileName string
		name        string
		checkModels []string
		out         string
		accuracy    string
	)
	cmd := &cobra.Command{
		Use:   "calibrate [MEASUREMENTS.csv...]",
		Short: "Fit the serving model's coefficients to measurements and write a profile",
		Long: `Fit the step model's free coefficients (linear and attention MFU, weight and KV
bandwidth efficiency, per-step and per-sequence overhead) per engine family and GPU
to measurement files in fleetsim's measurement CSV format (docs/measurements.md),
with gonum's Nelder-Mead, and report the error on fit and check rows.

With no files, or with --builtin, the embedded public datasets are used (Argonne
LLM-Inference-Bench, TensorRT-LLM's published table, MLPerf Inference, Vidur's
operator profiles) with the built-in split by model. --check-models holds out
other models; rows of those models are reported as check rows, never fitted.

--out writes the fitted profile as YAML (a file when one profile results, else a
directory with NAME.yaml per profile); scenarios name it in deployments[].profile.
--accuracy writes the Markdown accuracy report (docs/accuracy.md is made so).`,
		RunE: func(cmd *cobra.Command, args []string) error {
			var rows []measurements.Row
			if builtin || len(args) == 0 {
				rows = append(rows, measurements.Builtin()...)
			}
			for _, a := range args {
				rs, err := measurements.Open(a)
				if err != nil {
					return invalid(err)
				}
				rows = append(rows, rs...)
			}
			opt := calibrate.Options{Profile: profileName, Name: name}
			switch {
			case len(checkModels) > 0:
				opt.Check = calibrate.ModelSplit(checkModels)
			case builtin || len(args) == 0:
				opt.Check = calibrate.BuiltinSplit
			}
			if len(args) > 0 {
				// The user's own rows: a framework fleetsim knows picks its
				// family; any other goes to "custom".
				opt.ProfileOf = func(r measurements.Row) string {
					if p := calibrate.ProfileFor(r); p != "" || r.Mode == measurements.Linear {
						return p
					}
					return "custom"
				}
			}
			ps, results, skipped, err := calibrate.Fit(rows, opt)
			if err != nil {
				return invalid(err)
			}
			if name != "" && len(ps) == 1 {
				ps[0].Name = name
			}
			printFits(streams.Out, ps)
			if out != "" {
				if err := writeProfiles(out, ps); err != nil {
					return err
				}
			}
			if accuracy != "" {
				linear := calibrate.FitLinear(rows, opt.Check, 0)
				command := "fleetsim " + strings.Join(os.Args[1:], " ")
				if err := reports.WriteFile(accuracy, func(w io.Writer) error {
					calibrate.WriteAccuracy(w, ps, results, linear, skipped, strings.TrimSpace(command))
					return nil
				}); err != nil {
					return err
				}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.BoolVar(&builtin, "builtin", false, "use the embedded public datasets (the default with no files)")
	f.StringVar(&profileName, "profile", "", "fit only this engine family: vllm, trtllm, mlperf or custom")
	f.StringVar(&name, "name", "", "name of the written profile (with one profile)")
	f.StringSliceVar(&checkModels, "check-models", nil, "models to hold out of the fit and report as check rows")
	f.StringVarP(&out, "out", "o", "", "write the profile(s) here: a .yaml file, or a directory")
	f.StringVar(&accuracy, "accuracy", "", "write the Markdown accuracy report to this file")
	return cmd
}

func printFits(w io.Writer, ps []*profiles.Profile) {
	t := tablewriter.NewTable(w, tablewriter.WithHeaderAutoFormat(tw.Off))
	t.Header("profile", "gpu", "precision", "fit points", "fit median APE", "check points", "check median APE")
	for _, p := range ps {
		for _, e := range p.Entries {
			if e.Fit == nil {
				continue
			}
			prec := e.Precision
			if prec == "" {
				prec = "any"
			}
			chk := "–"
			if e.Fit.CheckRows > 0 {
				chk = fmt.Sprintf("%.1f%%", 100*e.Fit.CheckMedianAPE)
			}
			_ = t.Append(p.Name, e.GPU, prec, fmt.Sprint(e.Fit.Rows), fmt.Sprintf("%.1f%%", 100*e.Fit.FitMedianAPE),
				fmt.Sprint(e.Fit.CheckRows), chk)
		}
	}
	_ = t.Render()
}

// writeProfiles writes one profile to a .yaml path, or each profile to
// dir/NAME.yaml, atomically.
func writeProfiles(out string, ps []*profiles.Profile) error {
	isFile := strings.HasSuffix(out, ".yaml") || strings.HasSuffix(out, ".yml")
	if isFile && len(ps) != 1 {
		return usageError{err: fmt.Errorf("--out %s: %d profiles were fitted; name a directory, or pick one with --profile", out, len(ps))}
	}
	for _, p := range ps {
		data, err := profiles.Marshal(p)
		if err != nil {
			return err
		}
		if _, err := profiles.Parse(data, p.Name); err != nil {
			return fmt.Errorf("fitted profile %s does not read back: %w", p.Name, err)
		}
		path := out
		if !isFile {
			if err := os.MkdirAll(out, 0o755); err != nil {
				return err
			}
			path = filepath.Join(out, p.Name+".yaml")
		}
		if err := reports.WriteFile(path, func(w io.Writer) error {
			_, err := io.Copy(w, bytes.NewReader(data))
			return err
		}); err != nil {
			return errors.Join(fmt.Errorf("writing %s", path), err)
		}
	}
	return nil
}
