package golden

import (
	"github.com/lafite-go/lafite/autograd"
	"github.com/lafite-go/lafite/tensor"
)

func init() {
	register("matmul", func(c *Case) (map[string]*tensor.Tensor, error) {
		return RunDifferentiable(c, DiffOptions{}, func(v map[string]*autograd.Var) (map[string]*autograd.Var, error) {
			return map[string]*autograd.Var{"y": autograd.Matmul(v["a"], v["b"])}, nil
		})
	})
}
