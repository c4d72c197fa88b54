package golden

import (
	"fmt"

	"github.com/lafite-go/lafite/autograd"
	"github.com/lafite-go/lafite/tensor"
)

func init() {
	register("interpolate_bicubic", func(c *Case) (map[string]*tensor.Tensor, error) {
		if c.Bool(false, "align_corners") || c.String("bicubic", "mode") != "bicubic" {
			return nil, fmt.Errorf("only mode=bicubic with align_corners=false is supported, attrs %v", c.Attrs)
		}
		size := c.IntList(nil, "size")
		if len(size) != 2 {
			// A scale_factor changes the source-coordinate scale (1/scale
			// instead of in/out); no case needs it yet.
			return nil, fmt.Errorf("attrs must give size [H, W], got %v", c.Attrs)
		}
		return RunDifferentiable(c, DiffOptions{}, func(v map[string]*autograd.Var) (map[string]*autograd.Var, error) {
			return map[string]*autograd.Var{"y": autograd.InterpolateBicubic(v["x"], size[0], size[1])}, nil
		})
	})
}
