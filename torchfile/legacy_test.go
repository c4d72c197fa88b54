package torchfile

import (
	"bytes"
	"encoding/binary"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// legacyTensor pushes _rebuild_tensor_v2 with a legacy storage id:
// ('storage', cls, key, 'cpu', numel, None).
func (p *pk) legacyTensor(cls, key string, numel, offset int, size, stride []int) *pk {
	p.global("torch._utils", "_rebuild_tensor_v2").op('(')
	p.op('(').str("storage").global("torch", cls).str(key).str("cpu").int(numel).op('N', 't', 'Q')
	p.int(offset).ints(size).ints(stride).op(0x89)
	p.global("collections", "OrderedDict").op(')', 'R')
	return p.op('t', 'R')
}

// legacyStorage is one storage as the legacy format appends it.
type legacyStorage struct {
	key   string
	numel int
	data  []byte
}

// legacyFile lays out a legacy torch.save stream around the object pickle.
func legacyFile(object []byte, storages ...legacyStorage) []byte {
	var b bytes.Buffer
	b.Write([]byte{0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, '.'}) // magic
	b.Write(newPickle().int(1001).stop())
	b.Write(newPickle().op('}', '(').str("little_endian").op(0x88).str("protocol_version").int(1001).op('u').stop())
	b.Write(object)
	keys := newPickle().op(']', '(')
	for _, s := range storages {
		keys.str(s.key)
	}
	b.Write(keys.op('e').stop())
	for _, s := range storages {
		b.Write(binary.LittleEndian.AppendUint64(nil, uint64(s.numel)))
		b.Write(s.data)
	}
	return b.Bytes()
}

// TestLoadLegacy reads a legacy stream: a transposed view and a slice of one
// storage, an int64 tensor, a nested dict.
func TestLoadLegacy(t *testing.T) {
	obj := newPickle().ordered().
		str("w").legacyTensor("FloatStorage", "0", 6, 0, []int{2, 3}, []int{3, 1}).
		str("wt").legacyTensor("FloatStorage", "0", 6, 0, []int{3, 2}, []int{1, 3}).
		str("tail").legacyTensor("FloatStorage", "0", 6, 4, []int{2}, []int{1}).
		str("n").legacyTensor("LongStorage", "1", 2, 0, []int{2}, []int{1}).
		setitems().stop()
	long := binary.LittleEndian.AppendUint64(binary.LittleEndian.AppendUint64(nil, 7), 1<<40)
	got, err := Load(writeTemp(t, "legacy.pt", legacyFile(obj, legacyStorage{"0", 6, f32range(6)}, legacyStorage{"1", 2, long})))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]float32{"w": {0, 1, 2, 3, 4, 5}, "wt": {0, 3, 1, 4, 2, 5}, "tail": {4, 5}}
	for name, w := range want {
		if g := got[name]; g == nil || !reflect.DeepEqual(g.Data, w) {
			t.Errorf("%s = %+v, want %v", name, g, w)
		}
	}
	if n := got["n"]; n == nil || n.DType != "int64" || !reflect.DeepEqual(n.Int, []int64{7, 1 << 40}) {
		t.Errorf("n = %+v, want int64 [7 2^40]", n)
	}
	if len(got) != 4 {
		t.Errorf("got %d tensors, want 4", len(got))
	}
}

// TestLoadLegacyErrors: damage to the storages section is named.
func TestLoadLegacyErrors(t *testing.T) {
	obj := newPickle().ordered().str("w").legacyTensor("FloatStorage", "0", 4, 0, []int{4}, []int{1}).setitems().stop()
	good := legacyStorage{"0", 4, f32range(4)}
	view := newPickle().ordered().str("w")
	view.global("torch._utils", "_rebuild_tensor_v2").op('(')
	view.op('(').str("storage").global("torch", "FloatStorage").str("0").str("cpu").int(4)
	view.op('(').str("9").int(0).int(4).op('t', 't', 'Q').int(0).ints([]int{4}).ints([]int{1}).op(0x89)
	view.global("collections", "OrderedDict").op(')', 'R', 't', 'R')
	cases := map[string]struct {
		file []byte
		want string
	}{
		"short":      {legacyFile(obj, legacyStorage{"0", 4, f32range(3)}), `truncated in storage "0": 12 bytes left, 16 needed`},
		"count":      {legacyFile(obj, legacyStorage{"0", 5, f32range(5)}), `storage "0" holds 5 elements, the pickle says 4`},
		"unlisted":   {legacyFile(obj), `storage "0" is used but not listed`},
		"unused":     {legacyFile(obj, good, legacyStorage{"1", 1, f32range(1)}), `storage "1" is listed but no tensor uses it`},
		"trailing":   {append(legacyFile(obj, good), 0), "1 unexplained bytes after the last storage"},
		"no numel":   {legacyFile(obj, good)[:len(legacyFile(obj, good))-20], `truncated at storage "0"`},
		"view":       {legacyFile(view.setitems().stop(), good), "is a view of another storage"},
		"version":    {bytes.Replace(legacyFile(obj, good), newPickle().int(1001).stop(), newPickle().int(1000).stop(), 1), "protocol version 1000"},
		"bad object": {legacyFile(newPickle().op(0xff).stop(), good), "object pickle at byte"},
	}
	for name, c := range cases {
		_, err := Load(writeTemp(t, "legacy.pt", c.file))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want %q", name, err, c.want)
		}
	}
}

// TestLoadLegacyFromPyTorch reads checkpoints PyTorch 1.13 wrote
// (scripts/torch-legacy-fixtures.py): the legacy file must hold what the
// zip file of the same state dict holds, and the legacy pickled module its
// parameters under state-dict names.
func TestLoadLegacyFromPyTorch(t *testing.T) {
	legacy, err := Load(filepath.Join("testdata", "legacy_state.pt"))
	if err != nil {
		t.Fatal(err)
	}
	zipped, err := Load(filepath.Join("testdata", "zip_state.pt"))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(legacy, zipped) {
		t.Errorf("legacy and zip files differ:\nlegacy %v\nzip    %v", names(legacy), names(zipped))
	}
	checks := map[string]struct {
		shape []int
		data  []float32
	}{
		"transposed": {[]int{4, 3}, []float32{0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11}},
		"slice":      {[]int{2, 2}, []float32{6, 7, 10, 11}},
		"half":       {[]int{3}, []float32{0.5, -2, 65504}},
		"scalar":     {[]int{}, []float32{2.5}},
		"0.weight":   {[]int{4, 3}, []float32{-1, -0.5, 0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5}},
	}
	for name, c := range checks {
		g := legacy[name]
		if g == nil || !reflect.DeepEqual(g.Shape, c.shape) || !reflect.DeepEqual(g.Data, c.data) {
			t.Errorf("%s = %+v, want shape %v data %v", name, g, c.shape, c.data)
		}
	}
	if s := legacy["steps"]; s == nil || !reflect.DeepEqual(s.Int, []int64{3, -1, 1 << 40}) {
		t.Errorf("steps = %+v", s)
	}
	module, err := Load(filepath.Join("testdata", "legacy_module.pt"))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"0.bias", "0.weight", "1.bias", "1.weight", "2.weight"}
	if got := names(module); !reflect.DeepEqual(got, want) {
		t.Fatalf("module tensors %v, want %v", got, want)
	}
	for _, name := range want {
		if !reflect.DeepEqual(module[name].Data, legacy[name].Data) {
			t.Errorf("%s: the pickled module's %v, the state dict's %v", name, module[name].Data, legacy[name].Data)
		}
	}
}
