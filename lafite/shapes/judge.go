package shapes

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/lafite-go/lafite/autograd"
	"github.com/lafite-go/lafite/nn"
	"github.com/lafite-go/lafite/safetensors"
	"github.com/lafite-go/lafite/tensor"
)

// JudgeConfig sizes and trains a Judge.
type JudgeConfig struct {
	// Res is the resolution the network sees. Larger images are averaged
	// over blocks down to it, which for this world gives the same picture as
	// drawing at Res (see TestResolutionsDrawTheSameScene), so one judge
	// reads 32x32 and 64x64 images alike.
	Res int
	// Width is the channel count of the first conv; each later conv doubles it.
	Width int
	// Features is the size of the penultimate layer, the FID feature space.
	Features int
	Steps    int
	Batch    int
	LR       float32 // Adam's rate at the start; it decays on a cosine to LR/20
	// Noise is the largest std (in the [-1, 1] range) of the Gaussian noise
	// added to training images, so the judge does not depend on perfectly
	// flat colours, which generated images never have.
	Noise float32
	// EvalImages is the number of held-out images per resolution scored at
	// the end of training; EvalRes lists those resolutions.
	EvalImages int
	EvalRes    []int
}

// DefaultJudgeConfig is the judge the demo ships: 1000 steps of 32 images,
// about 35 CPU-seconds (under a minute on 2 busy cores), measured at 100%
// colour and 99.7-99.95% shape accuracy on 2000 held-out images at both 32
// and 64 pixels for seeds 1-3. The rate is high for Adam, but without
// normalisation layers lower rates learned the shapes far more slowly.
func DefaultJudgeConfig() JudgeConfig {
	return JudgeConfig{
		Res: 32, Width: 8, Features: 64,
		Steps: 1000, Batch: 32, LR: 1e-2, Noise: 0.06,
		EvalImages: 2000, EvalRes: []int{32, 64},
	}
}

// judgeConvs is the number of conv + pool stages: 32 → 4 pixels.
const judgeConvs = 3

// lreluSlope is the negative slope of the judge's activations.
const lreluSlope = 0.2

// Judge is a small CNN that reads a shape's colour and kind from an image,
// trained only on this world's labels, so it scores generated images without
// sharing anything with the CLIP model that conditioned them:
// RGB + silhouette → 3 × (conv3x3 + lrelu + 2x2 average pool) → global
// mean and max per channel → linear + lrelu (the features) → two linear
// heads (colour logits, shape logits).
type Judge struct {
	Res, Width, FeatureDim int
	ConvW, ConvB           [judgeConvs]*autograd.Var
	FC                     *nn.Linear
	ColorHead, ShapeHead   *nn.Linear
}

// NewJudge returns an untrained judge with PyTorch's default initialisation
// (U(±1/√fan_in) for weights and biases).
func NewJudge(res, width, features int, seed uint64) *Judge {
	if res < 8 || res%(1<<judgeConvs) != 0 {
		panic(fmt.Sprintf("shapes.NewJudge: res %d must be a multiple of %d", res, 1<<judgeConvs))
	}
	if width < 1 || features < 1 {
		panic(fmt.Sprintf("shapes.NewJudge: width %d and features %d must be positive", width, features))
	}
	rng := tensor.NewRNG(seed)
	j := &Judge{Res: res, Width: width, FeatureDim: features}
	in := 4 // RGB and the silhouette
	for i := range judgeConvs {
		out := width << i
		bound := float32(1 / math.Sqrt(float64(in*9)))
		j.ConvW[i] = nn.NewParam(rng.Uniform(-bound, bound, out, in, 3, 3))
		j.ConvB[i] = nn.NewParam(rng.Uniform(-bound, bound, out))
		in = out
	}
	j.FC = nn.NewLinear(2*in, features, true, rng) // mean and max of each channel
	j.ColorHead = nn.NewLinear(features, NumColors, true, rng)
	j.ShapeHead = nn.NewLinear(features, NumShapes, true, rng)
	return j
}

// judgeFloats is the number of float32 values NewJudge keeps: LoadJudge
// refuses, before allocating them, metadata whose judge the file cannot hold.
func judgeFloats(width, features int) int64 {
	in, n := int64(4), int64(0)
	for i := range judgeConvs {
		out := int64(width) << i
		n += out*in*9 + out
		in = out
	}
	f := int64(features)
	return n + 2*in*f + f + (f+1)*(NumColors+NumShapes)
}

// NamedParams lists conv{i}.weight/bias, fc, color_head and shape_head.
func (j *Judge) NamedParams(prefix string, out []nn.Named) []nn.Named {
	for i := range judgeConvs {
		out = append(out,
			nn.Named{Name: nn.Join(prefix, fmt.Sprintf("conv%d.weight", i)), Var: j.ConvW[i]},
			nn.Named{Name: nn.Join(prefix, fmt.Sprintf("conv%d.bias", i)), Var: j.ConvB[i]})
	}
	out = j.FC.NamedParams(nn.Join(prefix, "fc"), out)
	out = j.ColorHead.NamedParams(nn.Join(prefix, "color_head"), out)
	return j.ShapeHead.NamedParams(nn.Join(prefix, "shape_head"), out)
}

// Forward maps images [N, 3, Res, Res] in [-1, 1] to colour logits [N, 8],
// shape logits [N, 6] and the penultimate features [N, FeatureDim]. The
// network sees a fourth input channel, the silhouette (see Silhouette),
// treated as a constant: gradients reach x through the RGB channels only.
func (j *Judge) Forward(x *autograd.Var) (colour, shape, features *autograd.Var) {
	h := autograd.Concat([]*autograd.Var{x, autograd.Const(Silhouette(x.Value))}, 1)
	for i := range judgeConvs {
		h = autograd.Conv2d(h, j.ConvW[i], j.ConvB[i], tensor.Conv2dParams{PadH: 1, PadW: 1})
		h = autograd.LeakyRelu(h, lreluSlope)
		h = autograd.AvgPool2d(h, 2, 2, 2, 2, 0, 0, true)
	}
	// Global mean and max over positions: the shape is the same wherever it
	// sits, so the head need not learn each position separately (a
	// flattened map learned about half as fast per image).
	pooled := autograd.Concat([]*autograd.Var{
		autograd.Mean(h, []int{2, 3}, false),
		autograd.Max(autograd.Flatten(h, 2, 3), []int{2}, false),
	}, 1)
	features = autograd.LeakyRelu(j.FC.Forward(pooled), lreluSlope)
	return j.ColorHead.Forward(features), j.ShapeHead.Forward(features), features
}

// Silhouette returns, for images [N, 3, H, W], the map [N, 1, H, W] of each
// pixel's RGB distance from the image's background colour, estimated as the
// per-channel median of the border pixels (shapes never cover most of the
// border). It shows the shape whatever its colour and whichever of shape and
// background is brighter, so the network need not learn every colour pair's
// edges separately: after 300 steps of the default training, shape accuracy
// was 82% with it and 55% without.
func Silhouette(images *tensor.Tensor) *tensor.Tensor {
	if images.Dim() != 4 || images.Size(1) != 3 {
		panic(fmt.Sprintf("shapes.Silhouette: images have shape %v, want [N, 3, H, W]", images.Shape()))
	}
	n, h, w := images.Size(0), images.Size(2), images.Size(3)
	src := images.Contiguous().Data()
	out := make([]float32, n*h*w)
	plane := h * w
	border := make([]float32, 0, 2*(h+w))
	for i := range n {
		var bg [3]float32
		for c := range 3 {
			p := src[(i*3+c)*plane:][:plane]
			border = border[:0]
			for x := range w {
				border = append(border, p[x], p[(h-1)*w+x])
			}
			for y := 1; y < h-1; y++ {
				border = append(border, p[y*w], p[y*w+w-1])
			}
			bg[c] = median(border)
		}
		dst := out[i*plane:][:plane]
		for k := range dst {
			var d2 float32
			for c := range 3 {
				d := src[(i*3+c)*plane+k] - bg[c]
				d2 += d * d
			}
			dst[k] = float32(math.Sqrt(float64(d2)))
		}
	}
	return tensor.FromSlice(out, n, 1, h, w)
}

// median sorts v in place and returns its middle value.
func median(v []float32) float32 {
	slices.Sort(v)
	return v[len(v)/2]
}

// toJudgeRes resizes images to the judge's resolution: block averages for
// multiples of it (exact for this world), bilinear otherwise.
func (j *Judge) toJudgeRes(images *tensor.Tensor) *tensor.Tensor {
	if images.Dim() != 4 || images.Size(1) != 3 {
		panic(fmt.Sprintf("shapes.Judge: images have shape %v, want [N, 3, H, W]", images.Shape()))
	}
	h, w := images.Size(2), images.Size(3)
	switch {
	case h == j.Res && w == j.Res:
		return images
	case h == w && h%j.Res == 0:
		k := h / j.Res
		return tensor.AvgPool2d(images, k, k, k, k, 0, 0, true)
	}
	return tensor.InterpolateBilinear(images, j.Res, j.Res)
}

// inferenceBatch bounds the memory of one forward pass at inference.
const inferenceBatch = 256

// run applies the network without recording a graph, in chunks.
func (j *Judge) run(images *tensor.Tensor, each func(colour, shape, features *tensor.Tensor, start int)) {
	images = j.toJudgeRes(images)
	n := images.Size(0)
	autograd.NoGrad(func() {
		for start := 0; start < n; start += inferenceBatch {
			x := images.Narrow(0, start, min(inferenceBatch, n-start))
			c, s, f := j.Forward(autograd.Const(x))
			each(c.Value, s.Value, f.Value, start)
		}
	})
}

// Predict returns the most likely colour and shape of each image of
// [N, 3, H, W] in [-1, 1] (any square size; see JudgeConfig.Res).
func (j *Judge) Predict(images *tensor.Tensor) (colour, shape []int) {
	n := images.Size(0)
	colour, shape = make([]int, n), make([]int, n)
	j.run(images, func(c, s, _ *tensor.Tensor, start int) {
		argmaxRows(c, colour[start:])
		argmaxRows(s, shape[start:])
	})
	return colour, shape
}

// Features returns the penultimate activations [N, FeatureDim] of each image,
// the space in which the demo measures FID.
func (j *Judge) Features(images *tensor.Tensor) *tensor.Tensor {
	var parts []*tensor.Tensor
	j.run(images, func(_, _, f *tensor.Tensor, _ int) { parts = append(parts, f) })
	if len(parts) == 1 {
		return parts[0]
	}
	return tensor.Concat(parts, 0)
}

func argmaxRows(logits *tensor.Tensor, dst []int) {
	rows, cols := logits.Size(0), logits.Size(1)
	d := logits.Contiguous().Data()
	for r := range rows {
		best := 0
		for c := 1; c < cols; c++ {
			if d[r*cols+c] > d[r*cols+best] {
				best = c
			}
		}
		dst[r] = best
	}
}

// crossEntropy is the mean over rows of -log softmax(logits)[label].
func crossEntropy(logits *autograd.Var, labels []int) *autograd.Var {
	logp := autograd.LogSoftmax(logits, 1)
	picked := autograd.Gather(logp, 1, labels, []int{len(labels), 1})
	return autograd.Neg(autograd.Mean(picked, nil, false))
}

// Accuracy is a judge's score on labelled images at one resolution.
type Accuracy struct {
	Res                 int
	N                   int
	Color, Shape, Joint float64 // fractions in [0, 1]
}

func (a Accuracy) String() string {
	return fmt.Sprintf("%dx%d: colour %.2f%%, shape %.2f%%, both %.2f%% of %d held-out images",
		a.Res, a.Res, 100*a.Color, 100*a.Shape, 100*a.Joint, a.N)
}

// Evaluate scores the judge on samples (all of one resolution).
func (j *Judge) Evaluate(samples []Sample) Accuracy {
	if len(samples) == 0 {
		return Accuracy{}
	}
	colour, shape := j.Predict(ToTensor(samples))
	a := Accuracy{Res: samples[0].Image.Bounds().Dx(), N: len(samples)}
	for i, s := range samples {
		okC, okS := colour[i] == s.Color, shape[i] == s.Shape
		if okC {
			a.Color++
		}
		if okS {
			a.Shape++
		}
		if okC && okS {
			a.Joint++
		}
	}
	n := float64(len(samples))
	a.Color, a.Shape, a.Joint = a.Color/n, a.Shape/n, a.Joint/n
	return a
}

// JudgeStats reports a training run.
type JudgeStats struct {
	Steps, Images int
	TrainTime     time.Duration // the training steps, data generation included
	EvalTime      time.Duration // scoring the held-out images
	FinalLoss     float64       // mean of the last 20 steps' losses
	Accuracy      []Accuracy
}

// HeldOutSeed is the world seed of a judge's evaluation images: a different
// seed from its training seed, so no held-out image was seen in training.
func HeldOutSeed(seed uint64) uint64 { return seed ^ 0x5DEECE66_A5A5A5A5 }

// TrainJudge trains a judge on fresh images of the world drawn from seed
// (every step sees new images, so there is nothing to overfit), with Adam on
// the sum of the colour and shape cross-entropies, then scores it on
// held-out images at every cfg.EvalRes. progress, if not nil, is called after
// each step.
func TrainJudge(cfg JudgeConfig, seed uint64, progress func(step, steps int, loss float64)) (*Judge, JudgeStats) {
	if cfg.Steps < 1 || cfg.Batch < 1 {
		panic(fmt.Sprintf("shapes.TrainJudge: steps %d and batch %d must be positive", cfg.Steps, cfg.Batch))
	}
	start := time.Now()
	j := NewJudge(cfg.Res, cfg.Width, cfg.Features, seed)
	opt := nn.NewAdam(nn.Trainable(j), cfg.LR, 0.9, 0.999, 1e-8)
	noise := tensor.NewRNG(seed + 1)
	var recent []float64
	for step := range cfg.Steps {
		batch := generateRange(seed, step*cfg.Batch, cfg.Batch, cfg.Res)
		x := ToTensor(batch)
		if cfg.Noise > 0 {
			// Each image gets its own level in [0, Noise], so clean images
			// are not out of distribution either.
			level := noise.Uniform(0, cfg.Noise, len(batch), 1, 1, 1)
			x = tensor.Add(x, tensor.Mul(noise.Normal(x.Shape()...), level))
		}
		colours, shapes := make([]int, len(batch)), make([]int, len(batch))
		for i, s := range batch {
			colours[i], shapes[i] = s.Color, s.Shape
		}
		opt.LR = cosineLR(cfg.LR, step, cfg.Steps)
		opt.ZeroGrad()
		c, s, _ := j.Forward(autograd.Const(x))
		loss := autograd.Add(crossEntropy(c, colours), crossEntropy(s, shapes))
		loss.Backward()
		opt.Update()
		l := float64(loss.Item())
		recent = append(recent, l)
		if len(recent) > 20 {
			recent = recent[1:]
		}
		if progress != nil {
			progress(step+1, cfg.Steps, l)
		}
	}
	stats := JudgeStats{Steps: cfg.Steps, Images: cfg.Steps * cfg.Batch, TrainTime: time.Since(start)}
	for _, l := range recent {
		stats.FinalLoss += l / float64(len(recent))
	}
	evalStart := time.Now()
	for _, res := range cfg.EvalRes {
		stats.Accuracy = append(stats.Accuracy, j.Evaluate(Generate(HeldOutSeed(seed), cfg.EvalImages, res)))
	}
	stats.EvalTime = time.Since(evalStart)
	return j, stats
}

// cosineLR decays lr to lr/20 over the run; the low final rate settles the
// weights so the last steps do not trade one class's accuracy for another's.
func cosineLR(lr float32, step, steps int) float32 {
	t := float64(step) / float64(max(steps-1, 1))
	return lr * float32(0.05+0.95*0.5*(1+math.Cos(math.Pi*t)))
}

// Save writes the judge's weights and architecture as safetensors (atomic).
func (j *Judge) Save(path string) error {
	var ts []*safetensors.Tensor
	for _, p := range nn.AllParams(j) {
		v := p.Var.Value.Contiguous()
		ts = append(ts, safetensors.F32Tensor(p.Name, v.Shape(), v.Data()))
	}
	meta := map[string]string{
		"format": "lafite-shapes-judge", "res": strconv.Itoa(j.Res),
		"width": strconv.Itoa(j.Width), "features": strconv.Itoa(j.FeatureDim),
	}
	return safetensors.WriteFile(path, ts, meta)
}

// LoadJudge reads a judge written by Save.
func LoadJudge(path string) (*Judge, error) {
	f, err := safetensors.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if f.Metadata["format"] != "lafite-shapes-judge" {
		return nil, fmt.Errorf("shapes.LoadJudge %s: not a judge checkpoint (format %q)", path, f.Metadata["format"])
	}
	dims := map[string]int{}
	for _, k := range []string{"res", "width", "features"} {
		v, err := strconv.Atoi(f.Metadata[k])
		if err != nil || v < 1 || v > 1<<16 {
			return nil, fmt.Errorf("shapes.LoadJudge %s: bad %s %q in the metadata", path, k, f.Metadata[k])
		}
		dims[k] = v
	}
	if dims["res"]%(1<<judgeConvs) != 0 {
		return nil, fmt.Errorf("shapes.LoadJudge %s: res %d is not a multiple of %d", path, dims["res"], 1<<judgeConvs)
	}
	if need, stored := judgeFloats(dims["width"], dims["features"]), f.Elements(""); need > stored {
		return nil, fmt.Errorf("shapes.LoadJudge %s: the metadata's judge has %d values, the file holds only %d", path, need, stored)
	}
	j := NewJudge(dims["res"], dims["width"], dims["features"], 0)
	sd := map[string]*tensor.Tensor{}
	for name, t := range f.Tensors {
		data, err := t.Float32()
		if err != nil {
			return nil, fmt.Errorf("shapes.LoadJudge %s: %s: %w", path, name, err)
		}
		sd[name] = tensor.FromSlice(data, t.Shape...)
	}
	if err := nn.LoadStateDict(j, sd, true); err != nil {
		return nil, fmt.Errorf("shapes.LoadJudge %s: %w", path, err)
	}
	return j, nil
}
