package inception

import (
	"errors"
	"io/fs"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lafite-go/lafite/safetensors"
	"github.com/lafite-go/lafite/tensor"
	"github.com/lafite-go/lafite/torchfile"
)

func readRef(t *testing.T, name string) *tensor.Tensor {
	t.Helper()
	f, err := safetensors.ReadFile(filepath.Join("testdata", "tiny_inception_ref.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	st, ok := f.Get(name)
	if !ok {
		t.Fatalf("reference has no %s", name)
	}
	v, err := st.Float32()
	if err != nil {
		t.Fatal(err)
	}
	return tensor.New(v, st.Shape...)
}

// closeRows fails unless got matches want to tol of the largest |want|
// (the network's 95 layers in float32, summed in other orders than
// PyTorch's).
func closeRows(t *testing.T, what string, got, want *tensor.Tensor, tol float64) {
	t.Helper()
	if !slices.Equal(got.Shape(), want.Shape()) {
		t.Fatalf("%s: shape %v, want %v", what, got.Shape(), want.Shape())
	}
	g, w := got.Contiguous().Data(), want.Data()
	var scale, worst float64
	for i := range w {
		scale = math.Max(scale, math.Abs(float64(w[i])))
		worst = math.Max(worst, math.Abs(float64(g[i]-w[i])))
	}
	if !(worst <= tol*scale) {
		t.Fatalf("%s: off by %.3g with values up to %.3g (tolerance %.0e relative)", what, worst, scale, tol)
	}
	t.Logf("%s: off by at most %.3g of %.3g", what, worst, scale)
}

// A PyTorch state dict of the FID layout (torch.save, at 1/16 of the
// widths) loads, and two images of odd sizes give PyTorch's pool features
// and logits: the resize to 299, every block's branches and pools, the
// folded batch norms and the classifier.
func TestTinyInceptionMatchesPyTorch(t *testing.T) {
	n, err := Load(filepath.Join("testdata", "tiny_inception.pth"))
	if err != nil {
		t.Fatal(err)
	}
	if n.Features != 128 || n.Classes != 63 {
		t.Fatalf("%d features and %d classes, want 128 and 63", n.Features, n.Classes)
	}
	features, logits, err := n.Run(readRef(t, "images"))
	if err != nil {
		t.Fatal(err)
	}
	closeRows(t, "features", features, readRef(t, "features"), 1e-5)
	closeRows(t, "logits", logits, readRef(t, "logits"), 1e-5)
}

// The same tensors in a safetensors file load to the same network.
func TestLoadSafetensorsStateDict(t *testing.T) {
	ts, err := torchfile.Load(filepath.Join("testdata", "tiny_inception.pth"))
	if err != nil {
		t.Fatal(err)
	}
	var out []*safetensors.Tensor
	for name, v := range ts {
		if v.Data != nil {
			out = append(out, safetensors.F32Tensor("module."+name, v.Shape, v.Data))
		}
	}
	path := filepath.Join(t.TempDir(), "inception.safetensors")
	if err := safetensors.WriteFile(path, out, nil); err != nil {
		t.Fatal(err)
	}
	n, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	features, _, err := n.Run(readRef(t, "images"))
	if err != nil {
		t.Fatal(err)
	}
	closeRows(t, "features (safetensors, module. prefix)", features, readRef(t, "features"), 1e-5)
}

// Weights that do not fit the layout are refused by name.
func TestFromStateDictRefusesOtherLayouts(t *testing.T) {
	load := func() map[string]*tensor.Tensor {
		ts, err := torchfile.Load(filepath.Join("testdata", "tiny_inception.pth"))
		if err != nil {
			t.Fatal(err)
		}
		sd := map[string]*tensor.Tensor{}
		for name, v := range ts {
			if v.Data != nil {
				sd[name] = tensor.New(v.Data, v.Shape...)
			}
		}
		return sd
	}
	for _, c := range []struct {
		edit func(map[string]*tensor.Tensor)
		want string
	}{
		{func(sd map[string]*tensor.Tensor) { delete(sd, "Mixed_6c.branch7x7dbl_4.conv.weight") }, "missing Mixed_6c.branch7x7dbl_4.conv.weight"},
		{func(sd map[string]*tensor.Tensor) { delete(sd, "Mixed_5b.branch1x1.bn.running_var") }, "Mixed_5b.branch1x1.bn.running_var missing"},
		{func(sd map[string]*tensor.Tensor) {
			sd["Mixed_7b.branch3x3_2a.conv.weight"] = tensor.Zeros(24, 24, 3, 1)
			sd["Mixed_7b.branch3x3_2b.conv.weight"] = tensor.Zeros(24, 24, 1, 3)
		}, "Mixed_7b.branch3x3_2a.conv.weight has shape [24 24 3 1], want [*, 24, 1, 3]"},
		{func(sd map[string]*tensor.Tensor) { sd["fc.weight"] = tensor.Zeros(63, 100) }, "do not map 128 features"},
		{func(sd map[string]*tensor.Tensor) { delete(sd, "Conv2d_1a_3x3.conv.weight") }, "not an Inception-v3 state dict"},
	} {
		sd := load()
		c.edit(sd)
		if _, err := FromStateDict(sd); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("got %v, want an error with %q", err, c.want)
		}
	}
	if _, err := Load(filepath.Join("testdata", "make_fixture.py")); err == nil {
		t.Error("a Python file loaded as weights")
	}
	if _, err := Load(filepath.Join(t.TempDir(), "none.pth")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a missing file: %v", err)
	}
}

// The real network's layout at its real widths loads: 2048 features, 1008
// classes, and the convolutions' 11.4 GFLOP an image of the literature
// (5.7 G multiply-adds).
func TestRandomStateDictIsTheFullNetwork(t *testing.T) {
	n, err := FromStateDict(RandomStateDict(tensor.NewRNG(1), 1))
	if err != nil {
		t.Fatal(err)
	}
	if n.Features != 2048 || n.Classes != 1008 || math.Abs(n.FLOPs/1e9-11.4) > 0.1 {
		t.Fatalf("%d features, %d classes, %.3f GFLOP an image", n.Features, n.Classes, n.FLOPs/1e9)
	}
	// At 1/16 of the widths: the test fixture's network.
	small, err := FromStateDict(RandomStateDict(tensor.NewRNG(1), 16))
	if err != nil || small.Features != 128 || small.Classes != 63 {
		t.Fatalf("at 1/16: %v, %d features, %d classes", err, small.Features, small.Classes)
	}
}
