package reports

import (
	"bytes"
	"html/template"
	"io"
	"strings"

	"github.com/fleetsim/fleetsim/results"
)

// HTML writes the report as one self-contained HTML file: the tables of
// Markdown, the verdicts, and every figure of Plots as inline SVG, with
// inline CSS and no external assets (no URLs, no scripts, no web fonts).
// Every user-provided string is escaped by html/template; the text inside
// the figures is escaped by the SVG renderer.
func HTML(w io.Writer, r results.Result) error {
	plots, err := Plots(r)
	if err != nil {
		return err
	}
	data := htmlData{
		Result:   r,
		Run:      runTable(r),
		Verdicts: Verdicts(r),
		Faults:   faultTables(r),
	}
	if len(r.Strategies) > 0 {
		data.Strategies = strategyTable(r)
		data.Comparison = comparisonTable(r)
	}
	for _, p := range plots {
		data.Plots = append(data.Plots, htmlPlot{Name: p.Name, Title: p.Title, SVG: inlineSVG(p.SVG)})
	}
	var buf bytes.Buffer
	if err := htmlTemplate.Execute(&buf, data); err != nil {
		return err
	}
	_, err = w.Write(buf.Bytes())
	return err
}

type htmlData struct {
	Result                      results.Result
	Run, Strategies, Comparison table
	Verdicts                    []string
	Faults                      []table
	Plots                       []htmlPlot
}

type htmlPlot struct {
	Name, Title string
	SVG         template.HTML
}

// inlineSVG turns a standalone SVG document into an element to embed in
// HTML: the XML declaration and the generator comment go, and so do the
// namespace declarations, which HTML does not need for inline SVG (they
// are URLs, and the report contains none).
func inlineSVG(b []byte) template.HTML {
	s := string(b)
	if i := strings.Index(s, "<svg"); i >= 0 {
		s = s[i:]
	}
	s = strings.Replace(s, "\n\txmlns=\"http://www.w3.org/2000/svg\"", "", 1)
	s = strings.Replace(s, "\n\txmlns:xlink=\"http://www.w3.org/1999/xlink\"", "", 1)
	// The SVG's text was escaped by its renderer (vgsvg escapes every string).
	return template.HTML(strings.TrimSpace(s)) //nolint:gosec
}

// css keeps the page readable without any external stylesheet or font.
const css = `
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  margin: 2em auto; max-width: 72em; padding: 0 1em; color: #222; line-height: 1.4; }
h1 { font-size: 1.6em; } h2 { margin-top: 1.8em; border-bottom: 1px solid #ddd; } h3 { font-size: 1.05em; }
table { border-collapse: collapse; margin: 0.5em 0 1em; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; vertical-align: top; }
th { background: #f3f3f3; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
pre { background: #f6f6f6; padding: 0.6em; overflow-x: auto; }
figure { margin: 1em 0 2em; }
figure svg { max-width: 100%; height: auto; }
figcaption { font-size: 0.9em; color: #555; }
`

var htmlTemplate = template.Must(template.New("report").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="fleetsim report">
<title>fleetsim report: {{.Result.Scenario}}</title>
<style>` + css + `</style>
</head>
<body>
<h1>fleetsim report: {{.Result.Scenario}}</h1>
{{with .Result.Description}}<p class="description">{{.}}</p>
{{end -}}
<h2 id="run">Run</h2>
{{template "table" .Run}}
{{- if .Result.Strategies}}
<h2 id="strategies">Strategies</h2>
{{template "table" .Strategies}}
<h2 id="comparison">Comparison</h2>
{{template "table" .Comparison}}
{{- end}}
{{- if .Verdicts}}
<h2 id="verdicts">Verdicts</h2>
<pre class="verdicts">{{range .Verdicts}}{{.}}
{{end}}</pre>
{{- end}}
{{- if .Faults}}
<h2 id="faults">Faults</h2>
<p>Work that started in each fault's window, per strategy.</p>
{{range .Faults}}<h3>{{.Title}}</h3>
{{template "table" .}}
{{end}}
{{- end}}
{{- if .Plots}}
<h2 id="plots">Plots</h2>
{{range .Plots}}<figure id="{{.Name}}">
{{.SVG}}
<figcaption>{{.Title}}</figcaption>
</figure>
{{end}}
{{- end}}
</body>
</html>
{{define "table"}}<table{{if not .Text}} class="figures"{{end}}>
<thead><tr>{{range .Head}}<th>{{.}}</th>{{end}}</tr></thead>
<tbody>
{{- $text := .Text}}
{{range .Rows}}<tr><th scope="row">{{.Label}}</th>{{range .Cells}}<td{{if not $text}} class="num"{{end}}>{{.}}</td>{{end}}</tr>
{{end}}</tbody>
</table>
{{end}}`))
