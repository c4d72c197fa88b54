package nn

import (
	"fmt"
	"math"

	"github.com/lafite-go/lafite/autograd"
	"github.com/lafite-go/lafite/tensor"
)

// Adam is the Adam optimizer (Kingma & Ba) as torch.optim.Adam computes it,
// without weight decay. Gradients pass through nan_to_num first, as Lafite's
// training loop does, so one bad batch cannot poison the weights.
type Adam struct {
	Params       []*autograd.Var
	LR           float32
	Beta1, Beta2 float32
	Eps          float32
	Step         int
	m, v         []*tensor.Tensor
}

// NewAdam returns an optimizer over params.
func NewAdam(params []*autograd.Var, lr, beta1, beta2, eps float32) *Adam {
	a := &Adam{Params: params, LR: lr, Beta1: beta1, Beta2: beta2, Eps: eps}
	for _, p := range params {
		a.m = append(a.m, tensor.ZerosLike(p.Value))
		a.v = append(a.v, tensor.ZerosLike(p.Value))
	}
	return a
}

// LazyRegularization rescales the hyper-parameters of an optimizer whose loss
// gets a regularizer only every interval steps (StyleGAN2's lazy
// regularization): lr·c and β^c with c = interval/(interval+1).
func LazyRegularization(lr, beta1, beta2 float32, interval int) (float32, float32, float32) {
	if interval <= 0 {
		return lr, beta1, beta2
	}
	c := float64(interval) / float64(interval+1)
	return lr * float32(c), float32(math.Pow(float64(beta1), c)), float32(math.Pow(float64(beta2), c))
}

// ZeroGrad clears every parameter's accumulated gradient.
func (a *Adam) ZeroGrad() {
	for _, p := range a.Params {
		p.ZeroGrad()
	}
}

// Update applies one step of tensor.AdamStep to every parameter with a Grad,
// NaN gradients zeroed and infinities clamped to ±1e5 as Lafite's training
// loop does (parameters without a gradient are left alone but still count
// the step, as in PyTorch where state is per parameter: here every parameter
// shares the step count).
func (a *Adam) Update() { a.UpdateScaled(1) }

// UpdateScaled is Update with every gradient multiplied by gradScale first
// (in the step's own pass, not a pass of its own): a lazy regulariser's
// interval, say.
func (a *Adam) UpdateScaled(gradScale float32) {
	a.Step++
	hp := tensor.AdamParams{LR: a.LR, Beta1: a.Beta1, Beta2: a.Beta2, Eps: a.Eps, Step: a.Step, InfTo: 1e5, GradScale: gradScale}
	// Every parameter with a gradient in one call: a few launches on a GPU.
	var ps, gs, ms, vs []*tensor.Tensor
	for i, p := range a.Params {
		if p.Grad != nil {
			ps, gs, ms, vs = append(ps, p.Value), append(gs, p.Grad), append(ms, a.m[i]), append(vs, a.v[i])
		}
	}
	tensor.AdamStepAll(ps, gs, ms, vs, hp)
}

// To moves the moment tensors to dev (the parameters move with MoveTo).
func (a *Adam) To(dev tensor.Device) {
	for i := range a.m {
		a.m[i], a.v[i] = a.m[i].To(dev), a.v[i].To(dev)
	}
}

// State returns the moment tensors for checkpointing (m then v per parameter).
func (a *Adam) State() (m, v []*tensor.Tensor) { return a.m, a.v }

// SetState restores moments and the step count saved by State.
func (a *Adam) SetState(m, v []*tensor.Tensor, step int) error {
	if len(m) != len(a.m) || len(v) != len(a.v) {
		return fmt.Errorf("adam state: %d/%d moment tensors for %d parameters", len(m), len(v), len(a.m))
	}
	for i := range m {
		if !tensor.SameShape(m[i].Shape(), a.m[i].Shape()) || !tensor.SameShape(v[i].Shape(), a.v[i].Shape()) {
			return fmt.Errorf("adam state: moment %d has shape %v, parameter has %v", i, m[i].Shape(), a.m[i].Shape())
		}
		a.m[i].CopyFrom(m[i])
		a.v[i].CopyFrom(v[i])
	}
	a.Step = step
	return nil
}
