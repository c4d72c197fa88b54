package autograd

import (
	"sync/atomic"

	"github.com/lafite-go/lafite/tensor"
)

// BackwardFunc maps the output's gradient to one gradient per input (nil where
// the input needs none). needs[i] reports whether input i's gradient is wanted;
// rules may skip work for the others.
type BackwardFunc func(g *Var, needs []bool) []*Var

type node struct {
	op       string
	inputs   []*Var
	backward BackwardFunc
}

// Var is a tensor plus its place in the recorded graph.
type Var struct {
	Value *tensor.Tensor
	// Grad is accumulated by Backward for leaves that require gradients.
	Grad *tensor.Tensor

	requiresGrad bool
	node         *node
}

// Const wraps a tensor that never needs a gradient.
func Const(t *tensor.Tensor) *Var { return &Var{Value: t} }

// Param wraps a tensor as a leaf that requires gradients.
func Param(t *tensor.Tensor) *Var { return &Var{Value: t, requiresGrad: true} }

// Scalar is a constant 0-d Var.
func Scalar(v float32) *Var { return Const(tensor.Scalar(v)) }

// RequiresGrad reports whether gradients flow to or through v.
func (v *Var) RequiresGrad() bool { return v.requiresGrad }

// SetRequiresGrad turns a leaf into a parameter or back; it panics on non-leaves.
func (v *Var) SetRequiresGrad(on bool) *Var {
	if v.node != nil {
		panic("autograd: SetRequiresGrad on a non-leaf Var; use Detach first")
	}
	v.requiresGrad = on
	return v
}

// IsLeaf reports whether v was created by the user rather than by an op.
func (v *Var) IsLeaf() bool { return v.node == nil }

// Op names the operation that produced v ("" for leaves).
func (v *Var) Op() string {
	if v.node == nil {
		return ""
	}
	return v.node.op
}

// Detach returns a Var sharing v's value with no history.
func (v *Var) Detach() *Var { return Const(v.Value) }

// Shape returns the value's shape.
func (v *Var) Shape() []int { return v.Value.Shape() }

// HasShape reports whether the value's shape is shape, without copying it.
func (v *Var) HasShape(shape ...int) bool { return v.Value.HasShape(shape...) }

// SameShapeAs reports whether v and u have values of the same shape.
func (v *Var) SameShapeAs(u *Var) bool { return v.Value.SameShapeAs(u.Value) }

// Dim returns the value's number of dimensions.
func (v *Var) Dim() int { return v.Value.Dim() }

// Size returns the extent of dimension d.
func (v *Var) Size(d int) int { return v.Value.Size(d) }

// Numel returns the value's element count.
func (v *Var) Numel() int { return v.Value.Numel() }

// Item returns the single element of a one-element Var.
func (v *Var) Item() float32 { return v.Value.Item() }

// ZeroGrad drops the accumulated gradient.
func (v *Var) ZeroGrad() { v.Grad = nil }

var noGradDepth atomic.Int32

// GradEnabled reports whether operations are being recorded.
func GradEnabled() bool { return noGradDepth.Load() == 0 }

// NoGrad runs f without recording operations (for inference and for
// first-order backward passes).
func NoGrad(f func()) {
	noGradDepth.Add(1)
	defer noGradDepth.Add(-1)
	f()
}

// FreeNoGrad hands the values of vs back to the tensor buffer pool, for
// inference code done with intermediates it created: it does something only
// inside NoGrad, where no graph can still read them (while grad is enabled,
// backward may). Released values, and every view of them, must not be used
// again; releasing a value twice, or a value and its views, is harmless.
// Reused pool buffers spare the zeroing and the GC work of fresh ones.
func FreeNoGrad(vs ...*Var) {
	if GradEnabled() {
		return
	}
	for _, v := range vs {
		if v != nil {
			v.Value.Release()
		}
	}
}

// record wraps out as the result of op on inputs. Nothing is recorded when
// grad mode is off or no input requires gradients.
func record(op string, out *tensor.Tensor, inputs []*Var, backward BackwardFunc) *Var {
	v := &Var{Value: out}
	if !GradEnabled() {
		return v
	}
	for _, in := range inputs {
		if in != nil && in.requiresGrad {
			v.requiresGrad = true
			v.node = &node{op: op, inputs: inputs, backward: backward}
			break
		}
	}
	return v
}

// Record is record for packages that define their own differentiable
// operations (fused kernels in nn and elsewhere). The backward rule must be
// written with differentiable operations for higher orders to work.
func Record(op string, out *tensor.Tensor, inputs []*Var, backward BackwardFunc) *Var {
	return record(op, out, inputs, backward)
}
