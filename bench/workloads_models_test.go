package bench

import "testing"

// TestModelWorkloadsAreRegistered: the CLIP towers of docs/WORKLOADS.md report
// items per second (images or texts) beside their GFLOP/s.
func TestModelWorkloadsAreRegistered(t *testing.T) {
	want := map[string]string{"clip_vitb32_b8": "images", "clip_text_b8": "texts",
		"lafite_g64_b4_fwdbwd": "images", "lafite_d64_b4_fwdbwd": "images", "inception_v3_b8": "images"}
	ws, err := Select([]string{"clip_vitb32_b8", "clip_text_b8", "lafite_g64_b4_fwdbwd", "lafite_d64_b4_fwdbwd", "inception_v3_b8"})
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range ws {
		if w.ItemUnit != want[w.Name] || w.Items < 1 {
			t.Errorf("%s: %d %s per call, want %s", w.Name, w.Items, w.ItemUnit, want[w.Name])
		}
	}
}
