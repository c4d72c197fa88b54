package golden

import (
	"fmt"

	"github.com/lafite-go/lafite/autograd"
	"github.com/lafite-go/lafite/tensor"
)

// upfirdnScaling reads an up/down attr: an int n means (n, n), a pair (x, y).
func upfirdnScaling(c *Case, name string) (x, y int, err error) {
	s := c.IntList([]int{1}, name)
	switch len(s) {
	case 1:
		return s[0], s[0], nil
	case 2:
		return s[0], s[1], nil
	}
	return 0, 0, fmt.Errorf("attr %s = %v: want an int or a pair", name, s)
}

// upfirdnRun runs op (whose Upfirdn2d parameters params builds from the
// filter) with the filter in.f as a non-differentiable constant.
func upfirdnRun(c *Case, params func(f *tensor.Tensor) (tensor.Upfirdn2dParams, error)) (map[string]*tensor.Tensor, error) {
	return RunDifferentiable(c, DiffOptions{NonDiff: []string{"f"}}, func(v map[string]*autograd.Var) (map[string]*autograd.Var, error) {
		f := v["f"].Value
		p, err := params(f)
		if err != nil {
			return nil, err
		}
		return map[string]*autograd.Var{"y": autograd.Upfirdn2d(v["x"], f, p)}, nil
	})
}

func init() {
	register("upfirdn2d", func(c *Case) (map[string]*tensor.Tensor, error) {
		return upfirdnRun(c, func(*tensor.Tensor) (tensor.Upfirdn2dParams, error) {
			ux, uy, err := upfirdnScaling(c, "up")
			if err != nil {
				return tensor.Upfirdn2dParams{}, err
			}
			dx, dy, err := upfirdnScaling(c, "down")
			if err != nil {
				return tensor.Upfirdn2dParams{}, err
			}
			return tensor.Upfirdn2dParams{UpX: ux, UpY: uy, DownX: dx, DownY: dy,
				Pad:        tensor.Upfirdn2dPadding(c.IntList(nil, "padding")...),
				FlipFilter: c.Bool(false, "flip_filter"), Gain: float32(c.Float(1, "gain"))}, nil
		})
	})
	register("upsample2d", func(c *Case) (map[string]*tensor.Tensor, error) {
		return upfirdnRun(c, func(f *tensor.Tensor) (tensor.Upfirdn2dParams, error) {
			return tensor.Upsample2dParams(f, c.Int(2, "up"), c.IntList(nil, "padding"), c.Bool(false, "flip_filter"), float32(c.Float(1, "gain"))), nil
		})
	})
	register("downsample2d", func(c *Case) (map[string]*tensor.Tensor, error) {
		return upfirdnRun(c, func(f *tensor.Tensor) (tensor.Upfirdn2dParams, error) {
			return tensor.Downsample2dParams(f, c.Int(2, "down"), c.IntList(nil, "padding"), c.Bool(false, "flip_filter"), float32(c.Float(1, "gain"))), nil
		})
	})
	register("filter2d", func(c *Case) (map[string]*tensor.Tensor, error) {
		return upfirdnRun(c, func(f *tensor.Tensor) (tensor.Upfirdn2dParams, error) {
			return tensor.Filter2dParams(f, c.IntList(nil, "padding"), c.Bool(false, "flip_filter"), float32(c.Float(1, "gain"))), nil
		})
	})
}
