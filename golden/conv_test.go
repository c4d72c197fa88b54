package golden

import (
	"fmt"

	"github.com/lafite-go/lafite/autograd"
	"github.com/lafite-go/lafite/tensor"
)

// pairAttr reads a PyTorch _pair argument: an int n means (n, n), a list
// [h, w] means (h, w).
func pairAttr(c *Case, name string, def int) (int, int, error) {
	v := c.IntList([]int{def}, name)
	switch len(v) {
	case 1:
		return v[0], v[0], nil
	case 2:
		return v[0], v[1], nil
	}
	return 0, 0, fmt.Errorf("attr %s: want an int or a pair, got %v", name, v)
}

// pairs reads several pair attrs with their defaults, in order.
func pairs(c *Case, names []string, defs []int) ([]int, error) {
	var out []int
	for i, n := range names {
		h, w, err := pairAttr(c, n, defs[i])
		if err != nil {
			return nil, err
		}
		out = append(out, h, w)
	}
	return out, nil
}

func init() {
	register("conv2d", func(c *Case) (map[string]*tensor.Tensor, error) {
		v, err := pairs(c, []string{"stride", "padding", "dilation"}, []int{1, 0, 1})
		if err != nil {
			return nil, err
		}
		p := tensor.Conv2dParams{StrideH: v[0], StrideW: v[1], PadH: v[2], PadW: v[3],
			DilationH: v[4], DilationW: v[5], Groups: c.Int(1, "groups")}
		return RunDifferentiable(c, DiffOptions{}, func(in map[string]*autograd.Var) (map[string]*autograd.Var, error) {
			return map[string]*autograd.Var{"y": autograd.Conv2d(in["x"], in["weight"], in["bias"], p)}, nil
		})
	})
	register("conv_transpose2d", func(c *Case) (map[string]*tensor.Tensor, error) {
		v, err := pairs(c, []string{"stride", "padding", "output_padding", "dilation"}, []int{1, 0, 0, 1})
		if err != nil {
			return nil, err
		}
		p := tensor.ConvTranspose2dParams{StrideH: v[0], StrideW: v[1], PadH: v[2], PadW: v[3],
			OutPadH: v[4], OutPadW: v[5], DilationH: v[6], DilationW: v[7], Groups: c.Int(1, "groups")}
		return RunDifferentiable(c, DiffOptions{}, func(in map[string]*autograd.Var) (map[string]*autograd.Var, error) {
			return map[string]*autograd.Var{"y": autograd.ConvTranspose2d(in["x"], in["weight"], in["bias"], p)}, nil
		})
	})
	register("avg_pool2d", func(c *Case) (map[string]*tensor.Tensor, error) {
		if c.Bool(false, "ceil_mode") {
			return nil, fmt.Errorf("avg_pool2d: ceil_mode=true is not supported")
		}
		if !c.IsNull("divisor_override") {
			return nil, fmt.Errorf("avg_pool2d: divisor_override is not supported")
		}
		kh, kw, err := pairAttr(c, "kernel_size", 0)
		if err != nil {
			return nil, err
		}
		// PyTorch's stride defaults to the kernel size (None or []).
		sh, sw := kh, kw
		if s := c.IntList(nil, "stride"); len(s) > 0 {
			if sh, sw, err = pairAttr(c, "stride", 0); err != nil {
				return nil, err
			}
		}
		ph, pw, err := pairAttr(c, "padding", 0)
		if err != nil {
			return nil, err
		}
		incl := c.Bool(true, "count_include_pad")
		return RunDifferentiable(c, DiffOptions{}, func(in map[string]*autograd.Var) (map[string]*autograd.Var, error) {
			return map[string]*autograd.Var{"y": autograd.AvgPool2d(in["x"], kh, kw, sh, sw, ph, pw, incl)}, nil
		})
	})
}
