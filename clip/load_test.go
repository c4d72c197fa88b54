package clip

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lafite-go/lafite/autograd"
	"github.com/lafite-go/lafite/internal/goldendir"
	"github.com/lafite-go/lafite/nn"
	"github.com/lafite-go/lafite/safetensors"
	"github.com/lafite-go/lafite/tensor"
)

// modelCase is the clip_model golden case: inputs, outputs, tolerances and
// the reference weights.
type modelCase struct {
	image  *tensor.Tensor
	tokens [][]int
	outs   map[string]*tensor.Tensor
	tol    map[string]struct{ Rtol, Atol float64 }
	params map[string]*tensor.Tensor
}

func loadModelCase(t *testing.T) *modelCase {
	t.Helper()
	f, err := safetensors.ReadFile(filepath.Join(goldendir.Dir(t), "clip_model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	c := &modelCase{outs: map[string]*tensor.Tensor{}, params: map[string]*tensor.Tensor{}}
	if err := json.Unmarshal([]byte(f.Metadata["tol_detail"]), &c.tol); err != nil {
		t.Fatal(err)
	}
	for _, name := range f.Order {
		st := f.Tensors[name]
		if name == "in.tokens" {
			ids, err := st.Int64()
			if err != nil {
				t.Fatal(err)
			}
			l := st.Shape[1]
			for i := 0; i < st.Shape[0]; i++ {
				row := make([]int, l)
				for j := range row {
					row[j] = int(ids[i*l+j])
				}
				c.tokens = append(c.tokens, row)
			}
			continue
		}
		d, err := st.Float32()
		if err != nil {
			t.Fatal(err)
		}
		v := tensor.New(d, st.Shape...)
		switch {
		case name == "in.image":
			c.image = v
		case strings.HasPrefix(name, "out."):
			c.outs[name] = v
		case strings.HasPrefix(name, "param."):
			c.params[strings.TrimPrefix(name, "param.")] = v
		}
	}
	return c
}

// forward computes the golden case's four outputs.
func (c *modelCase) forward(t *testing.T, m *Model) map[string]*tensor.Tensor {
	t.Helper()
	out := map[string]*tensor.Tensor{}
	autograd.NoGrad(func() {
		img := m.EncodeImage(autograd.Const(c.image))
		txt, err := m.EncodeText(c.tokens)
		if err != nil {
			t.Fatal(err)
		}
		logits := m.Logits(img, txt)
		out["out.image_features"] = img.Value
		out["out.text_features"] = txt.Value
		out["out.logits_per_image"] = logits.Value
		out["out.logits_per_text"] = logits.Value.Transpose(0, 1)
	})
	return out
}

// check compares outputs within the case's per-tensor tolerances.
func (c *modelCase) check(t *testing.T, what string, got map[string]*tensor.Tensor) {
	t.Helper()
	if len(c.outs) != 4 {
		t.Fatalf("golden case has outputs %d, want 4", len(c.outs))
	}
	for name, want := range c.outs {
		tl, ok := c.tol[name]
		if !ok {
			t.Fatalf("no tolerance for %s", name)
		}
		g := got[name]
		if g == nil || !tensor.SameShape(g.Shape(), want.Shape()) {
			t.Fatalf("%s: %s missing or misshapen", what, name)
		}
		gs, ws := g.Contiguous().ToSlice(), want.ToSlice()
		for i := range ws {
			if d := math.Abs(float64(gs[i] - ws[i])); !(d <= tl.Atol+tl.Rtol*math.Abs(float64(ws[i]))) {
				t.Fatalf("%s: %s[%d] = %v, want %v", what, name, i, gs[i], ws[i])
			}
		}
	}
}

func sameTensor(a, b *tensor.Tensor) bool {
	if !tensor.SameShape(a.Shape(), b.Shape()) {
		return false
	}
	bs := b.Contiguous().ToSlice()
	for i, v := range a.Contiguous().ToSlice() {
		if v != bs[i] {
			return false
		}
	}
	return true
}

func TestLoadFixturesReproduceGoldenModel(t *testing.T) {
	c := loadModelCase(t)
	for _, name := range []string{"tiny_clip_state_dict.pt", "tiny_clip_jit.pt"} {
		m, err := Load(filepath.Join(goldendir.Dir(t), "clip_files", name))
		if err != nil {
			t.Fatal(err)
		}
		want := Config{EmbedDim: 32, ImageResolution: 32, VisionLayers: 2, VisionWidth: 64, VisionPatch: 8, VisionHeads: 1,
			ContextLength: 16, VocabSize: 120, TextWidth: 64, TextHeads: 1, TextLayers: 2}
		if m.Config != want {
			t.Fatalf("%s: config %+v, want %+v", name, m.Config, want)
		}
		// Both files hold exactly the golden weights (the JIT file's fp16
		// tensors are fp16-exact in the golden file).
		sd := nn.StateDict(m)
		if len(sd) != len(c.params) {
			t.Fatalf("%s: %d tensors, golden has %d", name, len(sd), len(c.params))
		}
		for k, v := range c.params {
			if got, ok := sd[k]; !ok || !sameTensor(got, v) {
				t.Fatalf("%s: weight %s differs from the golden file", name, k)
			}
		}
		c.check(t, name, c.forward(t, m))
	}
}

// writeSafetensors stores float tensors under their map names.
func writeSafetensors(t *testing.T, path string, sd map[string]*tensor.Tensor, meta map[string]string) {
	t.Helper()
	var ts []*safetensors.Tensor
	for _, name := range sortedKeys(sd) {
		v := sd[name].Contiguous()
		ts = append(ts, safetensors.F32Tensor(name, v.Shape(), v.ToSlice()))
	}
	if err := safetensors.WriteFile(path, ts, meta); err != nil {
		t.Fatal(err)
	}
}

func TestLoadHuggingFaceSafetensors(t *testing.T) {
	c := loadModelCase(t)
	hf, err := ToHFNames(c.params)
	if err != nil {
		t.Fatal(err)
	}
	// Spot checks of the Hugging Face layout, so the mapping cannot be
	// self-consistent yet wrong.
	for name, shape := range map[string][]int{
		"vision_model.pre_layrnorm.weight":                      {64},
		"vision_model.embeddings.patch_embedding.weight":        {64, 3, 8, 8},
		"vision_model.embeddings.class_embedding":               {64},
		"vision_model.encoder.layers.1.self_attn.k_proj.weight": {64, 64},
		"text_model.encoder.layers.0.self_attn.v_proj.bias":     {64},
		"text_model.encoder.layers.1.mlp.fc1.weight":            {256, 64},
		"text_model.final_layer_norm.bias":                      {64},
		"visual_projection.weight":                              {32, 64},
		"text_projection.weight":                                {32, 64},
		"text_model.embeddings.position_embedding.weight":       {16, 64},
		"vision_model.encoder.layers.0.layer_norm2.bias":        {64},
		"vision_model.embeddings.position_embedding.weight":     {17, 64},
		"text_model.embeddings.token_embedding.weight":          {120, 64},
		"logit_scale": {},
		"vision_model.encoder.layers.0.mlp.fc2.weight":          {64, 256},
		"text_model.encoder.layers.1.layer_norm1.weight":        {64},
		"vision_model.encoder.layers.0.self_attn.out_proj.bias": {64},
		"vision_model.post_layernorm.bias":                      {64},
	} {
		got, ok := hf[name]
		if !ok || !tensor.SameShape(got.Shape(), shape) {
			t.Fatalf("Hugging Face tensor %s missing or not of shape %v", name, shape)
		}
	}
	if len(hf) != 78 { // 16 per block, 4 blocks, 14 others
		t.Fatalf("%d Hugging Face tensors, want 78", len(hf))
	}
	q := c.params["visual.transformer.resblocks.1.attn.in_proj_weight"].Narrow(0, 64, 64)
	if !sameTensor(hf["vision_model.encoder.layers.1.self_attn.k_proj.weight"], q) {
		t.Fatal("k_proj is not the second third of in_proj_weight")
	}
	if !sameTensor(hf["visual_projection.weight"], c.params["visual.proj"].Transpose(0, 1)) {
		t.Fatal("visual_projection.weight is not visual.proj transposed")
	}

	// Round trip and a real file, with the position_ids buffer HF files carry.
	back, err := FromHFNames(hf)
	if err != nil {
		t.Fatal(err)
	}
	if len(back) != len(c.params) {
		t.Fatalf("round trip gives %d tensors, want %d", len(back), len(c.params))
	}
	for k, v := range c.params {
		if !sameTensor(back[k], v) {
			t.Fatalf("round trip changes %s", k)
		}
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "model.safetensors")
	ts := []*safetensors.Tensor{safetensors.I64Tensor("text_model.embeddings.position_ids", []int{1, 16}, make([]int64, 16))}
	for _, name := range sortedKeys(hf) {
		v := hf[name].Contiguous()
		ts = append(ts, safetensors.F32Tensor(name, v.Shape(), v.ToSlice()))
	}
	if err := safetensors.WriteFile(path, ts, map[string]string{"format": "pt"}); err != nil {
		t.Fatal(err)
	}
	m, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	c.check(t, "Hugging Face safetensors", c.forward(t, m))

	// OpenAI names in safetensors, and a wrapper's "module." prefix.
	prefixed := map[string]*tensor.Tensor{}
	for k, v := range c.params {
		prefixed["module."+k] = v
	}
	path = filepath.Join(dir, "openai.safetensors")
	writeSafetensors(t, path, prefixed, nil)
	if m, err = Load(path); err != nil {
		t.Fatal(err)
	}
	c.check(t, "OpenAI-named safetensors", c.forward(t, m))
}

func TestLoadErrorsNameFileAndExpectation(t *testing.T) {
	dir := t.TempDir()
	fixture := filepath.Join(goldendir.Dir(t), "clip_files", "tiny_clip_state_dict.pt")
	zipData, err := os.ReadFile(fixture)
	if err != nil {
		t.Fatal(err)
	}
	c := loadModelCase(t)
	small := filepath.Join(dir, "small.safetensors")
	writeSafetensors(t, small, c.params, nil)
	stData, err := os.ReadFile(small)
	if err != nil {
		t.Fatal(err)
	}
	hfMissingK, _ := ToHFNames(c.params)
	delete(hfMissingK, "text_model.encoder.layers.1.self_attn.k_proj.weight")
	noText := map[string]*tensor.Tensor{}
	for k, v := range c.params {
		if k != "text_projection" {
			noText[k] = v
		}
	}
	badShape := map[string]*tensor.Tensor{}
	for k, v := range c.params {
		badShape[k] = v
	}
	badShape["transformer.resblocks.0.mlp.c_fc.bias"] = tensor.Zeros(255)
	extra := map[string]*tensor.Tensor{"unrelated.weight": tensor.Zeros(3)}
	for k, v := range c.params {
		extra[k] = v
	}

	files := map[string][]byte{
		"empty.pt":                   nil,
		"tiny.pt":                    []byte("PK"),
		"garbage.pt":                 []byte("definitely not a checkpoint of any kind"),
		"legacy.pt":                  {0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20},
		"truncated.pt":               zipData[:len(zipData)/2],
		"truncated.safetensors":      stData[:len(stData)-100],
		"header-only.safetensors":    stData[:200],
		"golden-case.safetensors":    nil, // filled below: a file of the wrong kind
		"hf-missing-k.safetensors":   nil,
		"no-text-proj.safetensors":   nil,
		"bad-shape.safetensors":      nil,
		"extra-tensor.safetensors":   nil,
		"not-clip-names.safetensors": nil,
	}
	for name, data := range files {
		p := filepath.Join(dir, name)
		switch name {
		case "golden-case.safetensors":
			data, err = os.ReadFile(filepath.Join(goldendir.Dir(t), "clip_vision.safetensors"))
			if err != nil {
				t.Fatal(err)
			}
		case "hf-missing-k.safetensors":
			writeSafetensors(t, p, hfMissingK, nil)
		case "no-text-proj.safetensors":
			writeSafetensors(t, p, noText, nil)
		case "bad-shape.safetensors":
			writeSafetensors(t, p, badShape, nil)
		case "extra-tensor.safetensors":
			writeSafetensors(t, p, extra, nil)
		case "not-clip-names.safetensors":
			writeSafetensors(t, p, map[string]*tensor.Tensor{"conv.weight": tensor.Zeros(2, 2)}, nil)
		}
		if data != nil || !strings.HasSuffix(name, ".safetensors") {
			if err := os.WriteFile(p, data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		_, err := Load(p)
		if err == nil {
			t.Errorf("%s: loaded without error", name)
			continue
		}
		if !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), "expected") {
			t.Errorf("%s: error does not name the file and what was expected: %v", name, err)
		}
	}
	for _, p := range []string{filepath.Join(dir, "missing.pt"), dir} {
		if _, err := Load(p); err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), "expected") {
			t.Errorf("%s: %v", p, err)
		}
	}
}

func FuzzLoad(f *testing.F) {
	// Seeds: a small valid model in both safetensors namings, the fixtures and
	// their damaged forms; go test runs only these.
	tiny := Config{EmbedDim: 4, ImageResolution: 4, VisionLayers: 1, VisionWidth: 8, VisionPatch: 2, VisionHeads: 1,
		ContextLength: 3, VocabSize: 5, TextWidth: 8, TextHeads: 1, TextLayers: 1}
	sd := nn.StateDict(New(tiny, tensor.NewRNG(1)))
	hf, err := ToHFNames(sd)
	if err != nil {
		f.Fatal(err)
	}
	for _, m := range []map[string]*tensor.Tensor{sd, hf} {
		var ts []*safetensors.Tensor
		for _, name := range sortedKeys(m) {
			v := m[name].Contiguous()
			ts = append(ts, safetensors.F32Tensor(name, v.Shape(), v.ToSlice()))
		}
		data, err := safetensors.Encode(ts, nil)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
		f.Add(data[:len(data)/3])
	}
	if dir, err := goldendir.Find(); err == nil {
		for _, name := range []string{"tiny_clip_state_dict.pt", "tiny_clip_jit.pt"} {
			if data, err := os.ReadFile(filepath.Join(dir, "clip_files", name)); err == nil {
				f.Add(data)
				f.Add(data[:len(data)*2/3])
			}
		}
	}
	f.Add([]byte("PK\x03\x04"))
	f.Add([]byte{0x80, 0x02})
	f.Add([]byte("\x10\x00\x00\x00\x00\x00\x00\x00{\"a\":1}        "))
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(t.TempDir(), "fuzz.ckpt")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		m, err := Load(p)
		if err != nil {
			if !strings.Contains(err.Error(), p) {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		if err := m.Config.validate(); err != nil {
			t.Fatalf("loaded an invalid config: %v", err)
		}
	})
}

func TestLoadBundleKeepsHeadsAndVocabulary(t *testing.T) {
	c := tinyConfig // heads 2 at width 8: not what width/64 would infer
	m := New(c, tensor.NewRNG(5))
	path := filepath.Join(t.TempDir(), "bundle.safetensors")
	if err := SaveBundle(path, m, BuildWordTokenizer([]string{"one two"}, 1)); err != nil {
		t.Fatal(err)
	}
	ck, err := ReadCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ck.Model()
	if err != nil {
		t.Fatal(err)
	}
	if got.Config != c {
		t.Fatalf("config %+v, want %+v", got.Config, c)
	}
	want := nn.StateDict(m)
	for k, v := range nn.StateDict(got) {
		if !sameTensor(v, want[k]) {
			t.Fatalf("%s differs after the round trip", k)
		}
	}
	w, err := ck.WordTokenizer()
	if err != nil || w == nil || w.VocabSize() != 6 {
		t.Fatalf("word vocabulary: %v, %v", w, err)
	}
	ck.Metadata["text_heads"] = "3" // does not divide width 8
	if _, err := ck.Model(); err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("bad head count: %v", err)
	}
}
