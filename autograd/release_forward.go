package autograd

import "github.com/lafite-go/lafite/tensor"

// GradReleasing is Grad without a graph (createGraph false) for the last
// pass over a forward graph, as a training step's backward is: once the
// gradients are computed it hands back to the tensor buffer pool the values
// of the recorded Vars it walked whose buffers were allocated since mark (a
// tensor.BufferMark taken before that forward pass began). Left to the GC,
// a step's activations are garbage the next step cannot reuse, and each of
// its new buffers is a fresh, zeroed allocation.
//
// Kept: the values of outputs and inputs, the returned gradients, keep, and
// everything older than mark (parameters, data, views of them). Leaves
// (Const, Param) are never released. After the call no Grad may walk the
// graph again, and its other intermediate values must not be read.
func GradReleasing(outputs, inputs, cotangents []*Var, mark uint64, keep ...*Var) []*Var {
	grads := Grad(outputs, inputs, cotangents, false)
	kept := map[*tensor.Storage]bool{}
	for _, group := range [][]*Var{outputs, inputs, grads, keep} {
		for _, v := range group {
			if v != nil && v.Value != nil {
				kept[v.Value.Buffer()] = true
			}
		}
	}
	for _, v := range topoOrder(outputs) {
		if v.node != nil && v.Value.PooledSince(mark) && !kept[v.Value.Buffer()] {
			v.Value.Release()
		}
	}
	return grads
}
