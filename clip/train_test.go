package clip

import (
	"math"
	"strings"
	"testing"

	"github.com/lafite-go/lafite/autograd"
	"github.com/lafite-go/lafite/tensor"
)

func TestContrastiveTargetsSpreadOverDuplicates(t *testing.T) {
	keys := []string{"a", "b", "a", "c", "a"}
	got := ContrastiveTargets(keys).Data()
	n := len(keys)
	for i := range keys {
		sum := float32(0)
		for j := range keys {
			want := float32(0)
			if keys[i] == keys[j] {
				want = map[string]float32{"a": 1. / 3, "b": 1, "c": 1}[keys[i]]
			}
			if v := got[i*n+j]; math.Abs(float64(v-want)) > 1e-7 {
				t.Errorf("T[%d][%d] = %v, want %v", i, j, v, want)
			}
			sum += got[i*n+j]
		}
		if math.Abs(float64(sum-1)) > 1e-6 {
			t.Errorf("row %d sums to %v, want 1", i, sum)
		}
	}
}

// contrastiveLossRef is the symmetric soft-target cross-entropy in float64.
func contrastiveLossRef(l []float32, keys []string) float64 {
	n := len(keys)
	tgt := ContrastiveTargets(keys).Data()
	logSoftmax := func(get func(k int) float64) []float64 {
		mx := math.Inf(-1)
		for k := range n {
			mx = max(mx, get(k))
		}
		s := 0.0
		for k := range n {
			s += math.Exp(get(k) - mx)
		}
		out := make([]float64, n)
		for k := range n {
			out[k] = get(k) - mx - math.Log(s)
		}
		return out
	}
	var perImage, perText float64
	for i := range n {
		row := logSoftmax(func(j int) float64 { return float64(l[i*n+j]) })
		col := logSoftmax(func(j int) float64 { return float64(l[j*n+i]) }) // text i over images j
		for j := range n {
			perImage -= float64(tgt[i*n+j]) * row[j]
			perText -= float64(tgt[i*n+j]) * col[j] // T symmetric: text i's targets are T[i]
		}
	}
	return (perImage + perText) / (2 * float64(n))
}

func TestContrastiveLossMatchesReference(t *testing.T) {
	rng := tensor.NewRNG(3)
	for _, keys := range [][]string{
		{"a", "b", "c", "d", "e"},      // CLIP's hard targets
		{"a", "b", "a", "c", "a", "b"}, // duplicates
		{"x", "x", "x"},
	} {
		n := len(keys)
		l := tensor.MulScalar(rng.Normal(n, n), 3)
		got := float64(ContrastiveLoss(autograd.Const(l), keys).Item())
		want := contrastiveLossRef(l.Data(), keys)
		if math.Abs(got-want) > 1e-5*max(1, math.Abs(want)) {
			t.Errorf("keys %v: loss %v, want %v", keys, got, want)
		}
		if err := autograd.CheckGrad(func(xs []*autograd.Var) *autograd.Var { return ContrastiveLoss(xs[0], keys) },
			[]*tensor.Tensor{l}, autograd.CheckOptions{}); err != nil {
			t.Errorf("keys %v: %v", keys, err)
		}
	}
}

// A model that already matches every image to every caption of its label is
// at a stationary point of the soft-target loss; CLIP's hard targets would
// still push an image away from the other captions of its own label.
func TestDuplicateLabelsAreNotNegatives(t *testing.T) {
	keys := []string{"red circle", "blue star", "red circle", "green heart"}
	n := len(keys)
	l := make([]float32, n*n)
	for i := range keys {
		for j := range keys {
			if keys[i] == keys[j] {
				l[i*n+j] = 20
			}
		}
	}
	gradNorm := func(keys []string) float64 {
		x := autograd.Param(tensor.FromSlice(append([]float32(nil), l...), n, n))
		g := autograd.Grad([]*autograd.Var{ContrastiveLoss(x, keys)}, []*autograd.Var{x}, nil, false)[0]
		s := 0.0
		for _, v := range g.Value.Data() {
			s += float64(v) * float64(v)
		}
		return math.Sqrt(s)
	}
	if g := gradNorm(keys); g > 1e-6 {
		t.Errorf("soft targets: gradient norm %g at the ideal logits, want 0", g)
	}
	hard := []string{"0", "1", "2", "3"}
	if g := gradNorm(hard); g < 0.1 {
		t.Errorf("hard targets: gradient norm %g, expected a push between the duplicates", g)
	}
	// Identical captions: the default key (the caption) groups them.
	if got := ContrastiveTargets(keys).Data()[0*n+2]; got != 0.5 {
		t.Errorf("T[0][2] = %v for identical captions, want 0.5", got)
	}
}

func TestLearningRateWarmsUpThenDecays(t *testing.T) {
	c := TrainConfig{Steps: 100, LR: 1e-3, WarmupSteps: 10, MinLRFraction: 0.1}
	if got := c.LearningRate(0); math.Abs(got-1e-4) > 1e-12 {
		t.Errorf("step 0: lr %g, want 1e-4", got)
	}
	if got := c.LearningRate(9); math.Abs(got-1e-3) > 1e-12 {
		t.Errorf("end of warm-up: lr %g, want 1e-3", got)
	}
	if got := c.LearningRate(10); math.Abs(got-1e-3) > 1e-12 {
		t.Errorf("first cosine step: lr %g, want the peak", got)
	}
	if got := c.LearningRate(99); math.Abs(got-1e-4) > 1e-12 {
		t.Errorf("last step: lr %g, want LR·MinLRFraction = 1e-4", got)
	}
	for s := 11; s < 100; s++ {
		if c.LearningRate(s) > c.LearningRate(s-1) {
			t.Fatalf("lr rises from step %d to %d after warm-up", s-1, s)
		}
	}
}

func TestPreprocessSignedMatchesPreprocess(t *testing.T) {
	x := tensor.NewRNG(5).Uniform(-1, 1, 2, 3, 7, 7)
	got := PreprocessSigned(x)
	for i := range 2 {
		unit := tensor.AddScalar(tensor.MulScalar(x.Select(0, i).Contiguous(), 0.5), 0.5)
		want := Preprocess(unit, 7).Contiguous().Data()
		for j, v := range got.Select(0, i).Contiguous().Data() {
			if math.Abs(float64(v-want[j])) > 1e-5 {
				t.Fatalf("image %d element %d: %v, want %v", i, j, v, want[j])
			}
		}
	}
}

func tinyTrainConfig(vocab int) Config {
	return Config{EmbedDim: 8, ImageResolution: 8, VisionPatch: 4, VisionWidth: 8, VisionLayers: 1, VisionHeads: 2,
		ContextLength: 6, VocabSize: vocab, TextWidth: 8, TextHeads: 2, TextLayers: 1}
}

// colourBatch is a toy task: a flat image of one of four colours and its name.
func colourBatch(step int) (*tensor.Tensor, []string) {
	names := []string{"red", "green", "blue", "white"}
	rgb := [][3]float32{{1, -1, -1}, {-1, 1, -1}, {-1, -1, 1}, {1, 1, 1}}
	x := make([]float32, 4*3*64)
	caps := make([]string, 4)
	for i := range 4 {
		c := (i + step) % 4 // the order changes with the step
		caps[i] = "a " + names[c] + " square"
		for ch := range 3 {
			for p := range 64 {
				x[(i*3+ch)*64+p] = rgb[c][ch]
			}
		}
	}
	return tensor.FromSlice(x, 4, 3, 8, 8), caps
}

func TestTrainLowersTheLossAndClampsTheScale(t *testing.T) {
	tok := BuildWordTokenizer([]string{"a red square", "a green square", "a blue square", "a white square"}, 1)
	cfg := DefaultTrainConfig(tinyTrainConfig(0), 120)
	cfg.LR = 3e-3
	var losses []float64
	m, err := Train(cfg, colourBatch, tok, func(step, steps int, loss float64) { losses = append(losses, loss) })
	if err != nil {
		t.Fatal(err)
	}
	if len(losses) != 120 {
		t.Fatalf("progress called %d times, want 120", len(losses))
	}
	first, last := mean(losses[:5]), mean(losses[115:])
	if last > 0.5*first {
		t.Errorf("loss went from %.3f to %.3f, want it at least halved", first, last)
	}
	if s := float64(m.LogitScale.Item()); s < 0 || s > MaxLogitScale+1e-6 {
		t.Errorf("logit scale %v outside [0, ln 100]", s)
	}
	if m.Config.VocabSize != tok.VocabSize() {
		t.Errorf("vocabulary %d, want the tokenizer's %d", m.Config.VocabSize, tok.VocabSize())
	}
	imgs, caps := colourBatch(0)
	labels := make([]int, 4)
	prompts := []string{"a red square", "a green square", "a blue square", "a white square"}
	for i, c := range caps {
		for k, p := range prompts {
			if p == c {
				labels[i] = k
			}
		}
	}
	rep, err := EvaluateRetrieval(m, tok, imgs, labels, prompts, []int{0, 0, 1, 1})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Accuracy < 1 || rep.AttributeAccuracy[0] < 1 || rep.TrueCosine <= rep.OtherCosine {
		t.Errorf("retrieval after training: %+v, want every colour found", rep)
	}
}

func mean(xs []float64) float64 {
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

func TestTrainRejectsBadBatches(t *testing.T) {
	tok := BuildWordTokenizer([]string{"a red square"}, 1)
	cfg := DefaultTrainConfig(tinyTrainConfig(0), 2)
	for name, c := range map[string]struct {
		pairs func(int) (*tensor.Tensor, []string)
		want  string
	}{
		"resolution": {func(int) (*tensor.Tensor, []string) { return tensor.Zeros(2, 3, 16, 16), []string{"a", "b"} }, "want [B, 3, 8, 8]"},
		"captions":   {func(int) (*tensor.Tensor, []string) { return tensor.Zeros(3, 3, 8, 8), []string{"a", "b"} }, "3 images and 2 captions"},
		"one pair":   {func(int) (*tensor.Tensor, []string) { return tensor.Zeros(1, 3, 8, 8), []string{"a"} }, "at least 2"},
	} {
		if _, err := Train(cfg, c.pairs, tok, nil); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one mentioning %q", name, err, c.want)
		}
	}
	small := cfg
	small.Model.VocabSize = 2
	if _, err := Train(small, colourBatch, tok, nil); err == nil || !strings.Contains(err.Error(), "vocabulary") {
		t.Errorf("vocabulary too small: error %v", err)
	}
}

func TestEvaluateRetrievalBookkeeping(t *testing.T) {
	tok := BuildWordTokenizer([]string{"a red square", "a green circle"}, 1)
	m := New(tinyTrainConfig(tok.VocabSize()), tensor.NewRNG(9))
	imgs := tensor.NewRNG(10).Uniform(-1, 1, 6, 3, 8, 8)
	labels := []int{0, 1, 2, 3, 0, 1}
	prompts := []string{"a red square", "a green square", "a red circle", "a green circle"}
	colour, shape := []int{0, 1, 0, 1}, []int{0, 0, 1, 1}
	rep, err := EvaluateRetrieval(m, tok, imgs, labels, prompts, colour, shape)
	if err != nil {
		t.Fatal(err)
	}
	// Recompute from the features.
	img := m.EncodeImagesSigned(imgs).Data()
	txt, _ := m.EncodeTexts(tok, prompts)
	td := txt.Data()
	e := m.Config.EmbedDim
	var right, rightColour, rightShape int
	var tc, oc float64
	for i, l := range labels {
		best, bestCos := -1, math.Inf(-1)
		for j := range prompts {
			c := 0.0
			for k := range e {
				c += float64(img[i*e+k]) * float64(td[j*e+k])
			}
			if c > bestCos {
				best, bestCos = j, c
			}
			if j == l {
				tc += c
			} else {
				oc += c
			}
		}
		if best == l {
			right++
		}
		if colour[best] == colour[l] {
			rightColour++
		}
		if shape[best] == shape[l] {
			rightShape++
		}
	}
	n := float64(len(labels))
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"accuracy", rep.Accuracy, float64(right) / n},
		{"colour", rep.AttributeAccuracy[0], float64(rightColour) / n},
		{"shape", rep.AttributeAccuracy[1], float64(rightShape) / n},
		{"true cosine", rep.TrueCosine, tc / n},
		{"other cosine", rep.OtherCosine, oc / (n * 3)},
	} {
		if math.Abs(c.got-c.want) > 1e-5 {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if _, err := EvaluateRetrieval(m, tok, imgs, []int{0, 1, 2, 3, 0, 4}, prompts); err == nil || !strings.Contains(err.Error(), "label 4 of image 5") {
		t.Errorf("label out of range: error %v", err)
	}
	if _, err := EvaluateRetrieval(m, tok, imgs, labels, prompts, []int{0, 1}); err == nil || !strings.Contains(err.Error(), "attribute 0") {
		t.Errorf("short attribute: error %v", err)
	}
}

func TestLockTextStepsFreezesOnlyTheTextTower(t *testing.T) {
	tok := BuildWordTokenizer([]string{"a red square", "a green square", "a blue square", "a white square"}, 1)
	cfg := DefaultTrainConfig(tinyTrainConfig(0), 3)
	cfg.Seed, cfg.LockTextSteps = 4, 3
	mc := cfg.Model
	mc.VocabSize = tok.VocabSize()
	init := New(mc, tensor.NewRNG(cfg.Seed).Split()) // Train's initial weights
	m, err := Train(cfg, colourBatch, tok, nil)
	if err != nil {
		t.Fatal(err)
	}
	same := func(a, b *autograd.Var) bool {
		x, y := a.Value.Contiguous().Data(), b.Value.Contiguous().Data()
		for i := range x {
			if x[i] != y[i] {
				return false
			}
		}
		return true
	}
	for name, p := range map[string][2]*autograd.Var{
		"token_embedding":    {m.TokenEmbedding, init.TokenEmbedding},
		"text_projection":    {m.TextProjection, init.TextProjection},
		"positional":         {m.PositionalEmbedding, init.PositionalEmbedding},
		"text block in_proj": {m.Transformer.Blocks[0].Attn.InProjWeight, init.Transformer.Blocks[0].Attn.InProjWeight},
	} {
		if !same(p[0], p[1]) {
			t.Errorf("%s changed while the text tower was locked", name)
		}
	}
	if same(m.Visual.Conv1, init.Visual.Conv1) || same(m.Visual.Proj, init.Visual.Proj) || same(m.LogitScale, init.LogitScale) {
		t.Error("the image tower or the logit scale did not train during the lock")
	}
	cfg.Steps = 4 // one step past the lock
	m, err = Train(cfg, colourBatch, tok, nil)
	if err != nil {
		t.Fatal(err)
	}
	if same(m.TokenEmbedding, init.TokenEmbedding) {
		t.Error("the text tower did not train after the lock")
	}
}

func TestRandomCropsZoomEachImage(t *testing.T) {
	x := tensor.NewRNG(2).Uniform(-1, 1, 3, 3, 16, 16)
	if randomCrops(x, 0, tensor.NewRNG(1)) != x {
		t.Error("p = 0 must leave the batch alone")
	}
	flat := tensor.AddScalar(tensor.Zeros(1, 3, 16, 16), 0.25)
	for i, v := range randomCrops(flat, 1, tensor.NewRNG(1)).Data() {
		if math.Abs(float64(v)-0.25) > 1e-5 {
			t.Fatalf("a flat image changed at %d: %v (a crop of a flat image is flat)", i, v)
		}
	}
	orig := append([]float32(nil), x.Data()...)
	y := randomCrops(x, 1, tensor.NewRNG(1))
	for i, v := range x.Data() {
		if v != orig[i] {
			t.Fatal("randomCrops wrote into its input")
		}
	}
	if !tensor.SameShape(y.Shape(), x.Shape()) {
		t.Fatalf("shape %v, want %v", y.Shape(), x.Shape())
	}
	for i := range 3 {
		a, b := x.Select(0, i).Contiguous().Data(), y.Select(0, i).Contiguous().Data()
		same := true
		for j := range a {
			same = same && a[j] == b[j]
		}
		if same {
			t.Errorf("image %d was not cropped", i)
		}
	}
}
