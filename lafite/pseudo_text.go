package lafite

import (
	"fmt"
	"math"

	"github.com/lafite-go/lafite/autograd"
	"github.com/lafite-go/lafite/nn"
	"github.com/lafite-go/lafite/tensor"
)

// Pseudo text features are the heart of language-free training: CLIP puts
// images and texts in one space, so a perturbed CLIP image feature h' stands
// in for the caption an image does not have.

// l2Normalize divides each row by its L2 norm.
func l2Normalize(x *tensor.Tensor) *tensor.Tensor {
	return tensor.Div(x, tensor.Sqrt(tensor.Sum(tensor.Square(x), []int{1}, true)))
}

// PerturbFixed is the reference's fixed perturbation: with ε ~ N(0, I) and
// ε̂ = ε/‖ε‖, h' = normalise((1−a)·f + a·ε̂). f must be L2-normalised rows
// [N, D]. The reference uses a = 0.75 for image features and 0.1 for real
// caption features; the expected cos(h', f) for a = 0.75 in 512-D is ≈ 0.32.
func PerturbFixed(f *tensor.Tensor, a float32, rng *tensor.RNG) *tensor.Tensor {
	eps := l2Normalize(rng.Normal(f.Shape()...))
	return l2Normalize(tensor.Add(tensor.MulScalar(f, 1-a), tensor.MulScalar(eps, a)))
}

// XiToA converts the paper's noise level ξ (h' = normalise(h + ξ·ε·‖h‖/‖ε‖))
// into PerturbFixed's a: for unit-norm h the two agree when a = ξ/(1+ξ).
func XiToA(xi float32) float32 { return xi / (1 + xi) }

// PseudoTextSource says where a sample's condition comes from.
type PseudoTextSource struct {
	ImageA   float32 // perturbation of image features (0.75)
	CaptionA float32 // perturbation of caption features (0.1)
	// MixingProb is the probability a sample uses its image's pseudo text
	// feature rather than a caption feature: 1 = language-free, 0 = fully
	// supervised. Samples without a caption always use the image.
	MixingProb float32
}

// DefaultPseudoText is the language-free setting of the paper.
var DefaultPseudoText = PseudoTextSource{ImageA: 0.75, CaptionA: 0.1, MixingProb: 1}

// Conditions builds h' [N, D] for a batch: imgFts are the images' normalised
// CLIP features; txtFts (may be nil) their caption features and hasCaption
// which rows have one.
func (s PseudoTextSource) Conditions(imgFts, txtFts *tensor.Tensor, hasCaption []bool, rng *tensor.RNG) (*tensor.Tensor, error) {
	n := imgFts.Size(0)
	img := PerturbFixed(imgFts, s.ImageA, rng)
	if txtFts == nil || s.MixingProb >= 1 {
		return img, nil
	}
	if !tensor.SameShape(txtFts.Shape(), imgFts.Shape()) || len(hasCaption) != n {
		return nil, fmt.Errorf("pseudo text: caption features %v and %d caption flags for image features %v", txtFts.Shape(), len(hasCaption), imgFts.Shape())
	}
	txt := PerturbFixed(txtFts, s.CaptionA, rng)
	pick := rng.Uniform(0, 1, n).ToSlice()
	useTxt := make([]float32, n)
	for i := range useTxt {
		if hasCaption[i] && pick[i] >= s.MixingProb {
			useTxt[i] = 1
		}
	}
	return tensor.Where(tensor.New(useTxt, n, 1), txt, img), nil
}

// TrainablePerturbation is Lafite-NN's learned perturbation:
// h' = normalise(f + r1(f) + ε ⊙ exp(r2(f))), r1 and r2 MLPs
// D -> H -> H -> H -> D with leaky ReLU.
//
// Objective (our choice, the paper leaves it open): r1 and r2 are trained
// with the generator's loss, so the perturbation learns which directions of
// the image feature space text features occupy, plus AlignWeight·(cos(h', f)
// − TargetCos)², which keeps h' as far from f as a real caption is
// (TargetCos = the measured image-text cosine of the CLIP model in use);
// without it the generator's loss alone would shrink the noise to zero.
type TrainablePerturbation struct {
	R1, R2      []*nn.FullyConnected
	TargetCos   float32
	AlignWeight float32
}

// NewTrainablePerturbation builds r1 and r2 for features of size d with
// hidden width h (the reference: 512 -> 1024 x3 -> 512).
func NewTrainablePerturbation(d, h int, targetCos float32, rng *tensor.RNG) *TrainablePerturbation {
	mlp := func() []*nn.FullyConnected {
		return []*nn.FullyConnected{
			nn.NewFullyConnected(d, h, true, "lrelu", 1, 0, rng),
			nn.NewFullyConnected(h, h, true, "lrelu", 1, 0, rng),
			nn.NewFullyConnected(h, h, true, "lrelu", 1, 0, rng),
			nn.NewFullyConnected(h, d, true, "linear", 1, 0, rng),
		}
	}
	t := &TrainablePerturbation{R1: mlp(), R2: mlp(), TargetCos: targetCos, AlignWeight: 1}
	// Start near the identity map with small noise: the last layers' weights
	// are scaled down so r1(f) ≈ 0 and exp(r2(f)) ≈ 1 at step 0.
	for _, last := range []*nn.FullyConnected{t.R1[3], t.R2[3]} {
		last.Weight.Value.CopyFrom(tensor.MulScalar(last.Weight.Value, 0.01))
	}
	return t
}

// NamedParams lists r1.<i> and r2.<i>.
func (t *TrainablePerturbation) NamedParams(prefix string, out []nn.Named) []nn.Named {
	for i, l := range t.R1 {
		out = l.NamedParams(nn.Join(prefix, fmt.Sprintf("r1.%d", i)), out)
	}
	for i, l := range t.R2 {
		out = l.NamedParams(nn.Join(prefix, fmt.Sprintf("r2.%d", i)), out)
	}
	return out
}

func runMLP(layers []*nn.FullyConnected, x *autograd.Var) *autograd.Var {
	for _, l := range layers {
		x = l.Forward(x)
	}
	return x
}

// Forward returns h' and the alignment penalty for normalised features f.
func (t *TrainablePerturbation) Forward(f *autograd.Var, rng *tensor.RNG) (h, penalty *autograd.Var) {
	eps := autograd.Const(rng.NormalOn(f.Value.Device(), f.Shape()...))
	raw := autograd.Add(autograd.Add(f, runMLP(t.R1, f)), autograd.Mul(eps, autograd.Exp(runMLP(t.R2, f))))
	h = rowNormalize(raw)
	cos := autograd.Sum(autograd.Mul(h, f), []int{1}, false)
	penalty = autograd.MulScalar(autograd.Mean(autograd.Square(autograd.AddScalar(cos, -t.TargetCos)), nil, false), t.AlignWeight)
	return h, penalty
}

func rowNormalize(x *autograd.Var) *autograd.Var {
	return autograd.Div(x, autograd.Sqrt(autograd.Sum(autograd.Square(x), []int{1}, true)))
}

// PerturbationForCosine returns the a of PerturbFixed whose pseudo text
// features sit at cosine c from their image feature — the paper's argument:
// h' should be as far from f as a real caption's feature is, so c is the
// CLIP model's measured image-text cosine. For ε̂ ⟂ f (high dimensions),
// cos(h', f) = (1−a)/√((1−a)² + a²), so with r = √(1/c² − 1), a = r/(1+r).
func PerturbationForCosine(c float32) float32 {
	if c >= 1 {
		return 0
	}
	if c <= 0 {
		return 1
	}
	r := math.Sqrt(1/float64(c*c) - 1)
	return float32(r / (1 + r))
}
