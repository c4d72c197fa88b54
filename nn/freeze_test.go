package nn

import (
	"testing"

	"github.com/lafite-go/lafite/autograd"
	"github.com/lafite-go/lafite/tensor"
)

// TestFreeze: a frozen layer computes what it did, its parameters no longer
// require gradients, gradients still reach its input, and loading a state
// dict into it afterwards is seen by the next forward.
func TestFreeze(t *testing.T) {
	rng := tensor.NewRNG(4)
	l := NewLinear(40, 24, true, rng)
	x := autograd.Param(rng.Normal(5, 40))
	want := l.Forward(x).Value.ToSlice()
	Freeze(l)
	for _, p := range AllParams(l) {
		if p.Var.RequiresGrad() || !p.Var.Value.Frozen() {
			t.Fatalf("%s: requires grad %v, frozen %v", p.Name, p.Var.RequiresGrad(), p.Var.Value.Frozen())
		}
	}
	y := l.Forward(x)
	for i, v := range y.Value.ToSlice() {
		if v != want[i] {
			t.Fatalf("frozen output %d = %v, want %v", i, v, want[i])
		}
	}
	gx := autograd.Grad([]*autograd.Var{autograd.Sum(y, nil, false)}, []*autograd.Var{x}, nil, false)[0]
	colSums := tensor.Sum(l.Weight.Value, []int{0}, false).ToSlice()
	for i, v := range gx.Value.ToSlice() {
		if d := v - colSums[i%40]; d > 1e-5 || d < -1e-5 {
			t.Fatalf("input gradient %d = %v, want %v", i, v, colSums[i%40])
		}
	}
	other := NewLinear(40, 24, true, tensor.NewRNG(5))
	if err := LoadStateDict(l, StateDict(other), true); err != nil {
		t.Fatal(err)
	}
	got, ref := l.Forward(x).Value.ToSlice(), other.Forward(x).Value.ToSlice()
	for i := range ref {
		if got[i] != ref[i] {
			t.Fatalf("after loading, output %d = %v, want %v", i, got[i], ref[i])
		}
	}
}
