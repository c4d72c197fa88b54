package nn

import (
	"math"

	"github.com/lafite-go/lafite/autograd"
	"github.com/lafite-go/lafite/tensor"
)

// FullyConnected is StyleGAN2's FullyConnectedLayer with equalized learning
// rate: the stored weight is N(0,1)/lrMul and is used as weight·lrMul/√in, so
// Adam's effective step is the same for every layer whatever its fan-in.
type FullyConnected struct {
	Weight     *autograd.Var // [out, in]
	Bias       *autograd.Var // [out] or nil
	Activation string        // bias_act activation name ("linear", "lrelu", ...)
	LRMul      float32
	weightGain float32
}

// NewFullyConnected initialises a layer as the reference does.
func NewFullyConnected(in, out int, bias bool, activation string, lrMul, biasInit float32, rng *tensor.RNG) *FullyConnected {
	fc := &FullyConnected{
		Weight:     NewParam(tensor.MulScalar(rng.Normal(out, in), 1/lrMul)),
		Activation: activation,
		LRMul:      lrMul,
		weightGain: lrMul / float32(math.Sqrt(float64(in))),
	}
	if bias {
		fc.Bias = NewParam(tensor.Full(biasInit, out))
	}
	return fc
}

// NamedParams lists "weight" and "bias".
func (fc *FullyConnected) NamedParams(prefix string, out []Named) []Named {
	out = append(out, Named{Name: Join(prefix, "weight"), Var: fc.Weight})
	if fc.Bias != nil {
		out = append(out, Named{Name: Join(prefix, "bias"), Var: fc.Bias})
	}
	return out
}

// Forward computes act(x·(W·gain)ᵀ + b·lrMul)·def_gain for x [N, in].
func (fc *FullyConnected) Forward(x *autograd.Var) *autograd.Var {
	// x·(w·gain)ᵀ as gain·(x·wᵀ): the GEMM applies the gain, so neither the
	// forward nor the backward makes a pass over the weight for it.
	y := autograd.Linear(x, fc.Weight, fc.weightGain)
	var b *autograd.Var
	if fc.Bias != nil {
		b = fc.Bias
		if fc.LRMul != 1 {
			b = autograd.MulScalar(b, fc.LRMul)
		}
	}
	if fc.Activation == "linear" && b != nil {
		return autograd.Add(y, b)
	}
	return autograd.BiasAct(y, b, tensor.DefaultBiasAct(fc.Activation))
}
