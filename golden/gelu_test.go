package golden

import (
	"fmt"

	"github.com/lafite-go/lafite/autograd"
	"github.com/lafite-go/lafite/tensor"
)

func init() {
	register("gelu", func(c *Case) (map[string]*tensor.Tensor, error) {
		var act func(*autograd.Var) *autograd.Var
		switch a := c.String("none", "approximate"); a {
		case "none":
			act = autograd.Gelu
		case "tanh":
			act = autograd.GeluTanh
		default:
			return nil, fmt.Errorf("unknown gelu approximation %q", a)
		}
		return RunDifferentiable(c, DiffOptions{}, func(v map[string]*autograd.Var) (map[string]*autograd.Var, error) {
			return map[string]*autograd.Var{"y": act(v["x"])}, nil
		})
	})
	register("quick_gelu", func(c *Case) (map[string]*tensor.Tensor, error) {
		return RunDifferentiable(c, DiffOptions{}, func(v map[string]*autograd.Var) (map[string]*autograd.Var, error) {
			return map[string]*autograd.Var{"y": autograd.QuickGelu(v["x"])}, nil
		})
	})
}
