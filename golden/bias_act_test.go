package golden

import (
	"github.com/lafite-go/lafite/autograd"
	"github.com/lafite-go/lafite/tensor"
)

func init() {
	register("bias_act", func(c *Case) (map[string]*tensor.Tensor, error) {
		p := tensor.DefaultBiasAct(c.String("linear", "act"))
		p.Dim = c.Int(1, "dim")
		if !c.IsNull("alpha") {
			p.Alpha = float32(c.Float(0, "alpha"))
		}
		if !c.IsNull("gain") {
			p.Gain = float32(c.Float(0, "gain"))
		}
		if !c.IsNull("clamp") {
			p.Clamp = float32(c.Float(0, "clamp"))
		}
		return RunDifferentiable(c, DiffOptions{}, func(v map[string]*autograd.Var) (map[string]*autograd.Var, error) {
			return map[string]*autograd.Var{"y": autograd.BiasAct(v["x"], v["b"], p)}, nil
		})
	})
}
