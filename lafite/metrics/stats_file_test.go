package metrics

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Statistics saved and loaded back are the same float64 values; a file of
// another kind is refused.
func TestSaveStatsLoadsBackExactly(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 0))
	rows := make([][]float64, 20)
	for i := range rows {
		rows[i] = randomVec(rng, 6)
	}
	s, err := ComputeStats(rows)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "stats.safetensors")
	if err := SaveStats(path, s, "20 rows"); err != nil {
		t.Fatal(err)
	}
	back, about, err := LoadStats(path)
	if err != nil || about != "20 rows" || back.N != 20 {
		t.Fatalf("loaded %d samples, about %q, err %v", back.N, about, err)
	}
	for i := range 6 {
		if back.Mean[i] != s.Mean[i] {
			t.Fatalf("mean %d: %v, saved %v", i, back.Mean[i], s.Mean[i])
		}
		for j := range 6 {
			if back.Cov.At(i, j) != s.Cov.At(i, j) {
				t.Fatalf("cov (%d, %d): %v, saved %v", i, j, back.Cov.At(i, j), s.Cov.At(i, j))
			}
		}
	}
	if fid, err := FIDFromStats(s, back); err != nil || fid != 0 {
		t.Fatalf("FID of the statistics and their copy: %v, %v", fid, err)
	}
	other := filepath.Join(t.TempDir(), "other.safetensors")
	os.WriteFile(other, []byte("junk"), 0o644)
	if _, _, err := LoadStats(other); err == nil {
		t.Fatal("junk loaded as statistics")
	}
}

func TestLoadStatsRefusesOtherFiles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "stats.safetensors")
	rows := [][]float64{{1, 2}, {3, 5}, {0, 1}}
	s, _ := ComputeStats(rows)
	if err := SaveStats(path, s, ""); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	broken := strings.Replace(string(data), StatsFormat, "lafite-go feature statistics v9", 1)
	os.WriteFile(path, []byte(broken), 0o644)
	if _, _, err := LoadStats(path); err == nil || !strings.Contains(err.Error(), "not a statistics file") {
		t.Fatalf("another format: %v", err)
	}
}
