package golden

import (
	"fmt"

	"github.com/lafite-go/lafite/autograd"
	"github.com/lafite-go/lafite/tensor"
)

func init() {
	register("layer_norm", func(c *Case) (map[string]*tensor.Tensor, error) {
		shape := c.IntList(nil, "normalized_shape")
		eps := float32(c.Float(1e-5, "eps"))
		return RunDifferentiable(c, DiffOptions{}, func(v map[string]*autograd.Var) (map[string]*autograd.Var, error) {
			x := v["x"]
			xs := x.Shape()
			if len(shape) == 0 || len(shape) > len(xs) || !tensor.SameShape(xs[len(xs)-len(shape):], shape) {
				return nil, fmt.Errorf("normalized_shape %v does not match x %v", shape, xs)
			}
			// weight and bias are absent from files without an affine part.
			return map[string]*autograd.Var{"y": autograd.LayerNorm(x, v["weight"], v["bias"], len(shape), eps)}, nil
		})
	})
}
