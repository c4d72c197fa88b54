package autograd

import (
	"testing"

	"github.com/lafite-go/lafite/tensor"
)

// TestGradFreesIntermediateGradients: a backward pass without a graph hands
// the buffers of intermediate gradients back as it goes, so what stays
// allocated afterwards is about the gradient asked for, not one buffer per
// op of the chain.
func TestGradFreesIntermediateGradients(t *testing.T) {
	const n, depth = 1 << 16, 8
	x := Param(tensor.NewRNG(1).Normal(n))
	h := x
	for i := 0; i < depth; i++ {
		h = Mul(h, Const(tensor.Full(1.5, n)))
	}
	loss := Sum(h, nil, false)
	before, _ := tensor.MemoryStats()
	g := Grad([]*Var{loss}, []*Var{x}, nil, false)[0]
	after, _ := tensor.MemoryStats()
	want := float32(1)
	for i := 0; i < depth; i++ {
		want *= 1.5
	}
	for i, v := range g.Value.ToSlice() {
		if v != want {
			t.Fatalf("gradient[%d] = %v, want %v", i, v, want)
		}
	}
	// The result (n floats) and at most a size class of slack; without
	// freeing it would be depth+1 buffers of n.
	if grown := after - before; grown > 3*4*n {
		t.Errorf("%d bytes still allocated after the pass, want at most %d", grown, 3*4*n)
	}
}

// TestGradSharedGradientsSurvive: Add hands one buffer to both inputs; when
// one of them already has a gradient and the buffer is summed into it, the
// other must still read it intact (and a buffer made before the pass, the
// cotangent, is never freed).
func TestGradSharedGradientsSurvive(t *testing.T) {
	x := Param(tensor.New([]float32{1, 2, 3}, 3))
	p := Mul(x, Const(tensor.New([]float32{2, 2, 2}, 3)))
	q := Mul(x, Const(tensor.New([]float32{5, 5, 5}, 3)))
	s := Add(p, q)
	out := Add(s, p) // = 2p + q: dx = 2·2 + 5
	cot := Const(tensor.New([]float32{1, 10, 100}, 3))
	g := Grad([]*Var{out}, []*Var{x}, []*Var{cot}, false)[0]
	want := []float32{9, 90, 900}
	for i, v := range g.Value.ToSlice() {
		if v != want[i] {
			t.Fatalf("gradient %v, want %v", g.Value.ToSlice(), want)
		}
	}
	if got := cot.Value.ToSlice(); got[0] != 1 || got[2] != 100 {
		t.Errorf("cotangent changed: %v", got)
	}
	// Backward twice: the first Grad is adopted, the second added to it.
	x.Grad = nil
	Sum(out, nil, false).Backward()
	Sum(out, nil, false).Backward()
	for i, v := range x.Grad.ToSlice() {
		if v != 18 {
			t.Fatalf("x.Grad[%d] = %v after two Backward, want 18", i, v)
		}
	}
}

// TestGradFreesRuleTemporaries: the temporaries a backward rule makes
// (QuickGelu's sigmoid and products, LayerNorm's normalised input) go back
// to the pool when the rule returns, in a pass without a graph; with a graph
// they are part of it and stay.
func TestGradFreesRuleTemporaries(t *testing.T) {
	const rows, width, depth = 64, 256, 6
	x := Param(tensor.NewRNG(2).Normal(rows, width))
	h := x
	for i := 0; i < depth; i++ {
		h = QuickGelu(LayerNorm(h, nil, nil, 1, 1e-5))
	}
	loss := Sum(h, nil, false)
	before, _ := tensor.MemoryStats()
	g := Grad([]*Var{loss}, []*Var{x}, nil, false)[0]
	after, _ := tensor.MemoryStats()
	// The gradient and a little slack; the rules' temporaries would be
	// several buffers of rows·width per layer.
	if grown, limit := after-before, int64(3*4*rows*width); grown > limit {
		t.Errorf("%d bytes still allocated after the pass, want at most %d", grown, limit)
	}
	want := Grad([]*Var{loss}, []*Var{x}, nil, true)[0] // the same rules, nothing freed
	gs, ws := g.Value.ToSlice(), want.Value.ToSlice()
	for i := range ws {
		if gs[i] != ws[i] {
			t.Fatalf("gradient[%d] = %v, with a graph %v", i, gs[i], ws[i])
		}
	}
}
