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

// Update applies one step using each parameter's Grad (parameters without a
// gradient are left alone but still count the step, as in PyTorch where
// state is per parameter: here every parameter shares the step count).
func (a *Adam) Update() {
	a.Step++
	bc1 := 1 - math.Pow(float64(a.Beta1), float64(a.Step))
	bc2 := 1 - math.Pow(float64(a.Beta2), float64(a.Step))
	stepSize := float64(a.LR) / bc1
	sq2 := math.Sqrt(bc2)
	for i, p := range a.Params {
		if p.Grad == nil {
			continue
		}
		g := tensor.NanToNum(p.Grad, 0, 1e5, -1e5).Contiguous().Data()
		w := p.Value.Data()
		m, v := a.m[i].Data(), a.v[i].Data()
		b1, b2 := a.Beta1, a.Beta2
		for j := range w {
			m[j] = b1*m[j] + (1-b1)*g[j]
			v[j] = b2*v[j] + (1-b2)*g[j]*g[j]
			den := math.Sqrt(float64(v[j]))/sq2 + float64(a.Eps)
			w[j] -= float32(stepSize * float64(m[j]) / den)
		}
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
