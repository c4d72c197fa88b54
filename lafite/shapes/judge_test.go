package shapes

import (
	"image"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lafite-go/lafite/autograd"
	"github.com/lafite-go/lafite/internal/fuzzfile"
	"github.com/lafite-go/lafite/safetensors"
	"github.com/lafite-go/lafite/tensor"
)

func TestCrossEntropyMatchesNaiveLoopAndGradient(t *testing.T) {
	rng := tensor.NewRNG(3)
	logits := rng.Normal(5, 7)
	labels := []int{0, 6, 3, 3, 1}
	got := crossEntropy(autograd.Const(logits), labels).Item()
	var want float64
	for i, l := range labels {
		var z float64
		for c := range 7 {
			z += math.Exp(float64(logits.At(i, c)))
		}
		want += (math.Log(z) - float64(logits.At(i, l))) / float64(len(labels))
	}
	if math.Abs(float64(got)-want) > 1e-5 {
		t.Fatalf("crossEntropy = %v, naive %v", got, want)
	}
	err := autograd.CheckGrad(func(xs []*autograd.Var) *autograd.Var {
		return crossEntropy(xs[0], labels)
	}, []*tensor.Tensor{logits}, autograd.CheckOptions{})
	if err != nil {
		t.Fatal(err)
	}
}

func TestSilhouetteShowsTheShapeWhateverItsColour(t *testing.T) {
	// Black on dark gray and white on light gray: opposite polarities, one
	// silhouette (up to the contrast's size).
	img := func(c, bg int) Sample {
		s := Sample{Image: image32()}
		Draw(s.Image, Cross, 0.5, 0.5, 0.3, shapeRGB[c], backgroundRGB[bg])
		return s
	}
	sil := Silhouette(ToTensor([]Sample{img(Black, DarkGray), img(White, LightGray)}))
	for k := range 2 {
		m := sil.Select(0, k).Select(0, 0)
		inside, outside := m.At(16, 16), m.At(2, 2)
		if outside != 0 || inside < 0.4 {
			t.Errorf("image %d: silhouette %v inside, %v outside; want > 0.4 and 0", k, inside, outside)
		}
		// The cross's arm ends at 0.5 ± 0.285 of the side, its corner
		// region (an arm's side) is background.
		if v := m.At(8, 8); v != 0 {
			t.Errorf("image %d: silhouette %v between the arms, want 0", k, v)
		}
	}
}

func image32() *image.RGBA { return image.NewRGBA(image.Rect(0, 0, 32, 32)) }

func TestJudgeReadsEveryResolutionAndRoundTrips(t *testing.T) {
	j := NewJudge(32, 4, 8, 1)
	lo, hi := Generate(9, 20, 32), Generate(9, 20, 64)
	x64 := ToTensor(hi)
	c64, s64 := j.Predict(x64)
	pooled := tensor.AvgPool2d(x64, 2, 2, 2, 2, 0, 0, true)
	c32, s32 := j.Predict(pooled)
	if !slices.Equal(c64, c32) || !slices.Equal(s64, s32) {
		t.Fatal("a 64x64 image and its 2x2 block average read differently")
	}
	if f := j.Features(ToTensor(lo)); !slices.Equal(f.Shape(), []int{20, 8}) {
		t.Fatalf("Features shape %v, want [20 8]", f.Shape())
	}
	// Other sizes go through bilinear resizing.
	if c, _ := j.Predict(ToTensor(Generate(9, 3, 48))); len(c) != 3 {
		t.Fatalf("%d predictions for 3 images", len(c))
	}
	for _, v := range c64 {
		if v < 0 || v >= NumColors {
			t.Fatalf("colour prediction %d out of range", v)
		}
	}

	path := filepath.Join(t.TempDir(), "judge.safetensors")
	if err := j.Save(path); err != nil {
		t.Fatal(err)
	}
	k, err := LoadJudge(path)
	if err != nil {
		t.Fatal(err)
	}
	if k.Res != 32 || k.Width != 4 || k.FeatureDim != 8 {
		t.Fatalf("loaded judge has res %d width %d features %d", k.Res, k.Width, k.FeatureDim)
	}
	x := ToTensor(lo)
	if !slices.Equal(j.Features(x).Data(), k.Features(x).Data()) {
		t.Fatal("the loaded judge computes different features")
	}
	// Garbage and other checkpoints are errors, not panics.
	bad := filepath.Join(t.TempDir(), "bad")
	os.WriteFile(bad, []byte("not a checkpoint at all"), 0o644)
	if _, err := LoadJudge(bad); err == nil {
		t.Fatal("LoadJudge accepted garbage")
	}
	other := filepath.Join(t.TempDir(), "other.safetensors")
	if err := safetensors.WriteFile(other, []*safetensors.Tensor{safetensors.F32Tensor("w", []int{1}, []float32{1})}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadJudge(other); err == nil {
		t.Fatal("LoadJudge accepted a checkpoint of something else")
	}
	// Metadata asking for a judge far larger than the tensors (here 3.9e13
	// values) is refused before it is allocated.
	var ts []*safetensors.Tensor
	f, err := safetensors.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range f.Tensors {
		ts = append(ts, x)
	}
	if want, stored := judgeFloats(4, 8), f.Elements(""); want != stored {
		t.Errorf("judgeFloats(4, 8) = %d, the judge keeps %d", want, stored)
	}
	wide := filepath.Join(t.TempDir(), "wide.safetensors")
	meta := map[string]string{"format": "lafite-shapes-judge", "res": "32", "width": "65536", "features": "8"}
	if err := safetensors.WriteFile(wide, ts, meta); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadJudge(wide); err == nil || !strings.Contains(err.Error(), "holds only") {
		t.Fatalf("LoadJudge of a 65536-wide judge's metadata over a 4-wide judge's tensors: %v", err)
	}
	for _, res := range []int{30, 4} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("NewJudge(res %d) did not panic", res)
				}
			}()
			NewJudge(res, 4, 8, 1)
		}()
	}
}

// A short run takes colour and shape far above chance (1/8 and 1/6); the
// full training is TrainJudge with DefaultJudgeConfig, which the demo runs
// and reports.
func TestTrainJudgeLearns(t *testing.T) {
	cfg := DefaultJudgeConfig()
	cfg.Steps = 100
	cfg.EvalImages, cfg.EvalRes = 300, []int{32}
	var calls int
	_, stats := TrainJudge(cfg, 2, func(step, steps int, loss float64) {
		calls++
		if step != calls || steps != cfg.Steps || math.IsNaN(loss) {
			t.Fatalf("progress(%d, %d, %v) at call %d", step, steps, loss, calls)
		}
	})
	a := stats.Accuracy[0]
	t.Logf("%v after %d steps in %v (loss %.3f)", a, stats.Steps, stats.TrainTime, stats.FinalLoss)
	if a.Color < 0.9 || a.Shape < 0.3 {
		t.Fatalf("after %d steps: %v; want colour >= 90%% and shape >= 30%%", cfg.Steps, a)
	}
}

// A damaged judge file is an error, never a panic or a judge its tensors
// cannot fill.
func FuzzLoadJudge(f *testing.F) {
	seed := filepath.Join(f.TempDir(), "judge.safetensors")
	if err := NewJudge(32, 4, 8, 1).Save(seed); err != nil {
		f.Fatal(err)
	}
	fuzzfile.Fuzz(f, seed, func(path string) error {
		_, err := LoadJudge(path)
		return err
	})
}
