package lafite

import (
	"bufio"
	"encoding/json"
	"fmt"
	"image/color"
	"io"
	"os"
	"sort"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"

	"github.com/lafite-go/lafite/internal/atomicfile"
)

// LogRecord is one line of the training log (JSON Lines).
type LogRecord struct {
	Step      int                `json:"step"`
	Kimg      float64            `json:"kimg"`
	Seconds   float64            `json:"seconds"`
	ImgPerSec float64            `json:"img_per_sec"`
	Losses    map[string]float64 `json:"losses"`
	// Metrics, on the steps that wrote a snapshot with `lafite train
	// --metrics N`: the EvalReport of G_ema on N images (fid_clip,
	// clip_score, shuffled_clip_score).
	Metrics map[string]float64 `json:"metrics,omitempty"`
}

// AppendLog appends one record to a JSONL file (synced, so a killed run keeps
// every line it reported).
func AppendLog(path string, r LogRecord) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	b, err := json.Marshal(r)
	if err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// ReadLog reads a JSONL training log; a torn last line (a killed run) is
// ignored, any other bad line is an error.
func ReadLog(path string) ([]LogRecord, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []LogRecord
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	var pending error
	for line := 1; sc.Scan(); line++ {
		if pending != nil {
			return nil, pending
		}
		var r LogRecord
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			pending = fmt.Errorf("%s line %d: %v", path, line, err)
			continue
		}
		out = append(out, r)
	}
	return out, sc.Err()
}

// PlotLosses draws every loss series of the log against kimg into a PNG.
func PlotLosses(records []LogRecord, path string) error {
	series := map[string]plotter.XYs{}
	for _, r := range records {
		for k, v := range r.Losses {
			series[k] = append(series[k], plotter.XY{X: r.Kimg, Y: v})
		}
	}
	return plotSeries("Lafite training losses", "loss", series, path)
}

// PlotMetrics draws the snapshot scores of `lafite train --metrics`
// against kimg as a PNG: those in CLIP space (FID_CLIP and the CLIP
// scores); records without metrics are skipped. The Inception scores, on
// another scale, go to PlotInceptionMetrics.
func PlotMetrics(records []LogRecord, path string) error {
	return plotMetricSeries(records, path, "G_ema in CLIP space (lafite eval)", func(k string) bool { return !inceptionMetric[k] })
}

// PlotInceptionMetrics draws the snapshots' FID and IS (`lafite train
// --metrics N --inception W`).
func PlotInceptionMetrics(records []LogRecord, path string) error {
	return plotMetricSeries(records, path, "G_ema: FID and IS (Inception-v3)", func(k string) bool { return inceptionMetric[k] })
}

var inceptionMetric = map[string]bool{"fid": true, "is": true}

func plotMetricSeries(records []LogRecord, path, title string, keep func(string) bool) error {
	series := map[string]plotter.XYs{}
	for _, r := range records {
		for k, v := range r.Metrics {
			if keep(k) {
				series[k] = append(series[k], plotter.XY{X: r.Kimg, Y: v})
			}
		}
	}
	if len(series) == 0 {
		return fmt.Errorf("plot %s: no record has metrics of this kind", path)
	}
	return plotSeries(title, "score", series, path)
}

// plotSeries draws named lines over kimg into a PNG written atomically.
func plotSeries(title, yLabel string, series map[string]plotter.XYs, path string) error {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "kimg"
	p.Y.Label.Text = yLabel
	names := make([]string, 0, len(series))
	for k := range series {
		names = append(names, k)
	}
	sort.Strings(names)
	for i, k := range names {
		l, err := plotter.NewLine(series[k])
		if err != nil {
			return err
		}
		l.Color = plotutil.Color(i)
		if i >= 7 {
			l.Dashes = []vg.Length{vg.Points(4), vg.Points(2)}
		}
		p.Add(l)
		p.Legend.Add(k, l)
	}
	p.Legend.Top = true
	p.Add(plotter.NewGrid())
	p.BackgroundColor = color.White
	img, err := p.WriterTo(10*vg.Inch, 6*vg.Inch, "png")
	if err != nil {
		return err
	}
	return atomicfile.Write(path, func(w io.Writer) error {
		_, err := img.WriteTo(w)
		return err
	})
}
