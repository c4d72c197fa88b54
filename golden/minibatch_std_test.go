package golden

import (
	"github.com/lafite-go/lafite/autograd"
	"github.com/lafite-go/lafite/tensor"
)

func init() {
	register("minibatch_std", func(c *Case) (map[string]*tensor.Tensor, error) {
		group, channels := c.Int(4, "init", "group_size"), c.Int(1, "init", "num_channels")
		return RunDifferentiable(c, DiffOptions{}, func(v map[string]*autograd.Var) (map[string]*autograd.Var, error) {
			return map[string]*autograd.Var{"y": autograd.MinibatchStd(v["x"], group, channels)}, nil
		})
	})
}
