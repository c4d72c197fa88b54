package clip

import (
	"errors"
	"fmt"
	"math"

	"github.com/lafite-go/lafite/autograd"
	"github.com/lafite-go/lafite/nn"
	"github.com/lafite-go/lafite/tensor"
)

// MaxLogitScale is ln(100): CLIP clamps its learned temperature so that the
// logits are at most 100·cosine, which keeps the softmax from saturating.
var MaxLogitScale = math.Log(100)

// TrainConfig sets up contrastive training of a CLIP model from scratch.
type TrainConfig struct {
	// Model is the architecture; VocabSize 0 takes the tokenizer's.
	Model Config
	// Steps is the number of optimizer steps (one batch each).
	Steps int
	// LR is the peak learning rate of Adam (β1, β2, ε below): it rises
	// linearly over WarmupSteps, then follows a cosine down to LR·MinLRFraction.
	LR, MinLRFraction float64
	WarmupSteps       int
	Beta1, Beta2, Eps float64
	// Seed draws the initial weights and the crops.
	Seed uint64
	// CropProb is the probability that a training image is seen through
	// TrainTransform's random crop (side uniform in [S/2, S), resized back),
	// the view Lafite's generator loss gives the frozen model.
	CropProb float64
	// LockTextSteps keeps the text tower at its initial weights for the
	// first steps. At initialisation the text features already tell the
	// words apart (each caption is roughly an average of its words'
	// embeddings) while the image features tell nothing apart, so training
	// both at once first matches what images show most easily (colour) and
	// collapses the text features of everything else before the image tower
	// can see it: a saddle that costs hundreds of steps. Locking the text
	// first makes the image tower learn every attribute the captions name,
	// as if supervised with random class codes; then both towers align.
	LockTextSteps int
	// Key maps a caption to its label: rows of a batch with equal keys are
	// positives of each other (soft targets, see ContrastiveLoss). nil
	// treats only identical captions as the same label.
	Key func(caption string) string
}

// DefaultTrainConfig returns CLIP's optimizer settings (Adam β = (0.9, 0.98),
// ε = 1e-6) with a cosine schedule for a model of configuration c.
func DefaultTrainConfig(c Config, steps int) TrainConfig {
	return TrainConfig{Model: c, Steps: steps, LR: 1e-3, MinLRFraction: 0.05, WarmupSteps: max(1, steps/20),
		Beta1: 0.9, Beta2: 0.98, Eps: 1e-6}
}

// LearningRate is the schedule at step (0-based): linear warm-up to LR over
// WarmupSteps, then LR·(f + (1−f)·(1 + cos(π·t))/2) with t from 0 to 1 over
// the remaining steps and f = MinLRFraction.
func (c TrainConfig) LearningRate(step int) float64 {
	if step < c.WarmupSteps {
		return c.LR * float64(step+1) / float64(c.WarmupSteps)
	}
	rest := c.Steps - c.WarmupSteps
	t := 1.0
	if rest > 1 {
		t = float64(step-c.WarmupSteps) / float64(rest-1)
	}
	t = min(max(t, 0), 1)
	return c.LR * (c.MinLRFraction + (1-c.MinLRFraction)*(1+math.Cos(math.Pi*t))/2)
}

// ContrastiveTargets returns the [N, N] soft targets of a batch whose row i has
// label keys[i]: T[i][j] = 1/|{k : keys[k] = keys[i]}| when keys[j] = keys[i],
// else 0. With distinct keys it is the identity, CLIP's hard targets; a label
// shared by m rows spreads each row's target evenly over those m matches
// instead of calling m−1 of them negatives.
func ContrastiveTargets(keys []string) *tensor.Tensor {
	n := len(keys)
	count := map[string]int{}
	for _, k := range keys {
		count[k]++
	}
	t := make([]float32, n*n)
	for i, ki := range keys {
		w := 1 / float32(count[ki])
		for j, kj := range keys {
			if ki == kj {
				t[i*n+j] = w
			}
		}
	}
	return tensor.FromSlice(t, n, n)
}

// ContrastiveLoss is CLIP's symmetric loss on logits per image L [N, N]
// (rows: images, columns: texts) with soft targets T = ContrastiveTargets(keys):
// ½·(−1/N·Σᵢⱼ Tᵢⱼ·log softmaxⱼ(L)ᵢⱼ − 1/N·Σᵢⱼ Tᵢⱼ·log softmaxᵢ(L)ᵢⱼ),
// the cross-entropies of images over texts and of texts over images.
func ContrastiveLoss(logitsPerImage *autograd.Var, keys []string) *autograd.Var {
	s := logitsPerImage.Shape()
	if len(s) != 2 || s[0] != s[1] || s[0] != len(keys) {
		panic(fmt.Sprintf("clip.ContrastiveLoss: logitsPerImage has shape %v, want [%d, %d] for %d keys", s, len(keys), len(keys), len(keys)))
	}
	// T is symmetric (rows i and j share a weight whenever they match), so
	// the text direction uses the same T against a softmax over dim 0.
	t := autograd.Const(ContrastiveTargets(keys))
	perImage := autograd.SumAll(autograd.Mul(t, autograd.LogSoftmax(logitsPerImage, 1)))
	perText := autograd.SumAll(autograd.Mul(t, autograd.LogSoftmax(logitsPerImage, 0)))
	return autograd.MulScalar(autograd.Add(perImage, perText), -0.5/float32(len(keys)))
}

// PreprocessSigned normalises images x [N, 3, H, W] in [−1, 1] as Preprocess
// does images in [0, 1]: ((x+1)/2 − Mean)/Std per channel. It is what
// TrainTransform applies after its crop, so a model trained on it sees
// generated images the way Lafite feeds them.
func PreprocessSigned(x *tensor.Tensor) *tensor.Tensor {
	if x.Dim() != 4 || x.Size(1) != 3 {
		panic(fmt.Sprintf("clip.PreprocessSigned: x must be [N, 3, H, W], got %v", x.Shape()))
	}
	var scale, shift [3]float32
	for c := range scale {
		scale[c] = 0.5 / Std[c]
		shift[c] = (0.5 - Mean[c]) / Std[c]
	}
	x = tensor.Mul(x, tensor.New(scale[:], 1, 3, 1, 1))
	return tensor.Add(x, tensor.New(shift[:], 1, 3, 1, 1))
}

// randomCrops replaces each image of x [N, 3, S, S] with probability p by a
// random square crop of side uniform in [S/2, S), resized bicubically back to
// S: TrainTransform's crop, drawn per image rather than per batch.
func randomCrops(x *tensor.Tensor, p float64, rng *tensor.RNG) *tensor.Tensor {
	if p <= 0 {
		return x
	}
	x = x.Contiguous().Clone()
	size := x.Size(2)
	for i := range x.Size(0) {
		if rng.Float64() >= p {
			continue
		}
		cut := randRange(rng, max(size/2, 1), size)
		left, top := randRange(rng, 0, size-cut), randRange(rng, 0, size-cut)
		img := x.Select(0, i)
		crop := img.Narrow(1, top, cut).Narrow(2, left, cut)
		img.CopyFrom(tensor.InterpolateBicubic(crop.Contiguous(), size, size))
	}
	return x
}

// Train fits a new CLIP model with the symmetric contrastive loss. pairs(step)
// returns a batch of images [B, 3, res, res] in [−1, 1] at the model's
// resolution and one caption per image (B ≥ 2); images are normalised by
// PreprocessSigned, so the model sees what Preprocess and TrainTransform
// produce. Rows whose captions have the same cfg.Key are positives of each
// other (ContrastiveLoss). The learned logit scale is clamped to
// [0, MaxLogitScale] after each step. progress, if not nil, is called after
// every step with the batch loss.
func Train(cfg TrainConfig, pairs func(step int) (images *tensor.Tensor, captions []string), tok Tokenizer,
	progress func(step, steps int, loss float64)) (*Model, error) {
	if tok == nil {
		return nil, errors.New("clip.Train: no tokenizer")
	}
	if cfg.Steps < 1 || cfg.LR <= 0 {
		return nil, fmt.Errorf("clip.Train: steps %d and learning rate %g must be positive", cfg.Steps, cfg.LR)
	}
	mc := cfg.Model
	if mc.VocabSize == 0 {
		mc.VocabSize = tok.VocabSize()
	}
	if tok.VocabSize() > mc.VocabSize {
		return nil, fmt.Errorf("clip.Train: the tokenizer has %d ids, the model's vocabulary only %d", tok.VocabSize(), mc.VocabSize)
	}
	if err := mc.validate(); err != nil {
		return nil, fmt.Errorf("clip.Train: %v", err)
	}
	key := cfg.Key
	if key == nil {
		key = func(s string) string { return s }
	}
	rng := tensor.NewRNG(cfg.Seed)
	m := New(mc, rng.Split())
	cropRNG := rng.Split()
	params := nn.Trainable(m)
	opt := nn.NewAdam(params, float32(cfg.LR), float32(cfg.Beta1), float32(cfg.Beta2), float32(cfg.Eps))
	imageSide := append(nn.Trainable(m.Visual), m.LogitScale)
	res := mc.ImageResolution
	for step := range cfg.Steps {
		images, captions := pairs(step)
		if images == nil || images.Dim() != 4 || images.Size(1) != 3 || images.Size(2) != res || images.Size(3) != res {
			var shape []int
			if images != nil {
				shape = images.Shape()
			}
			return nil, fmt.Errorf("clip.Train: step %d: images of shape %v, want [B, 3, %d, %d]", step, shape, res, res)
		}
		b := images.Size(0)
		if b < 2 || len(captions) != b {
			return nil, fmt.Errorf("clip.Train: step %d: %d images and %d captions, want the same number, at least 2", step, b, len(captions))
		}
		tokens, err := tok.Tokenize(captions, mc.ContextLength)
		if err != nil {
			return nil, fmt.Errorf("clip.Train: step %d: %v", step, err)
		}
		keys := make([]string, b)
		for i, c := range captions {
			keys[i] = key(c)
		}
		x := PreprocessSigned(randomCrops(images, cfg.CropProb, cropRNG))
		txt, err := m.EncodeText(tokens)
		if err != nil {
			return nil, fmt.Errorf("clip.Train: step %d: %v", step, err)
		}
		loss := ContrastiveLoss(m.Logits(m.EncodeImage(autograd.Const(x)), txt), keys)
		trained := params
		if step < cfg.LockTextSteps {
			trained = imageSide // the others keep Grad nil: Adam leaves them alone
		}
		grads := autograd.Grad([]*autograd.Var{loss}, trained, nil, false)
		for i, p := range trained {
			p.Grad = grads[i].Value
		}
		opt.LR = float32(cfg.LearningRate(step))
		opt.Update()
		opt.ZeroGrad()
		ls := m.LogitScale.Value.Data()
		ls[0] = float32(min(max(float64(ls[0]), 0), MaxLogitScale))
		l := float64(loss.Item())
		if math.IsNaN(l) || math.IsInf(l, 0) {
			return nil, fmt.Errorf("clip.Train: step %d: loss is %v (learning rate %g too high?)", step, l, cfg.LR)
		}
		if progress != nil {
			progress(step, cfg.Steps, l)
		}
	}
	return m, nil
}
