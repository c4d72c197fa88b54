package torchfile

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/lafite-go/lafite/internal/goldendir"
	"github.com/lafite-go/lafite/safetensors"
)

// goldenParams returns the param.* tensors of clip_model.safetensors by
// state_dict name, and the model's constructor arguments.
func goldenParams(t *testing.T) (map[string]*safetensors.Tensor, map[string]int) {
	f, err := safetensors.ReadFile(filepath.Join(goldendir.Dir(t), "clip_model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	params := map[string]*safetensors.Tensor{}
	for name, tt := range f.Tensors {
		if n, ok := strings.CutPrefix(name, "param."); ok {
			params[n] = tt
		}
	}
	var attrs struct {
		Init map[string]int `json:"init"`
	}
	if err := json.Unmarshal([]byte(f.Metadata["attrs"]), &attrs); err != nil {
		t.Fatal(err)
	}
	return params, attrs.Init
}

func names[T any](m map[string]T) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// compare checks that got holds exactly the golden float32 values.
func compare(t *testing.T, got map[string]*Tensor, want map[string]*safetensors.Tensor) {
	t.Helper()
	for name, w := range want {
		g, ok := got[name]
		if !ok {
			t.Errorf("%s missing", name)
			continue
		}
		if !reflect.DeepEqual(g.Shape, w.Shape) && !(len(g.Shape) == 0 && len(w.Shape) == 0) {
			t.Errorf("%s: shape %v, want %v", name, g.Shape, w.Shape)
			continue
		}
		wv, err := w.Float32()
		if err != nil {
			t.Fatal(err)
		}
		if len(g.Data) != len(wv) || g.Int != nil {
			t.Errorf("%s: %d float values (int %v), want %d", name, len(g.Data), g.Int != nil, len(wv))
			continue
		}
		for i := range wv {
			if math.Float32bits(g.Data[i]) != math.Float32bits(wv[i]) {
				t.Errorf("%s[%d] = %v, want %v exactly", name, i, g.Data[i], wv[i])
				break
			}
		}
	}
}

func TestLoadStateDict(t *testing.T) {
	want, _ := goldenParams(t)
	got, err := Load(filepath.Join(goldendir.Dir(t), "clip_files", "tiny_clip_state_dict.pt"))
	if err != nil {
		t.Fatal(err)
	}
	if g, w := names(got), names(want); !reflect.DeepEqual(g, w) {
		t.Fatalf("names differ:\n got %v\nwant %v", g, w)
	}
	for name, tt := range got {
		if tt.DType != "float32" || tt.Name != name {
			t.Errorf("%s: dtype %s name %q", name, tt.DType, tt.Name)
		}
	}
	compare(t, got, want)
}

func TestLoadTorchScript(t *testing.T) {
	want, init := goldenParams(t)
	got, err := Load(filepath.Join(goldendir.Dir(t), "clip_files", "tiny_clip_jit.pt"))
	if err != nil {
		t.Fatal(err)
	}
	extra := map[string]int64{
		"input_resolution": int64(init["image_resolution"]),
		"context_length":   int64(init["context_length"]),
		"vocab_size":       int64(init["vocab_size"]),
	}
	wantNames := names(want)
	for k := range extra {
		wantNames = append(wantNames, k)
	}
	sort.Strings(wantNames)
	if g := names(got); !reflect.DeepEqual(g, wantNames) {
		t.Fatalf("names differ:\n got %v\nwant %v", g, wantNames)
	}
	for k, v := range extra {
		b := got[k]
		if b.DType != "int64" || len(b.Shape) != 0 || b.Data != nil || !reflect.DeepEqual(b.Int, []int64{v}) {
			t.Errorf("%s = %+v, want 0-d int64 %d", k, b, v)
		}
		delete(got, k)
	}
	// convert_weights made these fp16; the rest (LayerNorm, embeddings,
	// logit_scale) stayed float32.
	for _, name := range []string{"visual.conv1.weight", "text_projection", "visual.proj",
		"transformer.resblocks.0.attn.in_proj_weight", "transformer.resblocks.1.mlp.c_fc.bias"} {
		if got[name].DType != "float16" {
			t.Errorf("%s: dtype %s, want float16", name, got[name].DType)
		}
	}
	for _, name := range []string{"logit_scale", "positional_embedding", "ln_final.weight", "token_embedding.weight"} {
		if got[name].DType != "float32" {
			t.Errorf("%s: dtype %s, want float32", name, got[name].DType)
		}
	}
	compare(t, got, want)
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	valid := zipBytes(t, "ck/", archiveFiles{
		"data.pkl": newPickle().ordered().str("w").tensor("FloatStorage", "0", 4, 0, []int{4}, []int{1}).setitems().stop(),
		"data/0":   f32range(4),
	})
	if _, err := Load(writeTemp(t, "valid.pt", valid)); err != nil {
		t.Fatalf("valid archive: %v", err)
	}
	files := map[string][]byte{
		"truncated.pt": valid[:len(valid)/2],
		"random.pt":    []byte("\x13\x37 definitely not a checkpoint, just random bytes \xde\xad\xbe\xef"),
		"legacy.pt":    {0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, '.'},
		"pickle.pt":    newPickle().int(7).stop(),
		"empty.pt":     {},
		"nopickle.pt":  zipBytes(t, "ck/", archiveFiles{"data/0": f32range(4), "version": []byte("3\n")}),
	}
	if gd, err := goldendir.Find(); err == nil {
		// A real fixture with its tail cut off: the central directory is gone.
		b, err := os.ReadFile(filepath.Join(gd, "clip_files", "tiny_clip_jit.pt"))
		if err != nil {
			t.Fatal(err)
		}
		files["jit_truncated.pt"] = b[:len(b)-1000]
	}
	want := map[string]string{
		"truncated.pt":     "not a readable zip archive (truncated or corrupt?)",
		"random.pt":        "not a PyTorch checkpoint: expected a zip archive",
		"legacy.pt":        "legacy torch.save checkpoint cut short after its magic number",
		"pickle.pt":        "no tensors found in the pickle (got int)",
		"empty.pt":         "empty file",
		"nopickle.pt":      "no data.pkl record",
		"jit_truncated.pt": "not a readable zip archive",
	}
	for name, data := range files {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := Load(p)
		if err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), want[name]) {
			t.Errorf("%s: err = %v, want the path and %q", name, err, want[name])
		}
	}
	missing := filepath.Join(dir, "missing.pt")
	if _, err := Load(missing); err == nil || !strings.Contains(err.Error(), missing) || !os.IsNotExist(unwrapAll(err)) {
		t.Errorf("missing file: %v", err)
	}
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Errorf("directory: %v", err)
	}
}

func unwrapAll(err error) error {
	for {
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return err
		}
		err = u.Unwrap()
	}
}

// TestStridedViews checks views that torch.save keeps as views: storage
// offsets, transposes, shared storages, broadcasts and scalars.
func TestStridedViews(t *testing.T) {
	p := newPickle().ordered()
	p.str("contig").tensor("FloatStorage", "0", 24, 0, []int{2, 3, 4}, []int{12, 4, 1})
	p.str("transposed").tensor("FloatStorage", "0", 24, 0, []int{4, 6}, []int{1, 4})
	p.str("offset").tensor("FloatStorage", "0", 24, 5, []int{2, 2}, []int{6, 2})
	p.str("permuted").tensor("FloatStorage", "0", 24, 1, []int{3, 2, 2}, []int{4, 12, 2})
	p.str("expanded").tensor("FloatStorage", "0", 24, 7, []int{2, 3}, []int{0, 1})
	p.str("scalar").tensor("FloatStorage", "0", 24, 23, []int{}, []int{})
	p.str("empty").tensor("FloatStorage", "0", 24, 0, []int{3, 0}, []int{1, 1})
	p.str("nested").op('}', '(').str("inner").tensor("FloatStorage", "0", 24, 2, []int{1}, []int{1}).op('u')
	path := writeTemp(t, "views.pt", zipBytes(t, "views/", archiveFiles{
		"data.pkl": p.setitems().stop(),
		"data/0":   f32range(24),
	}))
	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]float32{
		"contig":       {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23},
		"transposed":   {0, 4, 8, 12, 16, 20, 1, 5, 9, 13, 17, 21, 2, 6, 10, 14, 18, 22, 3, 7, 11, 15, 19, 23},
		"offset":       {5, 7, 11, 13},
		"permuted":     {1, 3, 13, 15, 5, 7, 17, 19, 9, 11, 21, 23},
		"expanded":     {7, 8, 9, 7, 8, 9},
		"scalar":       {23},
		"empty":        {},
		"nested.inner": {2},
	}
	if g, w := names(got), names(want); !reflect.DeepEqual(g, w) {
		t.Fatalf("names %v, want %v", g, w)
	}
	for name, w := range want {
		if !reflect.DeepEqual(got[name].Data, w) {
			t.Errorf("%s = %v, want %v", name, got[name].Data, w)
		}
	}
	if s := got["permuted"].Shape; !reflect.DeepEqual(s, []int{3, 2, 2}) {
		t.Errorf("permuted shape %v", s)
	}
}

// TestDTypes checks every storage type and the big-endian byte order that
// torch.save records in newer archives.
func TestDTypes(t *testing.T) {
	le := binary.LittleEndian
	var f64 []byte
	for _, v := range []float64{0.1, -2} {
		f64 = le.AppendUint64(f64, math.Float64bits(v))
	}
	records := archiveFiles{
		"data/h":  {0x00, 0x3c, 0x01, 0x00, 0x00, 0xfc}, // 1, 2^-24, -inf
		"data/bf": {0x80, 0x3f, 0x49, 0x40},             // 1, 3.140625
		"data/d":  f64,
		"data/l":  le.AppendUint64(le.AppendUint64(nil, math.MaxUint64), 7),
		"data/i":  le.AppendUint32(nil, math.MaxUint32),
		"data/s":  le.AppendUint16(nil, 0xfffe),
		"data/c":  {0x80},
		"data/u":  {0xff},
		"data/b":  {0, 1, 2},
	}
	p := newPickle().ordered()
	p.str("h").tensor("HalfStorage", "h", 3, 0, []int{3}, []int{1})
	p.str("bf").tensor("BFloat16Storage", "bf", 2, 0, []int{2}, []int{1})
	p.str("d").tensor("DoubleStorage", "d", 2, 0, []int{2}, []int{1})
	p.str("l").tensor("LongStorage", "l", 2, 0, []int{2}, []int{1})
	p.str("i").tensor("IntStorage", "i", 1, 0, []int{}, []int{})
	p.str("s").tensor("ShortStorage", "s", 1, 0, []int{1}, []int{1})
	p.str("c").tensor("CharStorage", "c", 1, 0, []int{1}, []int{1})
	p.str("u").tensor("ByteStorage", "u", 1, 0, []int{1}, []int{1})
	p.str("b").tensor("BoolStorage", "b", 3, 0, []int{3}, []int{1})
	records["data.pkl"] = p.setitems().stop()

	wantF := map[string][]float32{"h": {1, float32(math.Ldexp(1, -24)), float32(math.Inf(-1))}, "bf": {1, 3.140625}, "d": {0.1, -2}}
	wantI := map[string][]int64{"l": {-1, 7}, "i": {-1}, "s": {-2}, "c": {-128}, "u": {255}, "b": {0, 1, 1}}
	wantT := map[string]string{"h": "float16", "bf": "bfloat16", "d": "float64", "l": "int64", "i": "int32", "s": "int16", "c": "int8", "u": "uint8", "b": "bool"}
	check := func(label string, got map[string]*Tensor) {
		for n, w := range wantF {
			if !reflect.DeepEqual(got[n].Data, w) || got[n].Int != nil {
				t.Errorf("%s %s = %v, want %v", label, n, got[n].Data, w)
			}
		}
		for n, w := range wantI {
			if !reflect.DeepEqual(got[n].Int, w) || got[n].Data != nil {
				t.Errorf("%s %s = %v, want %v", label, n, got[n].Int, w)
			}
		}
		for n, w := range wantT {
			if got[n].DType != w {
				t.Errorf("%s %s dtype %s, want %s", label, n, got[n].DType, w)
			}
		}
	}
	got, err := Load(writeTemp(t, "dtypes.pt", zipBytes(t, "a/", records)))
	if err != nil {
		t.Fatal(err)
	}
	check("little-endian", got)

	big := archiveFiles{"byteorder": []byte("big")}
	sizes := map[string]int{"h": 2, "bf": 2, "d": 8, "l": 8, "i": 4, "s": 2, "c": 1, "u": 1, "b": 1}
	for name, data := range records {
		k, isData := strings.CutPrefix(name, "data/")
		if !isData {
			big[name] = data
			continue
		}
		b := append([]byte{}, data...)
		swapBytes(b, sizes[k])
		big[name] = b
	}
	got, err = Load(writeTemp(t, "big.pt", zipBytes(t, "a/", big)))
	if err != nil {
		t.Fatal(err)
	}
	check("big-endian", got)
}

// TestScriptModule checks the TorchScript walk on a hand-built archive: only
// declared parameters and buffers are kept, None parameters are skipped,
// non-Module TorchScript classes are ignored, and without code records every
// tensor attribute is kept.
func TestScriptModule(t *testing.T) {
	p := newPickle().module("__torch__.net", "Net")
	p.str("weight").tensor("FloatStorage", "0", 4, 0, []int{2, 2}, []int{2, 1})
	p.str("bias").op('N')
	p.str("scratch").tensor("FloatStorage", "0", 4, 0, []int{4}, []int{1})
	p.str("training").op(0x88)
	p.str("child").module("__torch__.net.___torch_mangle_3", "Child")
	p.str("running").tensor("LongStorage", "1", 1, 0, []int{}, []int{})
	p.str("training").op(0x89).endModule()
	p.str("helper").module("__torch__.net", "Helper")
	p.str("t").tensor("FloatStorage", "0", 4, 0, []int{1}, []int{1}).endModule()
	pkl := p.endModule().stop()
	code := archiveFiles{
		"code/__torch__/net.py": []byte("class Net(Module):\n  __parameters__ = [\"weight\", \"bias\", ]\n  __buffers__ = []\n  weight : Tensor\n" +
			"class Helper(object):\n  t : Tensor\n"),
		"code/__torch__/net/___torch_mangle_3.py": []byte("class Child(Module):\n  __parameters__ = []\n  __buffers__ = [\"running\", ]\n"),
	}
	rec := archiveFiles{"data.pkl": pkl, "data/0": f32range(4), "data/1": binary.LittleEndian.AppendUint64(nil, 5), "constants.pkl": newPickle().op(')').stop()}
	for k, v := range code {
		rec[k] = v
	}
	got, err := Load(writeTemp(t, "script.pt", zipBytes(t, "script/", rec)))
	if err != nil {
		t.Fatal(err)
	}
	if g := names(got); !reflect.DeepEqual(g, []string{"child.running", "weight"}) {
		t.Errorf("with code: names %v", g)
	}
	if !reflect.DeepEqual(got["child.running"].Int, []int64{5}) || !reflect.DeepEqual(got["weight"].Data, []float32{0, 1, 2, 3}) {
		t.Errorf("values: %+v %+v", got["child.running"], got["weight"])
	}

	delete(rec, "code/__torch__/net.py")
	delete(rec, "code/__torch__/net/___torch_mangle_3.py")
	got, err = Load(writeTemp(t, "nocode.pt", zipBytes(t, "script/", rec)))
	if err != nil {
		t.Fatal(err)
	}
	if g := names(got); !reflect.DeepEqual(g, []string{"child.running", "helper.t", "scratch", "weight"}) {
		t.Errorf("without code: names %v", g)
	}
}

// TestPickledModule checks torch.save(model): nn.Module objects whose state
// holds _parameters, _buffers (minus non-persistent ones) and _modules.
func TestPickledModule(t *testing.T) {
	p := newPickle().module("torch.nn.modules.container", "Sequential")
	p.str("training").op(0x88)
	p.str("_parameters").ordered().setitems()
	p.str("_buffers").ordered().setitems()
	p.str("_modules").ordered()
	p.str("0").module("torch.nn.modules.linear", "Linear")
	p.str("_parameters").ordered()
	p.str("weight").global("torch._utils", "_rebuild_parameter").op('(')
	p.tensor("FloatStorage", "0", 4, 0, []int{2, 2}, []int{2, 1}).op(0x88).global("collections", "OrderedDict").op(')', 'R', 't', 'R')
	p.str("bias").op('N').setitems()
	p.str("_buffers").ordered()
	p.str("mean").tensor("FloatStorage", "0", 4, 1, []int{1}, []int{1})
	p.str("tmp").tensor("FloatStorage", "0", 4, 2, []int{1}, []int{1}).setitems()
	p.str("_non_persistent_buffers_set").global("builtins", "set").op(']', '(').str("tmp").op('e').op(0x85, 'R')
	p.str("_modules").ordered().setitems()
	p.endModule()
	pkl := p.setitems().endModule().stop()
	got, err := Load(writeTemp(t, "model.pt", zipBytes(t, "model/", archiveFiles{"data.pkl": pkl, "data/0": f32range(4)})))
	if err != nil {
		t.Fatal(err)
	}
	if g := names(got); !reflect.DeepEqual(g, []string{"0.mean", "0.weight"}) {
		t.Errorf("names %v", g)
	}
}

// TestCorruptPickles checks that structurally broken checkpoints give clear
// errors: each case is a valid zip around a bad data.pkl or bad storage.
func TestCorruptPickles(t *testing.T) {
	tensorPkl := func(cls string, numel, offset int, size, stride []int) []byte {
		return newPickle().ordered().str("w").tensor(cls, "0", numel, offset, size, stride).setitems().stop()
	}
	cycle := newPickle().op('}', 'q', 0).str("self").op('h', 0, 's', '.').Bytes()
	cases := []struct {
		name string
		pkl  []byte
		data []byte
		want string
	}{
		{"view past storage", tensorPkl("FloatStorage", 4, 2, []int{2, 2}, []int{2, 1}), f32range(4), `tensor "w": view (offset 2, size [2 2], stride [2 1]) reaches element 5 of a 4-element storage`},
		{"short storage", tensorPkl("FloatStorage", 8, 0, []int{8}, []int{1}), f32range(4), "holds 16 bytes, the pickle expects at least 32"},
		{"negative stride", tensorPkl("FloatStorage", 4, 3, []int{4}, []int{-1}), f32range(4), "negative size or stride"},
		{"rank mismatch", tensorPkl("FloatStorage", 4, 0, []int{4}, []int{1, 1}), f32range(4), "2 strides for 1 dimensions"},
		{"unknown storage", tensorPkl("QInt8Storage", 4, 0, []int{4}, []int{1}), f32range(4), "unsupported storage type"},
		{"unsupported rebuild", newPickle().global("torch._utils", "_rebuild_qtensor").op(')', 'R', '.').Bytes(), nil, "unsupported tensor encoding torch._utils._rebuild_qtensor"},
		{"bad opcode", []byte{0x80, 2, 0xff, '.'}, nil, "unknown pickle opcode 0xff at offset 2"},
		{"no stop", newPickle().ordered().Bytes(), nil, "pickle ends without STOP"},
		{"huge length", []byte{0x80, 2, 0x8e, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, '.'}, nil, "needs 9223372036854775807 bytes"},
		{"huge frame", []byte{0x80, 4, 0x95, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, '.'}, nil, "frame at offset 2 announces 4294967295 bytes"},
		{"odd setitems", []byte{0x80, 2, '}', '(', 'N', 'u', '.'}, nil, "corrupt pickle data (the unpickler panicked"},
		{"no tensors", newPickle().ordered().str("a").int(1).setitems().stop(), nil, "no tensors found"},
		{"cycle", cycle, nil, "cycle"},
		{"missing record", tensorPkl("FloatStorage", 4, 0, []int{4}, []int{1}), nil, "record t/data/0 missing"},
	}
	for _, c := range cases {
		rec := archiveFiles{"data.pkl": c.pkl}
		if c.data != nil {
			rec["data/0"] = c.data
		}
		path := writeTemp(t, "bad.pt", zipBytes(t, "t/", rec))
		_, err := Load(path)
		if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v\nwant the path and %q", c.name, err, c.want)
		}
	}
}

// fuzzSeeds are small archives covering the state-dict and TorchScript paths.
func fuzzSeeds(t testing.TB) [][]byte {
	sd := newPickle().ordered()
	sd.str("a").tensor("HalfStorage", "0", 4, 1, []int{3}, []int{1})
	sd.str("b").tensor("FloatStorage", "1", 6, 0, []int{3, 2}, []int{1, 3})
	state := zipBytes(t, "sd/", archiveFiles{"data.pkl": sd.setitems().stop(), "data/0": make([]byte, 8), "data/1": f32range(6)})

	sm := newPickle().module("__torch__.m", "M")
	sm.str("w").tensor("FloatStorage", "0", 4, 0, []int{2, 2}, []int{2, 1}).str("training").op(0x88)
	sm.str("sub").module("__torch__.m", "M").str("w").tensor("LongStorage", "1", 1, 0, []int{}, []int{}).endModule()
	script := zipBytes(t, "js/", archiveFiles{
		"data.pkl": sm.endModule().stop(), "data/0": f32range(4), "data/1": make([]byte, 8),
		"constants.pkl": newPickle().op(')').stop(), "code/__torch__/m.py": []byte("class M(Module):\n  __parameters__ = [\"w\", ]\n"),
	})
	legacy := newPickle().ordered().str("w").legacyTensor("FloatStorage", "0", 6, 2, []int{2, 2}, []int{1, 2})
	old := legacyFile(legacy.str("n").legacyTensor("LongStorage", "1", 1, 0, []int{}, []int{}).setitems().stop(),
		legacyStorage{"0", 6, f32range(6)}, legacyStorage{"1", 1, make([]byte, 8)})
	seeds := [][]byte{state, script, old}
	for _, name := range []string{"legacy_state.pt", "persistent_p2.pkl"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		seeds = append(seeds, b)
	}
	return seeds
}

// FuzzLoad feeds arbitrary files to Load: it must return tensors or an error
// naming the file, never panic. `go test` runs only the seeds; run
// `go test -fuzz FuzzLoad ./torchfile` to search.
func FuzzLoad(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
		f.Add(s[:len(s)/2])
		f.Add(s[:len(s)-10])
	}
	f.Add([]byte{})
	f.Add([]byte("PK\x03\x04"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(dir, "fuzz.pt")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := Load(path); err != nil && !strings.Contains(err.Error(), path) {
			t.Fatalf("error does not name the file: %v", err)
		}
	})
}

// FuzzPickle puts arbitrary bytes in the data.pkl of an otherwise valid
// archive. Mutating whole zip files mostly trips the CRC check, so this is
// the target that exercises the unpickler and the object walk.
func FuzzPickle(f *testing.F) {
	f.Add(newPickle().ordered().str("a").tensor("FloatStorage", "0", 6, 1, []int{2, 2}, []int{1, 2}).setitems().stop())
	sm := newPickle().module("__torch__.m", "M")
	sm.str("w").tensor("HalfStorage", "1", 4, 0, []int{2, 2}, []int{2, 1})
	sm.str("sub").module("__torch__.m", "M").str("w").tensor("LongStorage", "2", 1, 0, []int{}, []int{}).endModule()
	f.Add(sm.endModule().stop())
	f.Add([]byte{0x80, 2, '}', '(', 'N', 'u', '.'})
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, pkl []byte) {
		path := filepath.Join(dir, "fuzz.pt")
		data := zipBytes(t, "z/", archiveFiles{
			"data.pkl": pkl, "data/0": f32range(6), "data/1": make([]byte, 8), "data/2": make([]byte, 8),
			"constants.pkl": newPickle().op(')').stop(), "code/__torch__/m.py": []byte("class M(Module):\n  __parameters__ = [\"w\", ]\n"),
		})
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := Load(path); err != nil && !strings.Contains(err.Error(), path) {
			t.Fatalf("error does not name the file: %v", err)
		}
	})
}
