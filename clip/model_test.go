package clip

import (
	"math"
	"strings"
	"testing"

	"github.com/lafite-go/lafite/autograd"
	"github.com/lafite-go/lafite/nn"
	"github.com/lafite-go/lafite/tensor"
)

var tinyConfig = Config{EmbedDim: 6, ImageResolution: 6, VisionLayers: 1, VisionWidth: 8, VisionPatch: 3, VisionHeads: 2,
	ContextLength: 5, VocabSize: 11, TextWidth: 8, TextHeads: 2, TextLayers: 2}

func std(t *tensor.Tensor) float64 {
	var s float64
	d := t.Contiguous().ToSlice()
	for _, v := range d {
		s += float64(v) * float64(v)
	}
	return math.Sqrt(s / float64(len(d)))
}

func TestNewFollowsOpenAIInit(t *testing.T) {
	c := Config{EmbedDim: 64, ImageResolution: 32, VisionLayers: 1, VisionWidth: 64, VisionPatch: 8, VisionHeads: 1,
		ContextLength: 16, VocabSize: 500, TextWidth: 128, TextHeads: 2, TextLayers: 2}
	m := New(c, tensor.NewRNG(1))
	b := m.Transformer.Blocks[1]
	w := 128.0
	for _, e := range []struct {
		name string
		t    *tensor.Tensor
		want float64
	}{
		{"token_embedding", m.TokenEmbedding.Value, 0.02},
		{"positional_embedding", m.PositionalEmbedding.Value, 0.01},
		{"in_proj_weight", b.Attn.InProjWeight.Value, 1 / math.Sqrt(w)},
		{"out_proj.weight", b.Attn.OutProj.Weight.Value, 1 / math.Sqrt(w) / 2},
		{"c_fc.weight", b.FC.Weight.Value, 1 / math.Sqrt(2*w)},
		{"c_proj.weight", b.Proj.Weight.Value, 1 / math.Sqrt(w) / 2},
		{"text_projection", m.TextProjection.Value, 1 / math.Sqrt(w)},
		{"visual.class_embedding+positional", m.Visual.PositionalEmbedding.Value, 1 / 8.0},
		{"visual.conv1 (uniform ±1/√192)", m.Visual.Conv1.Value, 1 / math.Sqrt(192) / math.Sqrt(3)},
	} {
		if got := std(e.t); math.Abs(got-e.want) > 0.08*e.want {
			t.Errorf("%s: std %.4g, want %.4g", e.name, got, e.want)
		}
	}
	if got := m.LogitScale.Item(); math.Abs(float64(got)-math.Log(1/0.07)) > 1e-6 {
		t.Errorf("logit_scale %v", got)
	}
	for _, p := range nn.AllParams(New(c, nil)) {
		if strings.Contains(p.Name, "ln_") || p.Name == "logit_scale" {
			continue
		}
		if s := std(p.Var.Value); s != 0 {
			t.Fatalf("New(c, nil): %s is not zero", p.Name)
		}
	}
}

func TestEncodeTextRejectsBadRows(t *testing.T) {
	m := New(tinyConfig, tensor.NewRNG(2))
	for _, rows := range [][][]int{
		nil,
		{{1, 2, 10}},
		{{1, 2, 10, 0, 0}, {1, 11, 0, 0, 0}},
		{{1, -1, 10, 0, 0}},
	} {
		if _, err := m.EncodeText(rows); err == nil {
			t.Errorf("rows %v accepted", rows)
		}
	}
}

// The golden cases check gradients against PyTorch; this checks them against
// finite differences for a shape with several heads and odd sizes.
func TestEncodersAreDifferentiable(t *testing.T) {
	m := New(tinyConfig, tensor.NewRNG(3))
	for _, p := range nn.AllParams(m) {
		p.Var.SetRequiresGrad(false) // frozen, as inside Lafite's loss
	}
	tokens := [][]int{{9, 3, 10, 0, 0}, {9, 10, 0, 0, 0}}
	txt, err := m.EncodeText(tokens)
	if err != nil {
		t.Fatal(err)
	}
	f := func(xs []*autograd.Var) *autograd.Var {
		return m.Logits(m.EncodeImage(xs[0]), txt)
	}
	img := tensor.NewRNG(4).Normal(3, 3, 6, 6)
	if err := autograd.CheckGrad(f, []*tensor.Tensor{img}, autograd.CheckOptions{}); err != nil {
		t.Fatal(err)
	}
	g := func(xs []*autograd.Var) *autograd.Var {
		m.TokenEmbedding = xs[0]
		f, err := m.EncodeText(tokens)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	// Embeddings are N(0, 0.02²) and LayerNorm rescales them: the default
	// step (5e-3) is a quarter of their size, too coarse for central differences.
	if err := autograd.CheckGrad(g, []*tensor.Tensor{m.TokenEmbedding.Value}, autograd.CheckOptions{Eps: 1e-3}); err != nil {
		t.Fatal(err)
	}
}

// Under NoGrad the blocks hand their intermediates back to the buffer pool
// (autograd.FreeNoGrad): the features must be those of a recorded forward,
// bit for bit, and stay so when the next forwards reuse the freed buffers.
func TestNoGradForwardFreesNothingStillInUse(t *testing.T) {
	m := New(tinyConfig, tensor.NewRNG(5))
	tokens := [][]int{{9, 3, 10, 0, 0}, {9, 10, 0, 0, 0}, {9, 1, 2, 3, 10}}
	img := autograd.Const(tensor.NewRNG(6).Normal(3, 3, 6, 6))
	txt, err := m.EncodeText(tokens) // recorded: nothing freed
	if err != nil {
		t.Fatal(err)
	}
	want := [][]float32{txt.Value.ToSlice(), m.EncodeImage(img).Value.ToSlice()}
	for run := 0; run < 3; run++ {
		var got [2]*autograd.Var
		autograd.NoGrad(func() {
			got[0], err = m.EncodeText(tokens)
			got[1] = m.EncodeImage(img)
		})
		if err != nil {
			t.Fatal(err)
		}
		for i, g := range got {
			for j, v := range g.Value.ToSlice() {
				if math.Float32bits(v) != math.Float32bits(want[i][j]) {
					t.Fatalf("run %d encoder %d: element %d = %v, want %v", run, i, j, v, want[i][j])
				}
			}
			g.Value.Release()
		}
	}
	if img.Value.Numel() != 3*3*6*6 || len(img.Value.ToSlice()) != 3*3*6*6 {
		t.Fatal("the caller's image was freed")
	}
}
