package nn

import (
	"fmt"

	"github.com/lafite-go/lafite/autograd"
	"github.com/lafite-go/lafite/tensor"
)

// MappingNetwork maps a latent z to the intermediate latent w (StyleGAN2's
// MappingNetwork without class conditioning): normalize_2nd_moment, then
// NumLayers equalized-lr FC layers with lrelu and lr multiplier 0.01. It tracks
// the running mean of w (w_avg) for the truncation trick.
type MappingNetwork struct {
	ZDim, WDim, NumWS int
	Layers            []*FullyConnected
	WAvg              *autograd.Var // buffer [WDim]
	WAvgBeta          float32
}

// NewMappingNetwork builds the network; hidden layers have WDim features.
func NewMappingNetwork(zDim, wDim, numWS, numLayers int, lrMul float32, rng *tensor.RNG) *MappingNetwork {
	m := &MappingNetwork{ZDim: zDim, WDim: wDim, NumWS: numWS, WAvg: NewBuffer(tensor.Zeros(wDim)), WAvgBeta: 0.995}
	in := zDim
	for i := 0; i < numLayers; i++ {
		m.Layers = append(m.Layers, NewFullyConnected(in, wDim, true, "lrelu", lrMul, 0, rng))
		in = wDim
	}
	return m
}

// NamedParams lists fc0..fcN and the w_avg buffer.
func (m *MappingNetwork) NamedParams(prefix string, out []Named) []Named {
	for i, l := range m.Layers {
		out = l.NamedParams(Join(prefix, fmt.Sprintf("fc%d", i)), out)
	}
	return append(out, Named{Name: Join(prefix, "w_avg"), Var: m.WAvg, Buffer: true})
}

// MappingOptions controls truncation and the w_avg update.
type MappingOptions struct {
	Psi        float32 // truncation ψ (1: none; 0 is treated as 1)
	Cutoff     int     // truncate only the first Cutoff ws (0: all)
	UpdateWAvg bool    // training mode: w_avg ← mean(w) + β(w_avg − mean(w))
}

// Forward maps z [N, ZDim] to ws [N, NumWS, WDim].
func (m *MappingNetwork) Forward(z *autograd.Var, o MappingOptions) *autograd.Var {
	if z.Dim() != 2 || z.Size(1) != m.ZDim {
		panic(fmt.Sprintf("nn.MappingNetwork: z must be [N, %d], got %v", m.ZDim, z.Shape()))
	}
	x := autograd.Normalize2ndMoment(z, 1, 1e-8)
	for _, l := range m.Layers {
		x = l.Forward(x)
	}
	if o.UpdateWAvg {
		mean := tensor.Mean(x.Value, []int{0}, false)
		m.WAvg.Value.CopyFrom(tensor.Add(mean, tensor.MulScalar(tensor.Sub(m.WAvg.Value, mean), m.WAvgBeta)))
	}
	n := x.Size(0)
	ws := autograd.BroadcastTo(autograd.Unsqueeze(x, 1), n, m.NumWS, m.WDim)
	if o.Psi != 0 && o.Psi != 1 {
		avg := autograd.Const(m.WAvg.Value)
		trunc := func(w *autograd.Var) *autograd.Var {
			return autograd.Add(avg, autograd.MulScalar(autograd.Sub(w, avg), o.Psi))
		}
		if o.Cutoff <= 0 || o.Cutoff >= m.NumWS {
			ws = trunc(ws)
		} else {
			head := trunc(autograd.Narrow(ws, 1, 0, o.Cutoff))
			ws = autograd.Concat([]*autograd.Var{head, autograd.Narrow(ws, 1, o.Cutoff, m.NumWS-o.Cutoff)}, 1)
		}
	}
	return ws
}
