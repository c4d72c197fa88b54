package autograd

import (
	"slices"
	"testing"

	"github.com/lafite-go/lafite/tensor"
)

// Linear ops are checked plain (their second derivative is zero, which the
// checker must still confirm) and composed with a nonlinearity (so that the
// second-order path through their gradient op is exercised with real values).

func TestJoinPadFlipGradients(t *testing.T) {
	runGradCases(t, []gradCase{
		{name: "concat", f: func(x []*Var) *Var { return Concat(x, 1) }, shapes: [][]int{{2, 3, 4}, {2, 1, 4}, {2, 2, 4}}, second: true},
		{name: "concat_sq_transposed", f: func(x []*Var) *Var {
			return Square(Concat([]*Var{Transpose(x[0], 0, 1), x[1]}, 0))
		}, shapes: [][]int{{3, 2}, {1, 3}}, second: true},
		{name: "stack", f: func(x []*Var) *Var { return Stack(x, -1) }, shapes: [][]int{{3, 2}, {3, 2}}, second: true},
		{name: "stack_mul", f: func(x []*Var) *Var {
			return Mul(Stack([]*Var{x[0], x[1]}, 0), Stack([]*Var{x[1], x[0]}, 0))
		}, shapes: [][]int{{3, 2}, {3, 2}}, second: true},
		{name: "split", f: un(func(x *Var) *Var {
			p := Split(x, []int{2, 1, 2}, 0)
			return Add(Mul(p[0], p[2]), Square(p[1]))
		}), shapes: [][]int{{5, 3}}, second: true},
		{name: "pad", f: un(func(x *Var) *Var { return Pad(x, []int{1, -1, 2, 0}, 0.5) }), shapes: [][]int{{2, 3, 4}}, second: true},
		{name: "pad_sq_transposed", f: un(func(x *Var) *Var {
			return Square(Pad(Transpose(x, 0, 2), []int{-1, 2, 1, 1, 0, 1}, -1))
		}), shapes: [][]int{{3, 2, 4}}, second: true},
		{name: "flip", f: un(func(x *Var) *Var { return Flip(x, 0, 2) }), shapes: [][]int{{2, 3, 4}}, second: true},
		{name: "flip_mul", f: un(func(x *Var) *Var { return Mul(Flip(x, 1), x) }), shapes: [][]int{{2, 3, 4}}, second: true},
	})
}

func TestIndexGradients(t *testing.T) {
	gidx := []int{0, 3, 3, 1, 2, 2, 0, 1, 3, 0, 1, 1, 2, 3, 0}
	runGradCases(t, []gradCase{
		{name: "index_select", f: un(func(x *Var) *Var { return IndexSelect(x, 1, []int{2, 0, 2, 3}) }), shapes: [][]int{{3, 4, 2}}, second: true},
		{name: "index_select_sq", f: un(func(x *Var) *Var { return Square(IndexSelect(Transpose(x, 0, 1), -1, []int{1, 1, 0})) }), shapes: [][]int{{3, 4}}, second: true},
		{name: "index_add", f: un(func(x *Var) *Var { return IndexAdd([]int{3, 5}, 1, []int{1, 1, 4}, x) }), shapes: [][]int{{3, 3}}, second: true},
		{name: "index_add_sq", f: un(func(x *Var) *Var { return Square(IndexAdd([]int{4, 2}, 0, []int{3, 0, 3}, x)) }), shapes: [][]int{{3, 2}}, second: true},
		{name: "gather", f: un(func(x *Var) *Var { return Gather(x, 1, gidx, []int{3, 5}) }), shapes: [][]int{{3, 4}}, second: true},
		{name: "gather_sq", f: un(func(x *Var) *Var { return Square(Gather(Transpose(x, 0, 1), 0, gidx[:6], []int{2, 3})) }), shapes: [][]int{{3, 4}}, second: true},
		{name: "scatter_add", f: un(func(x *Var) *Var { return ScatterAdd([]int{4, 3}, 0, gidx[:6], x) }), shapes: [][]int{{2, 3}}, second: true},
		{name: "scatter_add_sq", f: un(func(x *Var) *Var { return Square(ScatterAdd([]int{3, 4}, 1, gidx, x)) }), shapes: [][]int{{3, 5}}, second: true},
		{name: "embedding", f: un(func(w *Var) *Var { return Embedding(w, []int{4, 0, 4, 2, 1, 3}, []int{2, 3}) }), shapes: [][]int{{5, 3}}, second: true},
		{name: "embedding_sq", f: un(func(w *Var) *Var { return Square(Embedding(w, []int{1, 1, 0}, []int{3})) }), shapes: [][]int{{2, 4}}, second: true},
		{name: "repeat", f: un(func(x *Var) *Var { return Repeat(x, 2, 1, 2) }), shapes: [][]int{{2, 3}}, second: true},
		{name: "repeat_sq_transposed", f: un(func(x *Var) *Var { return Square(Repeat(Transpose(x, 0, 1), 3, 2)) }), shapes: [][]int{{2, 3}}, second: true},
		{name: "tile_mul", f: un(func(x *Var) *Var { return Mul(Tile(x, 2), Tile(x, 2)) }), shapes: [][]int{{2, 3}}, second: true},
	})
}

func TestInterpolateGradients(t *testing.T) {
	runGradCases(t, []gradCase{
		{name: "bicubic_up", f: un(func(x *Var) *Var { return InterpolateBicubic(x, 7, 9) }), shapes: [][]int{{1, 2, 5, 6}}, second: true},
		{name: "bicubic_down_sq", f: un(func(x *Var) *Var { return Square(InterpolateBicubic(x, 3, 4)) }), shapes: [][]int{{2, 1, 7, 6}}, second: true},
		{name: "bicubic_backward", f: un(func(g *Var) *Var { return InterpolateBicubicBackward(g, 5, 6) }), shapes: [][]int{{1, 2, 7, 4}}, second: true},
		{name: "bicubic_backward_sq", f: un(func(g *Var) *Var { return Square(InterpolateBicubicBackward(g, 4, 3)) }), shapes: [][]int{{2, 6, 5}}, second: true},
		{name: "bilinear_up", f: un(func(x *Var) *Var { return InterpolateBilinear(x, 7, 9) }), shapes: [][]int{{1, 2, 5, 6}}, second: true},
		{name: "bilinear_down_sq", f: un(func(x *Var) *Var { return Square(InterpolateBilinear(Transpose(x, 2, 3), 3, 4)) }), shapes: [][]int{{2, 1, 7, 6}}, second: true},
		{name: "bilinear_backward", f: un(func(g *Var) *Var { return InterpolateBilinearBackward(g, 5, 6) }), shapes: [][]int{{1, 2, 7, 4}}, second: true},
		{name: "bilinear_backward_sq", f: un(func(g *Var) *Var { return Square(InterpolateBilinearBackward(g, 4, 3)) }), shapes: [][]int{{2, 6, 5}}, second: true},
		// Windows whose resize runs W first and H first, up and down.
		{name: "crop_resize_up", f: un(func(x *Var) *Var {
			return CropResizeBicubic(x, tensor.CropWindow{Top: 1, Left: 2, H: 4, W: 3}, 7, 9)
		}), shapes: [][]int{{1, 2, 6, 7}}, second: true},
		{name: "crop_resize_down_sq", f: un(func(x *Var) *Var {
			return Square(CropResizeBicubic(x, tensor.CropWindow{Top: 0, Left: 1, H: 7, W: 5}, 3, 4))
		}), shapes: [][]int{{2, 1, 8, 6}}, second: true},
		{name: "crop_resize_backward", f: un(func(g *Var) *Var {
			return CropResizeBicubicBackward(g, 6, 7, tensor.CropWindow{Top: 2, Left: 0, H: 3, W: 5})
		}), shapes: [][]int{{1, 2, 7, 4}}, second: true},
		{name: "crop_resize_backward_sq", f: un(func(g *Var) *Var {
			return Square(CropResizeBicubicBackward(g, 5, 5, tensor.CropWindow{Top: 1, Left: 1, H: 4, W: 2}))
		}), shapes: [][]int{{2, 6, 5}}, second: true},
	})
}

// TestCropResizeBicubicIsNarrowThenResize: the op's values and gradient
// equal the composed Narrow, Narrow, InterpolateBicubic exactly on the CPU.
func TestCropResizeBicubicIsNarrowThenResize(t *testing.T) {
	win := tensor.CropWindow{Top: 3, Left: 1, H: 9, W: 11}
	x := Param(tensor.NewRNG(8).Normal(2, 3, 14, 13))
	y := CropResizeBicubic(x, win, 24, 24)
	ref := InterpolateBicubic(Narrow(Narrow(x, 2, win.Top, win.H), 3, win.Left, win.W), 24, 24)
	if !slices.Equal(y.Value.ToSlice(), ref.Value.ToSlice()) {
		t.Fatal("values differ from Narrow then InterpolateBicubic")
	}
	cot := Const(tensor.NewRNG(9).Normal(y.Shape()...))
	g := Grad([]*Var{y}, []*Var{x}, []*Var{cot}, false)[0]
	gRef := Grad([]*Var{ref}, []*Var{x}, []*Var{cot}, false)[0]
	if !slices.Equal(g.Value.ToSlice(), gRef.Value.ToSlice()) {
		t.Fatal("gradient differs from the composed ops'")
	}
}

// TestLinearOpGradientChain checks that each linear op's gradient is its
// adjoint op and that the adjoint's gradient is the op again (third order).
func TestLinearOpGradientChain(t *testing.T) {
	chains := []struct {
		f           func(*Var) *Var
		shape       []int
		grad, grad2 string
	}{
		{func(x *Var) *Var { return InterpolateBicubic(x, 6, 3) }, []int{1, 1, 4, 5}, "interpolate_bicubic_backward", "interpolate_bicubic"},
		{func(x *Var) *Var { return InterpolateBilinear(x, 6, 3) }, []int{1, 1, 4, 5}, "interpolate_bilinear_backward", "interpolate_bilinear"},
		{func(x *Var) *Var { return CropResizeBicubic(x, tensor.CropWindow{Top: 1, Left: 0, H: 2, W: 4}, 6, 3) }, []int{1, 1, 4, 5},
			"crop_resize_bicubic_backward", "crop_resize_bicubic"},
		{func(x *Var) *Var { return IndexSelect(x, 0, []int{1, 1}) }, []int{3, 2}, "index_add", "index_select"},
		{func(x *Var) *Var { return Gather(x, 0, []int{2, 0}, []int{1, 2}) }, []int{3, 2}, "scatter_add", "gather"},
		{func(x *Var) *Var { return Pad(x, []int{1, -1}, 0) }, []int{3, 2}, "pad", "pad"},
		{func(x *Var) *Var { return Flip(x, 1) }, []int{3, 2}, "flip", "flip"},
	}
	for _, c := range chains {
		x := Param(tensor.NewRNG(3).Normal(c.shape...))
		y := c.f(x)
		cot := Param(tensor.NewRNG(4).Normal(y.Shape()...))
		g := Grad([]*Var{y}, []*Var{x}, []*Var{cot}, true)[0]
		if g.Op() != c.grad {
			t.Fatalf("gradient of %s is %q, want %q", y.Op(), g.Op(), c.grad)
		}
		v := tensor.NewRNG(5).Normal(c.shape...)
		gc := Grad([]*Var{g}, []*Var{cot}, []*Var{Param(v)}, true)[0]
		if gc.Op() != c.grad2 {
			t.Fatalf("gradient of %s is %q, want %q", g.Op(), gc.Op(), c.grad2)
		}
		// d<g, v>/dcot = op(v): the forward op applied to v.
		want := c.f(Const(v)).Value.ToSlice()
		for i, got := range gc.Value.ToSlice() {
			if d := got - want[i]; d > 1e-5 || d < -1e-5 {
				t.Fatalf("%s: third-order value %d = %v, want %v", c.grad2, i, got, want[i])
			}
		}
	}
}

func TestShapeOpErrorsNameArguments(t *testing.T) {
	x := Param(tensor.Zeros(3, 4))
	expectPanic(t, "vs[1]", func() { Stack([]*Var{x, Param(tensor.Zeros(4, 3))}, 0) })
	expectPanic(t, "ts[1]", func() { Concat([]*Var{x, Param(tensor.Zeros(2, 3))}, 0) })
	expectPanic(t, "sizes", func() { Split(x, []int{1, 1}, 0) })
	expectPanic(t, "ids[0] = 9", func() { Embedding(x, []int{9}, []int{1}) })
	expectPanic(t, "idx[1] = 4", func() { Gather(x, 1, []int{0, 4}, []int{1, 2}) })
	expectPanic(t, "outH", func() { InterpolateBicubic(Param(tensor.Zeros(1, 1, 3, 3)), 0, 2) })
	expectPanic(t, "x has shape", func() { InterpolateBilinear(Param(tensor.Zeros(3)), 2, 2) })
}
