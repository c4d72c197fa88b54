package golden

import (
	"github.com/lafite-go/lafite/autograd"
	"github.com/lafite-go/lafite/tensor"
)

func init() {
	register("normalize_2nd_moment", func(c *Case) (map[string]*tensor.Tensor, error) {
		dim, eps := c.Int(1, "dim"), float32(c.Float(1e-8, "eps"))
		return RunDifferentiable(c, DiffOptions{}, func(v map[string]*autograd.Var) (map[string]*autograd.Var, error) {
			return map[string]*autograd.Var{"y": autograd.Normalize2ndMoment(v["x"], dim, eps)}, nil
		})
	})
}
