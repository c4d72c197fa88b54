package autograd

import (
	"testing"

	"github.com/lafite-go/lafite/tensor"
)

func TestUpfirdn2dGradients(t *testing.T) {
	f8 := tensor.SetupFilterTaps(0.5, 1, 3, 2, 4, 1.5, 0.7, 0.3)                               // separable
	f34 := tensor.SetupFilter(tensor.New([]float32{1, 2, 3, 1, 2, 5, 4, 2, 1, 1, 2, 3}, 3, 4), // asymmetric 2-D
		true, false, 1, nil)
	f4 := tensor.SetupFilterTaps(1, 3, 3, 1)
	cases := []struct {
		name  string
		shape []int
		op    func(x *Var) *Var
	}{
		{"f8_up2_negpad", []int{1, 2, 5, 5}, func(x *Var) *Var {
			return Upfirdn2d(x, f8, tensor.Upfirdn2dParams{UpX: 2, UpY: 2, DownX: 1, DownY: 1, Pad: [4]int{-1, 2, 0, -2}, Gain: 2})
		}},
		{"f8_down2_flip", []int{2, 1, 7, 5}, func(x *Var) *Var {
			return Upfirdn2d(x, f8, tensor.Upfirdn2dParams{UpX: 1, UpY: 1, DownX: 2, DownY: 2, Pad: [4]int{3, 4, 3, 4}, FlipFilter: true, Gain: 1})
		}},
		{"f34_up2_down2", []int{1, 2, 5, 3}, func(x *Var) *Var {
			return Upfirdn2d(x, f34, tensor.Upfirdn2dParams{UpX: 2, UpY: 2, DownX: 2, DownY: 2, Pad: [4]int{2, 1, 1, 1}, Gain: 1})
		}},
		{"f34_mixed_axes_negpad_flip", []int{1, 1, 7, 5}, func(x *Var) *Var {
			return Upfirdn2d(x, f34, tensor.Upfirdn2dParams{UpX: 2, UpY: 1, DownX: 1, DownY: 2, Pad: [4]int{-2, 1, 1, -1}, FlipFilter: true, Gain: 1.5})
		}},
		{"upsample2d_f4", []int{1, 2, 3, 5}, func(x *Var) *Var { return Upsample2d(x, f4, 2, nil, false, 1) }},
		{"upsample2d_f8_pad_flip", []int{1, 1, 3, 5}, func(x *Var) *Var { return Upsample2d(x, f8, 2, []int{1}, true, 0.5) }},
		{"downsample2d_f34_pad", []int{1, 2, 5, 7}, func(x *Var) *Var { return Downsample2d(x, f34, 2, []int{1, 0, 0, 1}, true, 1) }},
		{"filter2d_f34_gain", []int{2, 1, 5, 4}, func(x *Var) *Var { return Filter2d(x, f34, []int{0, 1, 1, 0}, false, 2) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			x := tensor.NewRNG(31).Normal(c.shape...)
			// Linear op: squaring makes the second order exercise the
			// adjoint of the adjoint.
			f := func(xs []*Var) *Var { return Square(c.op(xs[0])) }
			if err := CheckGrad(un(c.op), []*tensor.Tensor{x}, CheckOptions{}); err != nil {
				t.Fatalf("first order: %v", err)
			}
			if err := CheckGradGrad(f, []*tensor.Tensor{x}, CheckOptions{}); err != nil {
				t.Fatalf("second order: %v", err)
			}
			third := func(xs []*Var) *Var {
				g := Grad([]*Var{f(xs[:1])}, []*Var{xs[0]}, []*Var{xs[1]}, true)[0]
				return Mul(g, g)
			}
			cot := tensor.NewRNG(32).Normal(c.op(Const(x)).Shape()...)
			if err := CheckGradGrad(third, []*tensor.Tensor{x, cot}, CheckOptions{}); err != nil {
				t.Fatalf("third order: %v", err)
			}
		})
	}
}

func TestUpfirdn2dGradientIsRecordedOp(t *testing.T) {
	x := Param(tensor.NewRNG(33).Normal(1, 1, 4, 4))
	y := Upsample2d(x, tensor.SetupFilterTaps(1, 3, 3, 1), 2, nil, false, 1)
	g := Grad([]*Var{y}, []*Var{x}, []*Var{Param(tensor.OnesLike(y.Value))}, true)[0]
	if g.Op() != "upfirdn2d" {
		t.Fatalf("gradient of upfirdn2d is %q, want the upfirdn2d op itself", g.Op())
	}
}
