package miniclip

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/lafite-go/lafite/clip"
	"github.com/lafite-go/lafite/lafite/shapes"
)

func TestCaptionLabelReadsEveryCaption(t *testing.T) {
	for i, s := range shapes.Generate(5, 4*Classes, 8) {
		for _, c := range s.Captions {
			shape, colour, ok := CaptionLabel(c)
			if !ok || shape != s.Shape || colour != s.Color {
				t.Fatalf("sample %d (%s %s): caption %q reads as shape %d colour %d ok %v", i,
					shapes.ColorNames[s.Color], shapes.ShapeNames[s.Shape], c, shape, colour, ok)
			}
			if got, want := LabelKey(c), shapes.CaptionFor(s.Shape, s.Color); got != want {
				t.Fatalf("LabelKey(%q) = %q, want %q", c, got, want)
			}
		}
	}
	for _, c := range []string{"a crimson disc", "a picture of a big jet black five-pointed star", "the plus sign is violet"} {
		if _, _, ok := CaptionLabel(c); !ok {
			t.Errorf("%q: no label", c)
		}
	}
	for _, c := range []string{"a red blue circle", "a red circle and a square", "a picture", "a red thing"} {
		if s, col, ok := CaptionLabel(c); ok {
			t.Errorf("%q reads as shape %d colour %d; it names no single pair", c, s, col)
		}
		if LabelKey(c) != c {
			t.Errorf("LabelKey(%q) = %q, want the caption itself", c, LabelKey(c))
		}
	}
}

func TestBatchesHaveDistinctLabelsAndFreshImages(t *testing.T) {
	pairs := Pairs(3, Classes, 16)
	x0, c0 := pairs(0)
	x1, c1 := pairs(1)
	if !slices.Equal(x0.Shape(), []int{Classes, 3, 16, 16}) || len(c0) != Classes {
		t.Fatalf("batch of shape %v with %d captions", x0.Shape(), len(c0))
	}
	seen := map[string]bool{}
	for _, c := range c0 {
		k := LabelKey(c)
		if seen[k] {
			t.Fatalf("label %q twice in one batch", k)
		}
		seen[k] = true
	}
	if slices.Equal(x0.Data(), x1.Data()) || slices.Equal(c0, c1) {
		t.Error("steps 0 and 1 drew the same batch")
	}
	again, _ := Pairs(3, Classes, 16)(1)
	if !slices.Equal(again.Data(), x1.Data()) {
		t.Error("the same seed and step drew different images")
	}
	for step := range 10000 {
		if dataSeed(3, step) == HeldOutSeed || dataSeed(0, step) == HeldOutSeed {
			t.Fatalf("step %d trains on the held-out seed", step)
		}
	}
}

func TestTokenizerCoversTheWorld(t *testing.T) {
	tok := Tokenizer()
	if !slices.Equal(tok.Words(), Tokenizer().Words()) {
		t.Fatal("the vocabulary differs between two builds")
	}
	longest := 0
	for _, s := range shapes.Generate(HeldOutSeed, 10*Classes, 8) {
		for _, c := range s.Captions {
			ids := tok.Encode(c)
			if slices.Contains(ids, clip.WordUnk) {
				t.Fatalf("caption %q has words outside the vocabulary: %v", c, tok.Decode(ids))
			}
			longest = max(longest, len(ids))
		}
	}
	if longest+2 > ContextLength {
		t.Errorf("a caption of %d words does not fit the context of %d with <sot> and <eot>", longest, ContextLength)
	}
	prompts, shapeOf, colourOf := Prompts()
	if len(prompts) != Classes {
		t.Fatalf("%d prompts, want %d", len(prompts), Classes)
	}
	for k, p := range prompts {
		if s, c, ok := CaptionLabel(p); !ok || Class(s, c) != k || shapeOf[k] != s || colourOf[k] != c {
			t.Errorf("prompt %d %q reads as shape %d colour %d", k, p, s, c)
		}
	}
}

func TestHeldOutIsBalanced(t *testing.T) {
	x, labels := HeldOut(2*Classes, 16)
	if x.Size(0) != 2*Classes {
		t.Fatalf("%d images", x.Size(0))
	}
	count := make([]int, Classes)
	for _, l := range labels {
		count[l]++
	}
	for k, n := range count {
		if n != 2 {
			t.Fatalf("class %d appears %d times in two blocks, want 2", k, n)
		}
	}
}

func meanOf(xs []float64) float64 {
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

// quickOptions is a model small enough for a unit test (about 15 s of CPU).
// It learns colour; shape takes the image tower ~300 steps of the default
// model to pick up, which TestDefaultOptionsReach95Percent checks on demand.
func quickOptions() Options {
	o := DefaultOptions()
	c := &o.Train.Model
	c.VisionWidth, c.VisionLayers, c.VisionHeads = 32, 2, 4
	c.TextWidth, c.TextLayers, c.TextHeads = 16, 1, 2
	c.EmbedDim = 32
	o.Batch = Classes / 2
	o.Train = clip.DefaultTrainConfig(*c, 200)
	o.Train.LR, o.Train.LockTextSteps = 3e-3, 50
	return o
}

func TestShortTrainingLearnsAndTheBundleRoundTrips(t *testing.T) {
	var losses []float64
	m, tok, err := Train(quickOptions(), func(step, steps int, loss float64) { losses = append(losses, loss) })
	if err != nil {
		t.Fatal(err)
	}
	first, last := meanOf(losses[:10]), meanOf(losses[len(losses)-10:])
	if last > 0.5*first {
		t.Errorf("loss went from %.3f to %.3f, want it at least halved", first, last)
	}
	r, err := Evaluate(m, tok, 4*Classes)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("held-out: joint %.1f%% shape %.1f%% colour %.1f%%, cosine true %.3f other %.3f",
		100*r.Accuracy, 100*r.AttributeAccuracy[0], 100*r.AttributeAccuracy[1], r.TrueCosine, r.OtherCosine)
	// Chance is 1/48 joint, 1/8 colour; colour alone gives up to 1/6 joint.
	if r.Accuracy < 5.0/Classes || r.AttributeAccuracy[1] < 0.9 || r.TrueCosine-r.OtherCosine < 0.3 {
		t.Errorf("held-out retrieval %+v is not well above chance", r)
	}

	path := filepath.Join(t.TempDir(), "mini.safetensors")
	if err := clip.SaveBundle(path, m, tok); err != nil {
		t.Fatal(err)
	}
	m2, tok2, err := clip.LoadBundle(path, "")
	if err != nil {
		t.Fatal(err)
	}
	if m2.Config != m.Config {
		t.Fatalf("config %+v after the round trip, want %+v", m2.Config, m.Config)
	}
	imgs, _ := HeldOut(8, 32)
	prompts, _, _ := Prompts()
	t1, _ := m.EncodeTexts(tok, prompts)
	t2, err := m2.EncodeTexts(tok2, prompts)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(m.EncodeImagesSigned(imgs).Data(), m2.EncodeImagesSigned(imgs).Data()) || !slices.Equal(t1.Data(), t2.Data()) {
		t.Error("features differ after the bundle round trip")
	}
}

// TestDefaultOptionsReach95Percent trains the default mini-CLIP (minutes of
// CPU); run with LAFITE_SLOW=1.
func TestDefaultOptionsReach95Percent(t *testing.T) {
	if os.Getenv("LAFITE_SLOW") == "" {
		t.Skip("minutes of CPU: set LAFITE_SLOW=1")
	}
	start := time.Now()
	m, tok, err := Train(DefaultOptions(), nil)
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	r, err := Evaluate(m, tok, 20*Classes)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("trained in %s; held-out joint %.1f%% shape %.1f%% colour %.1f%%, cosine true %.3f other %.3f", took.Round(time.Second),
		100*r.Accuracy, 100*r.AttributeAccuracy[0], 100*r.AttributeAccuracy[1], r.TrueCosine, r.OtherCosine)
	if r.Accuracy < 0.95 {
		t.Errorf("joint accuracy %.1f%%, want at least 95%%", 100*r.Accuracy)
	}
}
