package tensor

import (
	"fmt"
	"strings"
	"testing"
)

// modConvCase is one set of ModConv2d operands: shapes and which options.
type modConvCase struct {
	x, w     []int
	p        Conv2dParams
	in, out  bool
	noise    []int // nil: none
	strength []int // nil: none
	keep     bool
}

func modConvCases() []modConvCase {
	return []modConvCase{
		{x: []int{2, 3, 6, 5}, w: []int{4, 3, 3, 3}, p: Conv2dParams{PadH: 1, PadW: 1}, in: true, out: true,
			noise: []int{2, 1, 6, 5}, strength: []int{}, keep: true},
		{x: []int{3, 4, 5, 5}, w: []int{5, 4, 3, 3}, p: Conv2dParams{PadH: 1, PadW: 1}, in: true, out: true,
			noise: []int{5, 5}, strength: []int{1}}, // SynthesisLayer's noise_const
		{x: []int{2, 6, 4, 4}, w: []int{3, 6, 1, 1}, in: true}, // ToRGB
		{x: []int{2, 4, 7, 6}, w: []int{6, 2, 3, 3}, p: Conv2dParams{StrideH: 2, StrideW: 2, PadH: 1, PadW: 1, Groups: 2},
			in: true, out: true, noise: []int{1, 1, 1, 3}, keep: true}, // noise broadcast along H: expanded
		{x: []int{1, 3, 5, 4}, w: []int{2, 3, 3, 3}, out: true, noise: []int{1, 1, 3, 2}, strength: []int{1, 1}, keep: true},
		{x: []int{2, 2, 4, 4}, w: []int{3, 2, 3, 3}, keep: true}, // plain conv, conv is y
	}
}

func (c modConvCase) inputs(seed uint64) (x, w *Tensor, o ModConv2dOptions) {
	r := NewRNG(seed)
	x, w = r.Normal(c.x...), r.Normal(c.w...)
	o = ModConv2dOptions{Params: c.p, KeepConv: c.keep}
	if c.in {
		o.InScale = r.Normal(c.x[0], c.x[1])
	}
	if c.out {
		o.OutScale = r.Uniform(0.5, 2, c.x[0], c.w[0])
	}
	if c.noise != nil {
		o.Noise = r.Normal(c.noise...)
	}
	if c.strength != nil {
		o.NoiseStrength = r.Normal(c.strength...)
	}
	return x, w, o
}

// TestModConv2dCPUIsTheSequence: on the CPU the op is the op-by-op sequence
// the non-fused modulated conv ran before, bit for bit.
func TestModConv2dCPUIsTheSequence(t *testing.T) {
	for i, c := range modConvCases() {
		x, w, o := c.inputs(uint64(10 + i))
		y, conv := ModConv2d(x, w, o)
		n, cin, cout := c.x[0], c.x[1], c.w[0]
		xs := x
		if o.InScale != nil {
			xs = Mul(x, o.InScale.Reshape(n, cin, 1, 1))
		}
		z := Conv2d(xs, w, nil, c.p)
		want := z
		if o.OutScale != nil {
			want = Mul(want, o.OutScale.Reshape(n, cout, 1, 1))
		}
		if o.Noise != nil {
			nz := o.Noise
			if o.NoiseStrength != nil {
				nz = Mul(nz, o.NoiseStrength)
			}
			want = Add(want, nz)
		}
		sameValues(t, fmt.Sprintf("case %d y", i), y, want)
		if c.keep {
			sameValues(t, fmt.Sprintf("case %d conv", i), conv, z)
		} else if conv != nil {
			t.Fatalf("case %d: conv returned without KeepConv", i)
		}
	}
}

// TestModConv2dEmulatedMatchesHost runs the op on the emulated GPU (one
// conv2d_modfwd_f32 launch, nothing else) against the host sequence.
func TestModConv2dEmulatedMatchesHost(t *testing.T) {
	dev, restore := useEmulator()
	defer restore()
	SetCUDAPoison(true)
	defer SetCUDAPoison(false)
	for i, c := range modConvCases() {
		x, w, o := c.inputs(uint64(20 + i))
		y, conv := ModConv2d(x, w, o)
		g := func(t *Tensor) *Tensor {
			if t == nil {
				return nil
			}
			return t.To(CUDA)
		}
		og := o
		og.InScale, og.OutScale, og.Noise, og.NoiseStrength = g(o.InScale), g(o.OutScale), g(o.Noise), g(o.NoiseStrength)
		before := strings.Join(dev.Launches(), " ")
		yg, convg := ModConv2d(g(x), g(w), og)
		after := dev.Launches()
		if yg.Device() != CUDA {
			t.Fatalf("case %d: result on %v", i, yg.Device())
		}
		closeValues(t, fmt.Sprintf("case %d y", i), yg.To(CPU), y, 1e-5)
		if c.keep {
			closeValues(t, fmt.Sprintf("case %d conv", i), convg.To(CPU), conv, 1e-5)
		}
		// One fused launch (plus the noise expansion's copy in case 3).
		var fused int
		for _, l := range after {
			if strings.HasPrefix(l, "conv2d_modfwd_f32=") {
				fmt.Sscanf(l, "conv2d_modfwd_f32=%d", &fused)
			}
			if strings.HasPrefix(l, "conv2d_fwd_f32=") || strings.HasPrefix(l, "ew_binary") {
				t.Fatalf("case %d: unfused kernels launched: %v (before: %s)", i, after, before)
			}
		}
		if fused != i+1 {
			t.Fatalf("case %d: %d conv2d_modfwd_f32 launches so far, want %d", i, fused, i+1)
		}
	}
	// A host 0-d strength joins the GPU op as a scalar.
	x, w, o := modConvCases()[0].inputs(5)
	o.NoiseStrength = Scalar(0.25)
	y, _ := ModConv2d(x, w, o)
	yg, _ := ModConv2d(x.To(CUDA), w.To(CUDA), ModConv2dOptions{Params: o.Params, InScale: o.InScale.To(CUDA),
		OutScale: o.OutScale.To(CUDA), Noise: o.Noise.To(CUDA), NoiseStrength: Scalar(0.25)})
	closeValues(t, "host scalar strength", yg.To(CPU), y, 1e-5)
}

func TestModConv2dValidation(t *testing.T) {
	x, w := Ones(2, 3, 4, 4), Ones(5, 3, 3, 3)
	expectPanic(t, "tensor.ModConv2d: InScale has shape [3 2], want [2 3]", func() {
		ModConv2d(x, w, ModConv2dOptions{InScale: Ones(3, 2)})
	})
	expectPanic(t, "tensor.ModConv2d: OutScale has shape [2 3], want [2 5]", func() {
		ModConv2d(x, w, ModConv2dOptions{OutScale: Ones(2, 3)})
	})
	expectPanic(t, "does not broadcast to [N, 1, OH, OW] = [2 1 2 2]", func() {
		ModConv2d(x, w, ModConv2dOptions{Noise: Ones(2, 5, 2, 2)})
	})
	expectPanic(t, "NoiseStrength must have one element", func() {
		ModConv2d(x, w, ModConv2dOptions{Noise: Ones(2, 2), NoiseStrength: Ones(2)})
	})
	expectPanic(t, "NoiseStrength without Noise", func() {
		ModConv2d(x, w, ModConv2dOptions{NoiseStrength: Ones(1)})
	})
	expectPanic(t, "tensor.ModConv2d: weight [5 2 3 3] expects 2 x channels", func() {
		ModConv2d(x, Ones(5, 2, 3, 3), ModConv2dOptions{})
	})
}
