package lafite

import (
	"fmt"
	"image"

	"github.com/lafite-go/lafite/autograd"
	"github.com/lafite-go/lafite/clip"
	"github.com/lafite-go/lafite/nn"
	"github.com/lafite-go/lafite/tensor"
)

// CLIPEncoder is a frozen CLIP model and its tokenizer, adapted to what
// Lafite needs: precomputed features for datasets and prompts, and the
// differentiable image path of the generator's contrastive loss.
type CLIPEncoder struct {
	Model     *clip.Model
	Tokenizer clip.Tokenizer // nil: no text encoding
}

// NewCLIPEncoder freezes m (nn.Freeze): gradients flow through it, never
// into it, and its weights stay packed for the host's products.
func NewCLIPEncoder(m *clip.Model, tok clip.Tokenizer) *CLIPEncoder {
	nn.Freeze(m)
	return &CLIPEncoder{Model: m, Tokenizer: tok}
}

// OpenCLIP loads a CLIP checkpoint and tokenizer (see clip.LoadBundle).
func OpenCLIP(modelPath, vocabPath string) (*CLIPEncoder, error) {
	if modelPath == "" {
		return nil, fmt.Errorf("a CLIP checkpoint is required (OpenAI .pt, Hugging Face or lafite-go .safetensors)")
	}
	m, tok, err := clip.LoadBundle(modelPath, vocabPath)
	if err != nil {
		return nil, err
	}
	return NewCLIPEncoder(m, tok), nil
}

// FeatureDim is the size of the joint embedding.
func (e *CLIPEncoder) FeatureDim() int { return e.Model.Config.EmbedDim }

// EncodeImages implements FeatureEncoder: CLIP's inference preprocessing,
// then normalised image features.
func (e *CLIPEncoder) EncodeImages(imgs []*image.RGBA) (*tensor.Tensor, error) {
	res := e.Model.Config.ImageResolution
	batch := make([]*tensor.Tensor, len(imgs))
	for i, im := range imgs {
		batch[i] = clip.Preprocess(clip.ImageTensor(im), res)
	}
	return e.encodeImageTensor(tensor.Stack(batch, 0)), nil
}

// encodeImageTensor runs the image tower wherever the model lives and
// returns the features on the host: on a GPU, everything the pass
// allocated is freed before it returns, so that encoding a whole dataset
// a batch at a time holds one batch's memory.
func (e *CLIPEncoder) encodeImageTensor(x *tensor.Tensor) *tensor.Tensor {
	scope := tensor.OpenScope()
	defer scope.Close()
	x = x.To(nn.DeviceOf(e.Model)) // preprocessed on the host; the model may be on a GPU
	var f *autograd.Var
	autograd.NoGrad(func() { f = clip.Normalize(e.Model.EncodeImage(autograd.Const(x))) })
	return f.Value.To(tensor.CPU)
}

// EncodeTexts implements FeatureEncoder.
func (e *CLIPEncoder) EncodeTexts(texts []string) (*tensor.Tensor, error) {
	if e.Tokenizer == nil {
		return nil, fmt.Errorf("no tokenizer: pass the BPE vocabulary (bpe_simple_vocab_16e6.txt.gz) for OpenAI models")
	}
	ids, err := e.Tokenizer.Tokenize(texts, e.Model.Config.ContextLength)
	if err != nil {
		return nil, err
	}
	scope := tensor.OpenScope() // as encodeImageTensor: host features, GPU temporaries freed
	defer scope.Close()
	var f *autograd.Var
	autograd.NoGrad(func() {
		var t *autograd.Var
		if t, err = e.Model.EncodeText(ids); err == nil {
			f = clip.Normalize(t)
		}
	})
	if err != nil {
		return nil, err
	}
	return f.Value.To(tensor.CPU), nil
}

// ImageFeatures is the generator-side path: Lafite's random crop and resize
// of images in [-1, 1], then the frozen image tower, differentiable w.r.t.
// the image.
func (e *CLIPEncoder) ImageFeatures() CLIPImageFeatures {
	res := e.Model.Config.ImageResolution
	return func(img *autograd.Var, rng *tensor.RNG) *autograd.Var {
		return clip.Normalize(e.Model.EncodeImage(clip.TrainTransform(img, res, rng)))
	}
}

// WholeImageFeatures is ImageFeatures without the random crop: the whole
// image, resized to CLIP's resolution when it differs. For worlds whose
// meaning depends on where an object sits or on its whole outline (a crop
// of half the side can cut the object out), where the crop augmentation
// turns the contrastive loss into noise.
func (e *CLIPEncoder) WholeImageFeatures() CLIPImageFeatures {
	res := e.Model.Config.ImageResolution
	return func(img *autograd.Var, _ *tensor.RNG) *autograd.Var {
		return clip.Normalize(e.Model.EncodeImage(clip.WholeImageTransform(img, res)))
	}
}
