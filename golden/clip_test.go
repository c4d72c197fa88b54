package golden

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/lafite-go/lafite/autograd"
	"github.com/lafite-go/lafite/clip"
	"github.com/lafite-go/lafite/nn"
	"github.com/lafite-go/lafite/tensor"
)

func init() {
	register("clip_vision", func(c *Case) (map[string]*tensor.Tensor, error) {
		vt := clip.NewVisionTransformer(c.Int(0, "init", "input_resolution"), c.Int(0, "init", "patch_size"),
			c.Int(0, "init", "width"), c.Int(0, "init", "layers"), c.Int(0, "init", "heads"),
			c.Int(0, "init", "output_dim"), nil)
		if err := sameParamNames(c, vt); err != nil {
			return nil, err
		}
		return RunDifferentiable(c, DiffOptions{}, func(v map[string]*autograd.Var) (map[string]*autograd.Var, error) {
			if err := bindParams(c, vt, v, func(string) bool { return true }); err != nil {
				return nil, err
			}
			return map[string]*autograd.Var{"features": vt.Forward(v["image"])}, nil
		})
	})

	register("clip_text", func(c *Case) (map[string]*tensor.Tensor, error) {
		m := clip.New(clipConfig(c, c.Int(0, "init", "transformer_heads")), nil)
		return RunDifferentiable(c, DiffOptions{NonDiff: []string{"tokens"}}, func(v map[string]*autograd.Var) (map[string]*autograd.Var, error) {
			textOnly := func(name string) bool { return !strings.HasPrefix(name, "visual.") && name != "logit_scale" }
			if err := bindParams(c, m, v, textOnly); err != nil {
				return nil, err
			}
			f, err := m.EncodeText(tokenRows(v["tokens"].Value))
			if err != nil {
				return nil, err
			}
			return map[string]*autograd.Var{"features": f}, nil
		})
	})

	register("clip_tokenize", func(c *Case) (map[string]*tensor.Tensor, error) {
		var texts []string
		if err := json.Unmarshal([]byte(c.File.Metadata["texts"]), &texts); err != nil {
			return nil, fmt.Errorf("metadata texts: %v", err)
		}
		tok, err := clip.LoadBPE(filepath.Join(filepath.Dir(c.Path), "clip_files", "bpe_simple_vocab_16e6.txt.gz"))
		if err != nil {
			return nil, err
		}
		ctx := c.Int(77, "context_length")
		rows, err := tok.TokenizeOpts(texts, ctx, c.Bool(true, "truncate"))
		if err != nil {
			return nil, err
		}
		ids := make([]float32, 0, len(rows)*ctx)
		for _, r := range rows {
			for _, id := range r {
				ids = append(ids, float32(id))
			}
		}
		return map[string]*tensor.Tensor{"out.tokens": tensor.New(ids, len(rows), ctx)}, nil
	})

	register("clip_model", func(c *Case) (map[string]*tensor.Tensor, error) {
		// build_model infers heads = width // 64 for both towers; the attrs'
		// transformer_heads is what the Python constructor was given and must agree.
		cfg := clipConfig(c, c.Int(0, "init", "transformer_width")/64)
		if h := c.Int(cfg.TextHeads, "init", "transformer_heads"); h != cfg.TextHeads {
			return nil, fmt.Errorf("attrs transformer_heads %d, build_model would infer %d", h, cfg.TextHeads)
		}
		m := clip.New(cfg, nil)
		if err := sameParamNames(c, m); err != nil {
			return nil, err
		}
		return RunDifferentiable(c, DiffOptions{NonDiff: []string{"tokens"}}, func(v map[string]*autograd.Var) (map[string]*autograd.Var, error) {
			if err := bindParams(c, m, v, func(string) bool { return true }); err != nil {
				return nil, err
			}
			img := m.EncodeImage(v["image"])
			txt, err := m.EncodeText(tokenRows(v["tokens"].Value))
			if err != nil {
				return nil, err
			}
			logits := m.Logits(img, txt)
			return map[string]*autograd.Var{
				"image_features":   img,
				"text_features":    txt,
				"logits_per_image": logits,
				"logits_per_text":  autograd.Transpose(logits, 0, 1),
			}, nil
		})
	})
}

// clipConfig reads CLIP's constructor kwargs; the vision tower's heads
// follow build_model (width // 64), the text heads are given.
func clipConfig(c *Case, textHeads int) clip.Config {
	vw := c.Int(0, "init", "vision_width")
	return clip.Config{
		EmbedDim:        c.Int(0, "init", "embed_dim"),
		ImageResolution: c.Int(0, "init", "image_resolution"),
		VisionLayers:    c.Int(0, "init", "vision_layers"),
		VisionWidth:     vw,
		VisionPatch:     c.Int(0, "init", "vision_patch_size"),
		VisionHeads:     max(vw/64, 1),
		ContextLength:   c.Int(0, "init", "context_length"),
		VocabSize:       c.Int(0, "init", "vocab_size"),
		TextWidth:       c.Int(0, "init", "transformer_width"),
		TextHeads:       textHeads,
		TextLayers:      c.Int(0, "init", "transformer_layers"),
	}
}

// bindParams makes the module compute with the case's parameter Vars: each
// module entry takes the file's value and gradient flag, and the harness's map
// entry is replaced by the module's own Var so gradients are taken w.r.t. the
// leaves the graph really uses. Every entry that want accepts must be in the
// file, and every param.* of the file must belong to the module.
func bindParams(c *Case, m nn.Module, v map[string]*autograd.Var, want func(name string) bool) error {
	used := map[string]bool{}
	for _, p := range nn.AllParams(m) {
		fv, ok := v[p.Name]
		if !ok {
			if want(p.Name) {
				return fmt.Errorf("module parameter %s is not in the file", p.Name)
			}
			continue
		}
		if !tensor.SameShape(fv.Shape(), p.Var.Value.Shape()) {
			return fmt.Errorf("parameter %s: shape %v in the file, %v in the module", p.Name, fv.Shape(), p.Var.Value.Shape())
		}
		p.Var.Value = fv.Value
		p.Var.SetRequiresGrad(fv.RequiresGrad())
		v[p.Name] = p.Var
		used[p.Name] = true
	}
	for _, n := range c.File.Order {
		if name, ok := strings.CutPrefix(n, "param."); ok && !used[name] {
			return fmt.Errorf("file parameter %s has no place in the module", name)
		}
	}
	return nil
}

// tokenRows turns an [N, L] id tensor into rows of ints.
func tokenRows(t *tensor.Tensor) [][]int {
	n, l := t.Size(0), t.Size(1)
	d := t.ToSlice()
	rows := make([][]int, n)
	for i := range rows {
		rows[i] = make([]int, l)
		for j := range rows[i] {
			rows[i][j] = int(d[i*l+j])
		}
	}
	return rows
}
