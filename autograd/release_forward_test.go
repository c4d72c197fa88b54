package autograd

import (
	"slices"
	"testing"

	"github.com/lafite-go/lafite/tensor"
)

// TestGradReleasingFreesForwardValues: the values a forward pass made go
// back to the pool with the pass's gradients; what existed before the mark
// (a parameter, a value computed earlier and a view of it), the output, the
// inputs and keep stay readable, and the gradients equal Grad's.
func TestGradReleasingFreesForwardValues(t *testing.T) {
	const n = 1 << 14
	build := func() (x, early, kept, loss *Var, mark uint64) {
		rng := tensor.NewRNG(2)
		x = Param(rng.Normal(n))
		early = Exp(x) // before the mark: not the pass's to release
		mark = tensor.BufferMark()
		h := Mul(Reshape(early, 2, n/2), Reshape(x, 2, n/2))
		kept = Tanh(h)
		for i := 0; i < 4; i++ {
			h = Add(Mul(h, kept), Const(tensor.Full(0.5, 2, n/2)))
		}
		loss = Sum(h, nil, false)
		return
	}
	x, _, _, loss, _ := build()
	want := Grad([]*Var{loss}, []*Var{x}, nil, false)[0].Value.ToSlice()

	x, early, kept, loss, mark := build()
	earlyVals, keptVals, lossVal := early.Value.ToSlice(), kept.Value.ToSlice(), loss.Item()
	before, _ := tensor.MemoryStats()
	got := GradReleasing([]*Var{loss}, []*Var{x}, nil, mark, kept)[0].Value.ToSlice()
	after, _ := tensor.MemoryStats()
	if !slices.Equal(got, want) {
		t.Fatal("GradReleasing's gradient differs from Grad's")
	}
	// Nine forward values of n floats are the pass's to release (the first
	// product, 4 products and 4 sums); it keeps the gradient and a few of
	// its own buffers. Without releasing, memory would grow instead.
	if freed := before - after; freed < 5*4*n {
		t.Errorf("the pass freed %d bytes net, want at least %d", freed, 5*4*n)
	}
	if !slices.Equal(early.Value.ToSlice(), earlyVals) || !slices.Equal(kept.Value.ToSlice(), keptVals) || loss.Item() != lossVal {
		t.Error("a value made before the mark, a kept one or the output changed")
	}
	if x.Value.Buffer() == nil || early.Value.Buffer() == nil || kept.Value.Buffer() == nil {
		t.Error("a value that must stay was released")
	}
}
