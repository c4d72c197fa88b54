package clip

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/lafite-go/lafite/tensor"
)

// Hugging Face's CLIPModel names the same weights differently: one entry per
// q/k/v projection instead of the packed in_proj, and the two output
// projections stored as Linear weights, i.e. transposed.

// hfTowers pairs each tower's Hugging Face prefix with ours.
var hfTowers = []struct{ hf, openai string }{
	{"text_model.encoder.layers.", "transformer.resblocks."},
	{"vision_model.encoder.layers.", "visual.transformer.resblocks."},
}

// hfRenames maps the names that correspond one to one.
var hfRenames = map[string]string{
	"text_model.embeddings.token_embedding.weight":      "token_embedding.weight",
	"text_model.embeddings.position_embedding.weight":   "positional_embedding",
	"text_model.final_layer_norm.weight":                "ln_final.weight",
	"text_model.final_layer_norm.bias":                  "ln_final.bias",
	"vision_model.embeddings.class_embedding":           "visual.class_embedding",
	"vision_model.embeddings.patch_embedding.weight":    "visual.conv1.weight",
	"vision_model.embeddings.position_embedding.weight": "visual.positional_embedding",
	"vision_model.pre_layrnorm.weight":                  "visual.ln_pre.weight", // sic: HF's spelling
	"vision_model.pre_layrnorm.bias":                    "visual.ln_pre.bias",
	"vision_model.post_layernorm.weight":                "visual.ln_post.weight",
	"vision_model.post_layernorm.bias":                  "visual.ln_post.bias",
	"logit_scale":                                       "logit_scale",
}

// hfTransposed maps the projections Hugging Face stores as [embed, width].
var hfTransposed = map[string]string{
	"text_projection.weight":   "text_projection",
	"visual_projection.weight": "visual.proj",
}

// hfBlockRenames maps names inside one residual block.
var hfBlockRenames = map[string]string{
	"self_attn.out_proj.weight": "attn.out_proj.weight",
	"self_attn.out_proj.bias":   "attn.out_proj.bias",
	"layer_norm1.weight":        "ln_1.weight",
	"layer_norm1.bias":          "ln_1.bias",
	"layer_norm2.weight":        "ln_2.weight",
	"layer_norm2.bias":          "ln_2.bias",
	"mlp.fc1.weight":            "mlp.c_fc.weight",
	"mlp.fc1.bias":              "mlp.c_fc.bias",
	"mlp.fc2.weight":            "mlp.c_proj.weight",
	"mlp.fc2.bias":              "mlp.c_proj.bias",
}

// hfIgnored reports buffers of Hugging Face files that carry no weights.
func hfIgnored(name string) bool { return strings.HasSuffix(name, "embeddings.position_ids") }

// IsHFStateDict reports whether names look like Hugging Face's CLIPModel.
func IsHFStateDict[T any](sd map[string]T) bool {
	_, ok := sd["vision_model.embeddings.patch_embedding.weight"]
	return ok
}

// FromHFNames converts a Hugging Face CLIPModel state dict to OpenAI's names:
// q/k/v projections are stacked into in_proj (rows q, then k, then v) and the
// text and visual projections are transposed. Position-id buffers are
// dropped; any other unknown name is an error.
func FromHFNames(hf map[string]*tensor.Tensor) (map[string]*tensor.Tensor, error) {
	out := map[string]*tensor.Tensor{}
	qkv := map[string]*[3]*tensor.Tensor{} // OpenAI block prefix -> q, k, v parts
	for _, name := range sortedKeys(hf) {
		t := hf[name]
		if hfIgnored(name) {
			continue
		}
		if to, ok := hfRenames[name]; ok {
			out[to] = t
			continue
		}
		if to, ok := hfTransposed[name]; ok {
			if t.Dim() != 2 {
				return nil, fmt.Errorf("tensor %s has shape %v, expected a matrix", name, t.Shape())
			}
			out[to] = t.Transpose(0, 1).Contiguous()
			continue
		}
		block, rest, ok := hfBlock(name)
		if !ok {
			return nil, fmt.Errorf("unexpected tensor %s in a Hugging Face CLIPModel file", name)
		}
		if to, ok := hfBlockRenames[rest]; ok {
			out[block+to] = t
			continue
		}
		part, kind, ok := qkvPart(rest)
		if !ok {
			return nil, fmt.Errorf("unexpected tensor %s in a Hugging Face CLIPModel file", name)
		}
		key := block + "attn.in_proj_" + kind
		if qkv[key] == nil {
			qkv[key] = new([3]*tensor.Tensor)
		}
		qkv[key][part] = t
	}
	for _, key := range sortedKeys(qkv) {
		parts := qkv[key]
		for i, p := range parts {
			if p == nil {
				return nil, fmt.Errorf("%s: the %s projection is missing", key, "qkv"[i:i+1])
			}
			if !tensor.SameShape(p.Shape(), parts[0].Shape()) || p.Dim() < 1 || p.Dim() > 2 {
				return nil, fmt.Errorf("%s: q, k, v projections of shapes %v, %v, %v, expected equal vectors or matrices",
					key, parts[0].Shape(), parts[1].Shape(), parts[2].Shape())
			}
		}
		out[key] = tensor.Concat(parts[:], 0)
	}
	return out, nil
}

// hfBlock splits "<tower>.encoder.layers.N.<rest>" into our block prefix
// ("visual.transformer.resblocks.N.") and rest.
func hfBlock(name string) (block, rest string, ok bool) {
	for _, tw := range hfTowers {
		tail, found := strings.CutPrefix(name, tw.hf)
		if !found {
			continue
		}
		idx, rest, found := strings.Cut(tail, ".")
		if n, err := strconv.Atoi(idx); !found || err != nil || n < 0 || strconv.Itoa(n) != idx {
			return "", "", false
		}
		return tw.openai + idx + ".", rest, true
	}
	return "", "", false
}

// qkvPart parses "self_attn.{q,k,v}_proj.{weight,bias}".
func qkvPart(rest string) (part int, kind string, ok bool) {
	proj, kind, found := strings.Cut(strings.TrimPrefix(rest, "self_attn."), "_proj.")
	if !found || !strings.HasPrefix(rest, "self_attn.") || (kind != "weight" && kind != "bias") {
		return 0, "", false
	}
	part = strings.Index("qkv", proj)
	if len(proj) != 1 || part < 0 {
		return 0, "", false
	}
	return part, kind, true
}

// ToHFNames is FromHFNames' inverse: OpenAI-named tensors to Hugging Face
// CLIPModel names (in_proj split into q/k/v, projections transposed).
func ToHFNames(sd map[string]*tensor.Tensor) (map[string]*tensor.Tensor, error) {
	rename := map[string]string{}
	for hf, oa := range hfRenames {
		rename[oa] = hf
	}
	transposed := map[string]string{}
	for hf, oa := range hfTransposed {
		transposed[oa] = hf
	}
	blockRename := map[string]string{}
	for hf, oa := range hfBlockRenames {
		blockRename[oa] = hf
	}
	out := map[string]*tensor.Tensor{}
	for _, name := range sortedKeys(sd) {
		t := sd[name]
		if to, ok := rename[name]; ok {
			out[to] = t
			continue
		}
		if to, ok := transposed[name]; ok {
			if t.Dim() != 2 {
				return nil, fmt.Errorf("tensor %s has shape %v, expected a matrix", name, t.Shape())
			}
			out[to] = t.Transpose(0, 1).Contiguous()
			continue
		}
		hfBlockPrefix, rest := "", ""
		for _, tw := range hfTowers {
			if tail, ok := strings.CutPrefix(name, tw.openai); ok {
				if idx, r, ok := strings.Cut(tail, "."); ok {
					hfBlockPrefix, rest = tw.hf+idx+".", r
				}
				break
			}
		}
		if hfBlockPrefix == "" {
			return nil, fmt.Errorf("tensor %s has no Hugging Face CLIPModel name", name)
		}
		if to, ok := blockRename[rest]; ok {
			out[hfBlockPrefix+to] = t
			continue
		}
		kind, ok := strings.CutPrefix(rest, "attn.in_proj_")
		if !ok || (kind != "weight" && kind != "bias") || t.Dim() < 1 || t.Size(0)%3 != 0 {
			return nil, fmt.Errorf("tensor %s (shape %v) has no Hugging Face CLIPModel name", name, t.Shape())
		}
		w := t.Size(0) / 3
		for i, p := range []string{"q", "k", "v"} {
			out[hfBlockPrefix+"self_attn."+p+"_proj."+kind] = t.Narrow(0, i*w, w).Contiguous()
		}
	}
	return out, nil
}

func sortedKeys[T any](m map[string]T) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
