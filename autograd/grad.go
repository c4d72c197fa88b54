package autograd

import (
	"fmt"

	"github.com/lafite-go/lafite/tensor"
)

// topoOrder returns every Var that requires grad reachable from outputs, each
// after all of its inputs (iterative DFS: graphs can be deep).
func topoOrder(outputs []*Var) []*Var {
	var order []*Var
	state := map[*Var]uint8{} // 1 = on stack, 2 = done
	type frame struct {
		v *Var
		i int
	}
	for _, out := range outputs {
		if out == nil || !out.requiresGrad || state[out] != 0 {
			continue
		}
		stack := []frame{{out, 0}}
		state[out] = 1
		for len(stack) > 0 {
			f := &stack[len(stack)-1]
			if f.v.node != nil && f.i < len(f.v.node.inputs) {
				in := f.v.node.inputs[f.i]
				f.i++
				if in != nil && in.requiresGrad && state[in] == 0 {
					state[in] = 1
					stack = append(stack, frame{in, 0})
				}
				continue
			}
			state[f.v] = 2
			order = append(order, f.v)
			stack = stack[:len(stack)-1]
		}
	}
	return order
}

// backprop runs the backward rules from outputs and returns the gradient of
// every Var in wanted (nil where unreachable). With free (no graph recorded)
// the buffers of intermediate gradients go back to the pool once used.
func backprop(outputs, cotangents []*Var, wanted map[*Var]bool, free bool) map[*Var]*Var {
	bufs := newGradBuffers(free)
	order := topoOrder(outputs)
	// leads[v]: some wanted Var is reachable from v (v included).
	leads := make(map[*Var]bool, len(order))
	for _, v := range order {
		l := wanted[v]
		if v.node != nil {
			for _, in := range v.node.inputs {
				if in != nil && leads[in] {
					l = true
				}
			}
		}
		leads[v] = l
	}
	grads := map[*Var]*Var{}
	for i, out := range outputs {
		if out == nil || !out.requiresGrad || !leads[out] {
			continue
		}
		var c *Var
		if i < len(cotangents) && cotangents[i] != nil {
			c = cotangents[i]
			if !c.SameShapeAs(out) {
				panic(fmt.Sprintf("autograd.Grad: cotangent %d has shape %v, output has %v", i, c.Shape(), out.Shape()))
			}
		} else {
			c = Const(tensor.OnesLike(out.Value))
		}
		accumulate(grads, out, c, bufs)
	}
	for i := len(order) - 1; i >= 0; i-- {
		v := order[i]
		g := grads[v]
		if g == nil || v.node == nil || !leads[v] {
			continue
		}
		ins := v.node.inputs
		needs := make([]bool, len(ins))
		any := false
		for j, in := range ins {
			needs[j] = in != nil && in.requiresGrad && leads[in]
			any = any || needs[j]
		}
		if !any {
			continue
		}
		gins := runRule(v.node, g, needs, bufs != nil)
		if len(gins) != len(ins) {
			panic(fmt.Sprintf("autograd: backward of %s returned %d gradients for %d inputs", v.node.op, len(gins), len(ins)))
		}
		for j, in := range ins {
			if gins[j] == nil {
				continue
			}
			if !needs[j] {
				bufs.unstored(gins[j])
				continue
			}
			if !gins[j].SameShapeAs(in) {
				panic(fmt.Sprintf("autograd: backward of %s gave gradient %v for input %d of shape %v", v.node.op, gins[j].Shape(), j, in.Shape()))
			}
			accumulate(grads, in, gins[j], bufs)
		}
		if !wanted[v] {
			delete(grads, v) // free intermediate gradients early
			bufs.drop(g)
		}
		bufs.flush()
	}
	return grads
}

// runRule calls n's backward rule. In a pass that records no graph (free),
// the buffers the rule allocates and does not return (its temporaries: a
// sigmoid in QuickGelu's rule, the normalised input in LayerNorm's) go back
// to the pool when it returns.
func runRule(n *node, g *Var, needs []bool, free bool) (gins []*Var) {
	if !free {
		return n.backward(g, needs)
	}
	scope := tensor.OpenHostScope()
	defer func() {
		var buf [4]*tensor.Tensor
		keep := buf[:0]
		for _, gi := range gins {
			if gi != nil {
				keep = append(keep, gi.Value)
			}
		}
		scope.Close(keep...)
	}()
	return n.backward(g, needs)
}

func accumulate(grads map[*Var]*Var, v, g *Var, bufs *gradBuffers) {
	prev := grads[v]
	if prev == nil {
		grads[v] = g
		bufs.hold(g)
		return
	}
	sum := Add(prev, g)
	grads[v] = sum
	bufs.hold(sum)
	bufs.drop(prev)
	bufs.unstored(g)
}

// Grad returns d(Σ_k <outputs[k], cotangents[k]>)/d(inputs[i]) for each input.
// A nil or missing cotangent means ones. With createGraph the result is a
// recorded graph (differentiable again); otherwise it is constant and costs no
// recording. Inputs the outputs do not depend on get zeros.
func Grad(outputs, inputs, cotangents []*Var, createGraph bool) []*Var {
	wanted := map[*Var]bool{}
	for _, in := range inputs {
		wanted[in] = true
	}
	var grads map[*Var]*Var
	if createGraph {
		grads = backprop(outputs, cotangents, wanted, false)
	} else {
		NoGrad(func() { grads = backprop(outputs, cotangents, wanted, true) })
	}
	res := make([]*Var, len(inputs))
	for i, in := range inputs {
		if g := grads[in]; g != nil {
			if !createGraph {
				g = g.Detach()
			}
			res[i] = g
		} else {
			res[i] = Const(tensor.ZerosLike(in.Value))
		}
	}
	return res
}

// Backward accumulates dv/dleaf (with ones as v's cotangent) into the Grad of
// every leaf that requires gradients.
func (v *Var) Backward() {
	leaves := leavesOf(v)
	if len(leaves) == 0 {
		return
	}
	mark := tensor.BufferMark()
	gs := Grad([]*Var{v}, leaves, nil, false)
	// A gradient the pass allocated, whole and given to this leaf alone,
	// becomes its Grad as it is; others (views, shared with another leaf,
	// older buffers) are copied, then the pass's own buffers freed.
	uses := map[*tensor.Storage]int{}
	for _, g := range gs {
		uses[g.Value.Buffer()]++
	}
	var copied []*tensor.Tensor
	for i, l := range leaves {
		g := gs[i].Value
		switch {
		case l.Grad != nil:
			l.Grad = tensor.Add(l.Grad, g)
			copied = append(copied, g)
		case g.PooledSince(mark) && uses[g.Buffer()] == 1 && g.IsContiguous() && g.Offset() == 0 && len(g.StorageData()) == g.Numel():
			l.Grad = g
		default:
			l.Grad = g.Clone()
			copied = append(copied, g)
		}
	}
	for _, g := range copied {
		if g.PooledSince(mark) {
			g.Release()
		}
	}
}

func leavesOf(v *Var) []*Var {
	var leaves []*Var
	for _, u := range topoOrder([]*Var{v}) {
		if u.node == nil {
			leaves = append(leaves, u)
		}
	}
	return leaves
}
