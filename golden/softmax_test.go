package golden

import (
	"github.com/lafite-go/lafite/autograd"
	"github.com/lafite-go/lafite/tensor"
)

func init() {
	register("softmax", func(c *Case) (map[string]*tensor.Tensor, error) {
		dim := c.Int(-1, "dim")
		return RunDifferentiable(c, DiffOptions{}, func(v map[string]*autograd.Var) (map[string]*autograd.Var, error) {
			return map[string]*autograd.Var{"y": autograd.Softmax(v["x"], dim)}, nil
		})
	})
}
