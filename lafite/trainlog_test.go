package lafite

import (
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A log written record by record reads back as written, metrics only where
// they were set; the plots are PNGs, and a metrics plot of a log without
// metrics is an error that says so.
func TestLogRoundTripAndPlots(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "log.jsonl")
	recs := []LogRecord{
		{Step: 1, Kimg: 0.016, Losses: map[string]float64{"G/loss": 1.5, "D/loss": 0.7}},
		{Step: 2, Kimg: 0.032, Losses: map[string]float64{"G/loss": 1.2, "D/loss": 0.8}, Metrics: map[string]float64{"fid_clip": 0.9, "clip_score": 0.2}},
		{Step: 3, Kimg: 0.048, Losses: map[string]float64{"G/loss": 1.1, "D/loss": 0.9}, Metrics: map[string]float64{"fid_clip": 0.6, "clip_score": 0.3, "fid": 80, "is": 2.5}},
	}
	for _, r := range recs {
		if err := AppendLog(path, r); err != nil {
			t.Fatal(err)
		}
	}
	back, err := ReadLog(path)
	if err != nil || len(back) != 3 {
		t.Fatalf("%d records, %v", len(back), err)
	}
	if back[0].Metrics != nil || back[2].Metrics["fid_clip"] != 0.6 || back[1].Losses["D/loss"] != 0.8 {
		t.Fatalf("read back %+v", back)
	}
	for name, plot := range map[string]func([]LogRecord, string) error{"losses.png": PlotLosses, "metrics.png": PlotMetrics,
		"inception.png": PlotInceptionMetrics} {
		out := filepath.Join(dir, name)
		if err := plot(back, out); err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(out)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := png.Decode(f); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		f.Close()
	}
	if err := PlotMetrics(back[:1], filepath.Join(dir, "none.png")); err == nil || !strings.Contains(err.Error(), "no record has metrics") {
		t.Fatalf("metrics plot without metrics: %v", err)
	}
	if err := PlotInceptionMetrics(back[:2], filepath.Join(dir, "none.png")); err == nil || !strings.Contains(err.Error(), "no record has metrics") {
		t.Fatalf("inception plot of records with only CLIP-space metrics: %v", err)
	}
}
