package golden

import (
	"fmt"

	"github.com/lafite-go/lafite/autograd"
	"github.com/lafite-go/lafite/nn"
	"github.com/lafite-go/lafite/tensor"
)

// optionalFilter returns in.<name> when the case has one.
func optionalFilter(c *Case, name string) (*tensor.Tensor, error) {
	if !c.Has("in." + name) {
		return nil, nil
	}
	return c.T("in." + name)
}

func padding4(p []int) [4]int {
	switch len(p) {
	case 1:
		return [4]int{p[0], p[0], p[0], p[0]}
	case 2:
		return [4]int{p[0], p[0], p[1], p[1]}
	}
	return [4]int{p[0], p[1], p[2], p[3]}
}

func init() {
	register("conv2d_resample", func(c *Case) (map[string]*tensor.Tensor, error) {
		f, err := optionalFilter(c, "f")
		if err != nil {
			return nil, err
		}
		r := nn.Resample{Filter: f, Up: c.Int(1, "up"), Down: c.Int(1, "down"), Pad: padding4(c.IntList([]int{0}, "padding")),
			Groups: c.Int(1, "groups"), FlipWeight: c.Bool(true, "flip_weight"), FlipFilter: c.Bool(false, "flip_filter")}
		return RunDifferentiable(c, DiffOptions{NonDiff: []string{"f"}}, func(v map[string]*autograd.Var) (map[string]*autograd.Var, error) {
			return map[string]*autograd.Var{"y": nn.Conv2dResample(v["x"], v["w"], r)}, nil
		})
	})
	register("modulated_conv2d", func(c *Case) (map[string]*tensor.Tensor, error) {
		f, err := optionalFilter(c, "resample_filter")
		if err != nil {
			return nil, err
		}
		r := nn.Resample{Filter: f, Up: c.Int(1, "up"), Down: c.Int(1, "down"), Pad: padding4(c.IntList([]int{0}, "padding")),
			FlipWeight: c.Bool(true, "flip_weight")}
		return RunDifferentiable(c, DiffOptions{NonDiff: []string{"resample_filter"}}, func(v map[string]*autograd.Var) (map[string]*autograd.Var, error) {
			return map[string]*autograd.Var{"y": nn.ModulatedConv2d(v["x"], v["weight"], v["styles"], v["noise"], r,
				c.Bool(true, "demodulate"), c.Bool(true, "fused_modconv"))}, nil
		})
	})
	register("fully_connected", func(c *Case) (map[string]*tensor.Tensor, error) {
		return RunDifferentiable(c, DiffOptions{}, func(v map[string]*autograd.Var) (map[string]*autograd.Var, error) {
			fc := &nn.FullyConnected{}
			*fc = *nn.NewFullyConnected(c.Int(0, "init", "in_features"), c.Int(0, "init", "out_features"),
				c.Bool(true, "init", "bias"), c.String("linear", "init", "activation"),
				float32(c.Float(1, "init", "lr_multiplier")), float32(c.Float(0, "init", "bias_init")), tensor.NewRNG(1))
			fc.Weight, fc.Bias = v["weight"], v["bias"]
			return map[string]*autograd.Var{"y": fc.Forward(v["x"])}, nil
		})
	})
	register("mapping_network", func(c *Case) (map[string]*tensor.Tensor, error) {
		return RunDifferentiable(c, DiffOptions{NonDiff: []string{"w_avg"}}, func(v map[string]*autograd.Var) (map[string]*autograd.Var, error) {
			m := nn.NewMappingNetwork(c.Int(0, "init", "z_dim"), c.Int(0, "init", "w_dim"), c.Int(0, "init", "num_ws"),
				c.Int(8, "init", "num_layers"), 0.01, tensor.NewRNG(1))
			m.WAvg = autograd.Const(v["w_avg"].Value.Clone())
			for i, l := range m.Layers {
				l.Weight, l.Bias = v[nameIdx("fc", i, "weight")], v[nameIdx("fc", i, "bias")]
			}
			o := nn.MappingOptions{Psi: float32(c.Float(1, "forward", "truncation_psi")), Cutoff: c.Int(0, "forward", "truncation_cutoff"),
				UpdateWAvg: c.Bool(false, "forward", "training") && !c.Bool(false, "forward", "skip_w_avg_update")}
			ws := m.Forward(v["z"], o)
			return map[string]*autograd.Var{"ws": ws, "w_avg": m.WAvg}, nil
		})
	})
}

func nameIdx(prefix string, i int, leaf string) string {
	return fmt.Sprintf("%s%d.%s", prefix, i, leaf)
}
