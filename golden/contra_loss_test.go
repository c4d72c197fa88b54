package golden

import (
	"github.com/lafite-go/lafite/autograd"
	"github.com/lafite-go/lafite/tensor"
)

func init() {
	register("contra_loss", func(c *Case) (map[string]*tensor.Tensor, error) {
		temp, lam := float32(c.Float(0.5, "temp")), float32(c.Float(0, "lam"))
		return RunDifferentiable(c, DiffOptions{}, func(v map[string]*autograd.Var) (map[string]*autograd.Var, error) {
			return map[string]*autograd.Var{"loss": autograd.ContraLoss(v["mat1"], v["mat2"], temp, lam, false)}, nil
		})
	})
}
