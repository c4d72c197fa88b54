package clip

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/lafite-go/lafite/autograd"
	"github.com/lafite-go/lafite/nn"
	"github.com/lafite-go/lafite/tensor"
)

// Config fixes a CLIP model's shapes (OpenAI's build_model arguments).
type Config struct {
	EmbedDim                                   int
	ImageResolution, VisionLayers, VisionWidth int
	VisionPatch, VisionHeads                   int
	ContextLength, VocabSize                   int
	TextWidth, TextHeads, TextLayers           int
}

// ViTB32 is the released ViT-B/32 configuration.
var ViTB32 = Config{EmbedDim: 512, ImageResolution: 224, VisionLayers: 12, VisionWidth: 768, VisionPatch: 32, VisionHeads: 12,
	ContextLength: 77, VocabSize: 49408, TextWidth: 512, TextHeads: 8, TextLayers: 12}

// Model is OpenAI's CLIP: a ViT image tower and a causal text transformer
// projected into one embedding space.
type Model struct {
	Config              Config
	Visual              *VisionTransformer
	Transformer         *Transformer
	TokenEmbedding      *autograd.Var // [vocab, width]
	PositionalEmbedding *autograd.Var // [context, width]
	LNFinal             *nn.LayerNorm
	TextProjection      *autograd.Var // [width, embed]
	LogitScale          *autograd.Var // scalar, stored as a log
	mask                *tensor.Tensor
}

// New initialises a model as OpenAI's CLIP.initialize_parameters: token
// embedding N(0, 0.02²), positional N(0, 0.01²), in the text blocks in_proj
// N(0, 1/w), out_proj and c_proj N(0, 1/(2·w·layers)), c_fc N(0, 1/(2w)),
// text_projection N(0, 1/w), logit_scale log(1/0.07); the image tower as
// NewVisionTransformer. A nil rng gives zero weights, the cheap start for
// loading a checkpoint. It panics on an invalid config.
func New(c Config, rng *tensor.RNG) *Model {
	if err := c.validate(); err != nil {
		panic("clip.New: " + err.Error())
	}
	w := float64(c.TextWidth)
	m := &Model{
		Config:              c,
		Visual:              NewVisionTransformer(c.ImageResolution, c.VisionPatch, c.VisionWidth, c.VisionLayers, c.VisionHeads, c.EmbedDim, rng),
		Transformer:         newTransformer(c.TextWidth, c.TextLayers, c.TextHeads, rng),
		TokenEmbedding:      normal(rng, 0.02, c.VocabSize, c.TextWidth),
		PositionalEmbedding: normal(rng, 0.01, c.ContextLength, c.TextWidth),
		LNFinal:             nn.NewLayerNorm(c.TextWidth),
		TextProjection:      normal(rng, 1/math.Sqrt(w), c.TextWidth, c.EmbedDim),
		LogitScale:          nn.NewParam(tensor.Scalar(float32(math.Log(1 / 0.07)))),
		mask:                nn.CausalMask(c.ContextLength),
	}
	if rng != nil {
		projStd := 1 / math.Sqrt(w) / math.Sqrt(2*float64(max(c.TextLayers, 1)))
		for _, b := range m.Transformer.Blocks {
			b.Attn.InProjWeight.Value = normal(rng, 1/math.Sqrt(w), 3*c.TextWidth, c.TextWidth).Value
			b.Attn.OutProj.Weight.Value = normal(rng, projStd, c.TextWidth, c.TextWidth).Value
			b.FC.Weight.Value = normal(rng, 1/math.Sqrt(2*w), 4*c.TextWidth, c.TextWidth).Value
			b.Proj.Weight.Value = normal(rng, projStd, c.TextWidth, 4*c.TextWidth).Value
		}
	}
	return m
}

func (c Config) validate() error {
	switch {
	case c.EmbedDim < 1 || c.VisionWidth < 1 || c.TextWidth < 1 || c.ContextLength < 1 || c.VocabSize < 1:
		return fmt.Errorf("non-positive size in %+v", c)
	case c.VisionHeads < 1 || c.VisionWidth%c.VisionHeads != 0:
		return fmt.Errorf("vision width %d does not split into %d heads", c.VisionWidth, c.VisionHeads)
	case c.TextHeads < 1 || c.TextWidth%c.TextHeads != 0:
		return fmt.Errorf("text width %d does not split into %d heads", c.TextWidth, c.TextHeads)
	case c.VisionPatch < 1 || c.ImageResolution%c.VisionPatch != 0:
		return fmt.Errorf("resolution %d is not a multiple of patch %d", c.ImageResolution, c.VisionPatch)
	}
	return nil
}

// To moves the parameters and the causal attention mask to dev (in place;
// the Vars keep their identity).
func (m *Model) To(dev tensor.Device) {
	nn.MoveTo(m, dev)
	m.mask = m.mask.To(dev)
}

// NamedParams uses OpenAI's state_dict names.
func (m *Model) NamedParams(prefix string, out []nn.Named) []nn.Named {
	out = append(out,
		nn.Named{Name: nn.Join(prefix, "positional_embedding"), Var: m.PositionalEmbedding},
		nn.Named{Name: nn.Join(prefix, "text_projection"), Var: m.TextProjection},
		nn.Named{Name: nn.Join(prefix, "logit_scale"), Var: m.LogitScale})
	out = m.Visual.NamedParams(nn.Join(prefix, "visual"), out)
	out = m.Transformer.NamedParams(nn.Join(prefix, "transformer"), out)
	out = append(out, nn.Named{Name: nn.Join(prefix, "token_embedding.weight"), Var: m.TokenEmbedding})
	return m.LNFinal.NamedParams(nn.Join(prefix, "ln_final"), out)
}

// EncodeImage maps normalised images [N,3,res,res] to features [N, embed]
// (not L2-normalised). Differentiable w.r.t. the image.
func (m *Model) EncodeImage(img *autograd.Var) *autograd.Var { return m.Visual.Forward(img) }

// EncodeText maps token rows (each of ContextLength ids, EOT = the largest id)
// to features [N, embed] (not L2-normalised).
func (m *Model) EncodeText(tokens [][]int) (*autograd.Var, error) {
	n, L := len(tokens), m.Config.ContextLength
	if n == 0 {
		return nil, fmt.Errorf("clip: no token rows to encode")
	}
	ids := make([]int, 0, n*L)
	eot := make([]int, n)
	for i, row := range tokens {
		if len(row) != L {
			return nil, fmt.Errorf("clip: token row %d has %d ids, the model's context is %d", i, len(row), L)
		}
		for j, id := range row {
			if id < 0 || id >= m.Config.VocabSize {
				return nil, fmt.Errorf("clip: token row %d holds id %d outside the vocabulary of %d", i, id, m.Config.VocabSize)
			}
			if id > row[eot[i]] {
				eot[i] = j
			}
		}
		ids = append(ids, row...)
	}
	x := autograd.Embedding(m.TokenEmbedding, ids, []int{n, L}) // [N, L, width]
	x = autograd.Add(x, m.PositionalEmbedding)
	x = autograd.Permute(x, 1, 0, 2)
	x = m.Transformer.Forward(x, m.mask)
	x = autograd.Permute(x, 1, 0, 2)
	x = m.LNFinal.Forward(x)
	// Row i's EOT position: flatten and pick index i*L + eot[i].
	flat := autograd.Reshape(x, n*L, m.Config.TextWidth)
	pick := make([]int, n)
	for i := range pick {
		pick[i] = i*L + eot[i]
	}
	return autograd.Matmul(autograd.IndexSelect(flat, 0, pick), m.TextProjection), nil
}

// Normalize divides each row by its L2 norm.
func Normalize(x *autograd.Var) *autograd.Var {
	return autograd.Div(x, autograd.Sqrt(autograd.Sum(autograd.Square(x), []int{1}, true)))
}

// Logits returns exp(logit_scale)·normalise(img)·normalise(txt)ᵀ, the
// logits per image; the logits per text are its transpose.
func (m *Model) Logits(imageFeatures, textFeatures *autograd.Var) *autograd.Var {
	sim := autograd.Matmul(Normalize(imageFeatures), autograd.Transpose(Normalize(textFeatures), 0, 1))
	return autograd.Mul(sim, autograd.Exp(m.LogitScale))
}

// ConfigFromStateDict infers the shapes from OpenAI-named tensors as
// build_model does: widths, patch, grid, context, vocabulary and embedding
// from the embedding and projection shapes, layers from the resblocks
// indices, heads = width/64 (at least 1), which holds for every released
// model.
func ConfigFromStateDict(sd map[string]*tensor.Tensor) (Config, error) {
	var c Config
	shapes := map[string][]int{}
	for _, name := range []string{"visual.conv1.weight", "visual.positional_embedding", "text_projection",
		"positional_embedding", "token_embedding.weight", "ln_final.weight"} {
		t, ok := sd[name]
		if !ok {
			return c, fmt.Errorf("missing tensor %s", name)
		}
		shapes[name] = t.Shape()
	}
	want := func(name string, dims int) error {
		if s := shapes[name]; len(s) != dims {
			return fmt.Errorf("tensor %s has shape %v, expected %d dims", name, s, dims)
		}
		return nil
	}
	for name, dims := range map[string]int{"visual.conv1.weight": 4, "visual.positional_embedding": 2,
		"text_projection": 2, "positional_embedding": 2, "token_embedding.weight": 2, "ln_final.weight": 1} {
		if err := want(name, dims); err != nil {
			return c, err
		}
	}
	conv, pos := shapes["visual.conv1.weight"], shapes["visual.positional_embedding"]
	if conv[1] != 3 || conv[2] != conv[3] {
		return c, fmt.Errorf("visual.conv1.weight has shape %v, expected [width, 3, patch, patch]", conv)
	}
	grid := int(math.Round(math.Sqrt(float64(pos[0] - 1))))
	if pos[0] < 2 || grid*grid+1 != pos[0] {
		return c, fmt.Errorf("visual.positional_embedding has %d rows, expected a square grid plus one", pos[0])
	}
	tp, tpos, tok := shapes["text_projection"], shapes["positional_embedding"], shapes["token_embedding.weight"]
	c = Config{EmbedDim: tp[1], VisionWidth: conv[0], VisionPatch: conv[3], ImageResolution: conv[3] * grid,
		ContextLength: tpos[0], VocabSize: tok[0], TextWidth: shapes["ln_final.weight"][0]}
	c.VisionHeads, c.TextHeads = max(c.VisionWidth/64, 1), max(c.TextWidth/64, 1)
	c.VisionLayers = countBlocks(sd, "visual.transformer.resblocks.")
	c.TextLayers = countBlocks(sd, "transformer.resblocks.")
	if err := c.validate(); err != nil {
		return c, err
	}
	// Guard the allocation in New against a few tiny tensors that claim huge
	// sizes; exact shapes are checked when the weights are copied, with a
	// more precise message.
	if n, have := c.numParams(), numElements(sd); n > 2*float64(have)+1e6 {
		return c, fmt.Errorf("the shapes imply a model of %.0f weights but the tensors hold only %d", n, have)
	}
	return c, nil
}

// numParams counts the model's weights (float64: a corrupt header must not
// overflow the comparison that guards the allocation).
func (c Config) numParams() float64 {
	block := func(w float64) float64 { return 12*w*w + 13*w }
	vw, tw := float64(c.VisionWidth), float64(c.TextWidth)
	grid := float64(c.ImageResolution / c.VisionPatch)
	vision := vw*3*float64(c.VisionPatch*c.VisionPatch) + vw + (grid*grid+1)*vw + 4*vw +
		float64(c.VisionLayers)*block(vw) + vw*float64(c.EmbedDim)
	text := float64(c.VocabSize)*tw + float64(c.ContextLength)*tw + float64(c.TextLayers)*block(tw) +
		2*tw + tw*float64(c.EmbedDim) + 1
	return vision + text
}

func numElements(sd map[string]*tensor.Tensor) int {
	n := 0
	for _, t := range sd {
		n += t.Numel()
	}
	return n
}

func countBlocks(sd map[string]*tensor.Tensor, prefix string) int {
	seen := map[int]bool{}
	for k := range sd {
		if rest, ok := strings.CutPrefix(k, prefix); ok {
			if i, err := strconv.Atoi(strings.SplitN(rest, ".", 2)[0]); err == nil && i >= 0 {
				seen[i] = true
			}
		}
	}
	return len(seen)
}
