package golden

import (
	"fmt"
	"strings"

	"github.com/lafite-go/lafite/autograd"
	"github.com/lafite-go/lafite/nn"
	"github.com/lafite-go/lafite/tensor"
)

func init() {
	register("multi_head_attention", func(c *Case) (map[string]*tensor.Tensor, error) {
		if q := c.String("x", "forward", "query_key_value"); q != "x" {
			return nil, fmt.Errorf("only self-attention is supported, got query_key_value %q", q)
		}
		if d := c.Float(0, "init", "dropout"); d != 0 {
			return nil, fmt.Errorf("dropout %v is not supported", d)
		}
		if c.Bool(false, "init", "batch_first") {
			return nil, fmt.Errorf("batch_first is not supported")
		}
		m := nn.NewMultiheadAttention(c.Int(0, "init", "embed_dim"), c.Int(0, "init", "num_heads"),
			c.Bool(true, "init", "bias"), tensor.NewRNG(0))
		if err := sameParamNames(c, m); err != nil {
			return nil, err
		}
		return RunDifferentiable(c, DiffOptions{NonDiff: []string{"attn_mask"}}, func(v map[string]*autograd.Var) (map[string]*autograd.Var, error) {
			m.InProjWeight, m.InProjBias = v["in_proj_weight"], v["in_proj_bias"]
			m.OutProj.Weight, m.OutProj.Bias = v["out_proj.weight"], v["out_proj.bias"]
			var mask *tensor.Tensor
			if am, ok := v["attn_mask"]; ok {
				mask = am.Value
				if c.Bool(false, "forward", "causal") && !sameValues(mask, nn.CausalMask(mask.Size(0))) {
					return nil, fmt.Errorf("nn.CausalMask differs from the file's attn_mask")
				}
			} else if c.Bool(false, "forward", "causal") {
				mask = nn.CausalMask(v["x"].Size(0))
			}
			return map[string]*autograd.Var{"y": m.Forward(v["x"], mask)}, nil
		})
	})
}

// sameParamNames checks that the module's state-dict names are exactly the
// file's param.* names, so that checkpoints load by name.
func sameParamNames(c *Case, m nn.Module) error {
	want := map[string]bool{}
	for _, n := range c.File.Order {
		if strings.HasPrefix(n, "param.") {
			want[n[len("param."):]] = true
		}
	}
	var got []string
	for _, p := range nn.AllParams(m) {
		got = append(got, p.Name)
		if !want[p.Name] {
			return fmt.Errorf("module parameter %s is not in the file", p.Name)
		}
	}
	if len(got) != len(want) {
		return fmt.Errorf("module parameters %v, file has %d", got, len(want))
	}
	return nil
}

func sameValues(a, b *tensor.Tensor) bool {
	if !tensor.SameShape(a.Shape(), b.Shape()) {
		return false
	}
	bs := b.ToSlice()
	for i, v := range a.ToSlice() {
		if v != bs[i] {
			return false
		}
	}
	return true
}
