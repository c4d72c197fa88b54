package lafite

import (
	"math"
	"testing"

	"github.com/lafite-go/lafite/autograd"
	"github.com/lafite-go/lafite/tensor"
)

// TestProjectionForms checks both forms of the semantic projection against
// their definitions, from the same network's f_s(x): the reference's default
// adds Σ_m <f_s(x_m), h'_m> to every logit, so a change of one sample's text
// feature moves every logit; the per-sample form adds <f_s(x_n), h'_n> to
// logit n only.
func TestProjectionForms(t *testing.T) {
	c := DefaultDiscriminatorConfig(16, tinyF)
	c.ChannelBase, c.ChannelMax, c.MbstdGroup = 64, 16, 2
	rng := tensor.NewRNG(61)
	d, err := NewDiscriminator(c, rng)
	if err != nil {
		t.Fatal(err)
	}
	n := 4
	img := autograd.Const(tensor.Tanh(rng.Normal(n, 3, 16, 16)))
	fts := l2Normalize(rng.Normal(n, tinyF))
	score, dFts := d.Features(img)
	dot := func(h *tensor.Tensor, i int) float64 {
		var s float64
		for k := 0; k < tinyF; k++ {
			s += float64(dFts.Value.At(i, k)) * float64(h.At(i, k))
		}
		return s
	}
	logits := func(perSample bool, h *tensor.Tensor) []float32 {
		d.Config.PerSampleProjection = perSample
		l, _ := d.Logits(img, autograd.Const(h))
		if l.Size(0) != n || l.Size(1) != 1 {
			t.Fatalf("logits of shape %v", l.Shape())
		}
		return l.Value.ToSlice()
	}
	var total float64
	for i := 0; i < n; i++ {
		total += dot(fts, i)
	}
	summed, per := logits(false, fts), logits(true, fts)
	for i := 0; i < n; i++ {
		s := float64(score.Value.At(i, 0))
		if math.Abs(float64(summed[i])-(s+total)) > 1e-4 {
			t.Fatalf("batch-summed logit %d = %v, want %v", i, summed[i], s+total)
		}
		if math.Abs(float64(per[i])-(s+dot(fts, i))) > 1e-4 {
			t.Fatalf("per-sample logit %d = %v, want %v", i, per[i], s+dot(fts, i))
		}
	}
	// Another text feature for sample 3 only.
	other := fts.Clone()
	other.Select(0, 3).CopyFrom(tensor.MulScalar(fts.Select(0, 3), -1))
	summed2, per2 := logits(false, other), logits(true, other)
	if summed2[0] == summed[0] {
		t.Fatal("batch-summed projection: sample 0's logit ignores sample 3's text feature")
	}
	if per2[0] != per[0] || per2[3] == per[3] {
		t.Fatalf("per-sample projection coupled the samples: %v -> %v", per, per2)
	}
}
