package metrics

import (
	"math"
	"strings"
	"testing"
)

func TestInceptionScoreOfKnownDistributions(t *testing.T) {
	const classes = 5
	oneHot := make([][]float64, 40) // each image one class, every class as often
	uniform := make([][]float64, 40)
	for i := range oneHot {
		oneHot[i] = make([]float64, classes)
		oneHot[i][i%classes] = 1
		uniform[i] = []float64{0.2, 0.2, 0.2, 0.2, 0.2}
	}
	if m, s, err := InceptionScore(oneHot, 4); err != nil || math.Abs(m-classes) > 1e-12 || s > 1e-12 {
		t.Fatalf("one class an image, all classes alike: %v ± %v (%v), want 5 ± 0", m, s, err)
	}
	if m, s, err := InceptionScore(uniform, 4); err != nil || math.Abs(m-1) > 1e-12 || s > 1e-12 {
		t.Fatalf("every image uncertain: %v ± %v (%v), want 1 ± 0", m, s, err)
	}
	// Two parts: one sees classes 0 and 1 (score 2), the other only
	// class 0 (score 1); their mean 1.5, deviation 0.5.
	mixed := [][]float64{{1, 0}, {0, 1}, {1, 0}, {1, 0}}
	if m, s, err := InceptionScore(mixed, 2); err != nil || math.Abs(m-1.5) > 1e-12 || math.Abs(s-0.5) > 1e-12 {
		t.Fatalf("two parts: %v ± %v (%v), want 1.5 ± 0.5", m, s, err)
	}
	for _, c := range []struct {
		probs  [][]float64
		splits int
		want   string
	}{
		{oneHot[:3], 4, "3 images in 4 parts"},
		{[][]float64{{0.5, 0.5}, {1}}, 1, "image 1 has 1 class probabilities"},
		{[][]float64{{0.5, math.NaN()}}, 1, "class probability NaN"},
	} {
		if _, _, err := InceptionScore(c.probs, c.splits); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("got %v, want an error with %q", err, c.want)
		}
	}
}
