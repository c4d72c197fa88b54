package torchfile

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestLoadPersistentPickle reads networks pickled as StyleGAN2-ADA's (and
// Lafite's) .pkl files are, written by PyTorch 1.13 at pickle protocols 2
// (bytes through _codecs.encode) and 4 (scripts/torch-pickle-fixtures.py):
// every parameter and buffer of G, G_ema and the augmentation pipe under its
// dotted name, and a tensor kept in a dict subclass.
func TestLoadPersistentPickle(t *testing.T) {
	want := map[string][]float32{
		"G.const":                  {-2, -1, 0, 1, 2, 3},
		"G.mapping.fc0.bias":       {0.5, -0.5, 1},
		"G.mapping.fc0.weight":     {0, 0.25, 0.5, 0.75, 1, 1.25, 1.5, 1.75, 2, 2.25, 2.5, 2.75},
		"G.mapping.w_avg":          {0, 1, 2},
		"G_ema.const":              {-4, -2, 0, 2, 4, 6},
		"G_ema.mapping.fc0.bias":   {0.5, -0.5, 1},
		"G_ema.mapping.fc0.weight": {0, 0.25, 0.5, 0.75, 1, 1.25, 1.5, 1.75, 2, 2.25, 2.5, 2.75},
		"G_ema.mapping.w_avg":      {0, 1, 2},
		"augment_pipe.p":           {0.25},
		"extra.t":                  {1, 2}, // an item of a dict subclass (dnnlib's EasyDict)
	}
	for _, file := range []string{"persistent_p2.pkl", "persistent_p4.pkl"} {
		got, err := Load(filepath.Join("testdata", file))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(names(got), names(want)) {
			t.Fatalf("%s: tensors %v, want %v", file, names(got), names(want))
		}
		for name, w := range want {
			if !reflect.DeepEqual(got[name].Data, w) {
				t.Errorf("%s: %s = %v, want %v", file, name, got[name].Data, w)
			}
		}
		if s := got["G.const"].Shape; !reflect.DeepEqual(s, []int{1, 2, 3}) {
			t.Errorf("%s: G.const shape %v", file, s)
		}
	}
}

// TestLoadPickleErrors: a storage's bytes that are not a legacy stream, or
// hold something else, are named.
func TestLoadPickleErrors(t *testing.T) {
	storage := func(b []byte) *pk {
		p := newPickle().ordered().str("w")
		p.global("torch._utils", "_rebuild_tensor_v2").op('(')
		p.global("torch.storage", "_load_from_bytes").op('(')
		p.WriteByte('B')
		p.Write([]byte{byte(len(b)), byte(len(b) >> 8), byte(len(b) >> 16), byte(len(b) >> 24)})
		p.Write(b)
		p.op('t', 'R').int(0).ints([]int{1}).ints([]int{1}).op(0x89)
		p.global("collections", "OrderedDict").op(')', 'R', 't', 'R')
		return p.setitems()
	}
	notStorage := legacyFile(newPickle().int(3).stop())
	cases := map[string]struct {
		file []byte
		want string
	}{
		"garbage":     {storage([]byte("not a pickle")).stop(), "legacy checkpoint, magic number pickle at byte 0"},
		"not storage": {storage(notStorage).stop(), "_load_from_bytes: the bytes hold int, not a storage"},
		"trailing":    {append(storage(notStorage).stop(), 'x'), "legacy checkpoint, magic number pickle"},
	}
	for name, c := range cases {
		_, err := Load(writeTemp(t, "net.pkl", c.file))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want %q", name, err, c.want)
		}
	}
}
