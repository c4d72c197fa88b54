package inception

import (
	"fmt"
	"math"
	"strings"

	"github.com/lafite-go/lafite/safetensors"
	"github.com/lafite-go/lafite/tensor"
	"github.com/lafite-go/lafite/torchfile"
)

// bnEps is the batch norms' ε in the TensorFlow-converted network.
const bnEps = 0.001

// Load reads Inception-v3 weights: pytorch-fid's and torch-fidelity's
// pt_inception-2015-12-05-6726825d.pth (a PyTorch state dict), torchvision's
// inception_v3 state dict (its 1000-class classifier then gives the
// logits), or the same tensors in a safetensors file.
func Load(path string) (*Network, error) {
	sd := map[string]*tensor.Tensor{}
	if torchfile.IsTorchFile(path) {
		ts, err := torchfile.Load(path)
		if err != nil {
			return nil, fmt.Errorf("inception: %v", err)
		}
		for name, t := range ts {
			if t.Data != nil && len(t.Data) == t.Numel() {
				sd[name] = tensor.New(t.Data, t.Shape...)
			}
		}
	} else {
		st, err := safetensors.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("inception: %w", err)
		}
		for _, name := range st.Order {
			t := st.Tensors[name]
			if !t.DType.IsFloat() {
				continue // e.g. num_batches_tracked
			}
			v, err := t.Float32()
			if err != nil {
				return nil, fmt.Errorf("inception: %s: %v", path, err)
			}
			sd[name] = tensor.New(v, t.Shape...)
		}
	}
	net, err := FromStateDict(sd)
	if err != nil {
		return nil, fmt.Errorf("inception: %s: %v", path, err)
	}
	return net, nil
}

// FromStateDict builds the network from tensors named as torchvision's
// Inception3 names them ("Conv2d_1a_3x3.conv.weight",
// "Mixed_5b.branch1x1.bn.running_var", "fc.weight", ...), under any common
// prefix ("module.", ...). Every batch norm is folded into its
// convolution in float64; every convolution the layout uses must be there
// with the channels that reach it. Widths come from the tensors, so a
// narrower network of the same layout loads too.
func FromStateDict(sd map[string]*tensor.Tensor) (*Network, error) {
	const anchor = "Conv2d_1a_3x3.conv.weight"
	prefix, found := "", false
	for name := range sd {
		if strings.HasSuffix(name, anchor) {
			prefix, found = strings.TrimSuffix(name, anchor), true
			break
		}
	}
	if !found {
		return nil, fmt.Errorf("no %s: not an Inception-v3 state dict", anchor)
	}
	n := &Network{convs: map[string]*convBN{}}
	for name, w := range sd {
		if !strings.HasPrefix(name, prefix) || !strings.HasSuffix(name, ".conv.weight") {
			continue
		}
		layer := strings.TrimSuffix(strings.TrimPrefix(name, prefix), ".conv.weight")
		c, err := foldBN(layer, w, func(k string) *tensor.Tensor { return sd[prefix+layer+".bn."+k] })
		if err != nil {
			return nil, err
		}
		n.convs[layer] = c
	}
	r := &pass{n: n, dry: true}
	out := r.trunk(act{c: 3, h: Size, w: Size})
	if r.err != nil {
		return nil, r.err
	}
	n.Features, n.FLOPs = out.c, r.flops
	if w, b := sd[prefix+"fc.weight"], sd[prefix+"fc.bias"]; w != nil {
		if w.Dim() != 2 || w.Size(1) != n.Features || b == nil || b.Dim() != 1 || b.Size(0) != w.Size(0) {
			return nil, fmt.Errorf("fc.weight %v and fc.bias do not map %d features to classes", w.Shape(), n.Features)
		}
		n.fcW, n.fcB, n.Classes = w.Contiguous(), b.Contiguous(), w.Size(0)
	}
	return n, nil
}

// foldBN merges the batch norm after a bias-free convolution into it:
// w' = w·γ/√(var+ε) per output channel, b' = β − mean·γ/√(var+ε).
func foldBN(layer string, w *tensor.Tensor, bn func(string) *tensor.Tensor) (*convBN, error) {
	if w.Dim() != 4 || w.Size(0) < 1 || w.Size(1) < 1 {
		return nil, fmt.Errorf("%s.conv.weight has shape %v, want [out, in, kh, kw]", layer, w.Shape())
	}
	out := w.Size(0)
	parts := map[string][]float32{}
	for _, k := range []string{"weight", "bias", "running_mean", "running_var"} {
		t := bn(k)
		if t == nil || t.Dim() != 1 || t.Size(0) != out {
			return nil, fmt.Errorf("%s.bn.%s missing or not of shape [%d]", layer, k, out)
		}
		parts[k] = t.Contiguous().Data()
	}
	wd := w.Contiguous().Data()
	per := len(wd) / out
	fw, fb := make([]float32, len(wd)), make([]float32, out)
	for o := range out {
		v := float64(parts["running_var"][o])
		if !(v >= 0) {
			return nil, fmt.Errorf("%s.bn.running_var[%d] = %v, not a variance", layer, o, v)
		}
		scale := float64(parts["weight"][o]) / math.Sqrt(v+bnEps)
		for i := range per {
			fw[o*per+i] = float32(float64(wd[o*per+i]) * scale)
		}
		fb[o] = float32(float64(parts["bias"][o]) - float64(parts["running_mean"][o])*scale)
	}
	return &convBN{w: tensor.New(fw, w.Shape()...), b: tensor.New(fb, out)}, nil
}
