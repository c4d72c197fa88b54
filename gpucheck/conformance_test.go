package gpucheck

import (
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lafite-go/lafite/autograd"
	"github.com/lafite-go/lafite/kernels/cuda"
	"github.com/lafite-go/lafite/kernels/cuda/emu"
	"github.com/lafite-go/lafite/nn"
	"github.com/lafite-go/lafite/tensor"
)

// The GPU conformance suite: every op runs on the GPU and on the host from
// the same fresh random inputs, through the same autograd graph, and the
// forward value, the gradient and the gradient of the gradient are compared.
// Every GPU allocation starts as NaN (SetCUDAPoison), so an output element a
// kernel fails to write cannot pass. TestGPUConformance runs it on the real
// GPU and ends with "gpu: N passed, N failed"; TestGPUConformanceEmulated
// runs it against the kernel emulator (kernels/cuda/emu), which checks the
// Go side (parameters, strides, offsets, grids) on machines without a GPU.

// emulate makes an emulated GPU the CUDA device until restore.
func emulate() (*emu.Device, func()) {
	e := emu.New()
	return e, tensor.UseCUDABackend(e, e.Props())
}

// gpuCase is one op under test.
type gpuCase struct {
	name   string
	shapes [][]int
	// gen draws input i (nil: standard normal).
	gen func(r *rand.Rand, i int, n int) []float32
	// f builds the op from Vars on dev; constants it needs go to dev.
	f     func(dev tensor.Device, xs []*autograd.Var) *autograd.Var
	order int     // highest derivative order compared: 0, 1 or 2
	tol   float64 // max |gpu − cpu| / max(|cpu|) allowed, per compared tensor
}

func positive(r *rand.Rand, _ int, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(0.5 + 1.5*r.Float64())
	}
	return v
}

func normal(r *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(r.NormFloat64())
	}
	return v
}

// un and bin make cases of one- and two-input Var functions.
func un(name string, shape []int, order int, tol float64, f func(x *autograd.Var) *autograd.Var) gpuCase {
	return gpuCase{name: name, shapes: [][]int{shape}, order: order, tol: tol,
		f: func(_ tensor.Device, xs []*autograd.Var) *autograd.Var { return f(xs[0]) }}
}

func bin(name string, a, b []int, order int, tol float64, f func(x, y *autograd.Var) *autograd.Var) gpuCase {
	return gpuCase{name: name, shapes: [][]int{a, b}, order: order, tol: tol,
		f: func(_ tensor.Device, xs []*autograd.Var) *autograd.Var { return f(xs[0], xs[1]) }}
}

func withGen(c gpuCase, gen func(r *rand.Rand, i int, n int) []float32) gpuCase {
	c.gen = gen
	return c
}

// constOn puts a host constant on dev.
func constOn(dev tensor.Device, t *tensor.Tensor) *tensor.Tensor { return t.To(dev) }

func gpuCases() []gpuCase {
	const ew, red, mm = 2e-5, 5e-5, 1e-4
	lrelu := func(x *autograd.Var) *autograd.Var { return autograd.LeakyRelu(x, 0.2) }
	var cs []gpuCase
	// Elementwise, broadcasting.
	cs = append(cs,
		bin("add_broadcast", []int{3, 1, 5}, []int{4, 5}, 2, ew, autograd.Add),
		bin("sub_broadcast", []int{2, 3, 4}, []int{4}, 2, ew, autograd.Sub),
		bin("mul_broadcast", []int{5, 7}, []int{5, 1}, 2, ew, autograd.Mul),
		withGen(bin("div_broadcast", []int{4, 6}, []int{6}, 2, ew, autograd.Div), positive),
		bin("maximum", []int{3, 4}, []int{3, 4}, 1, ew, autograd.Maximum),
		bin("minimum", []int{3, 4}, []int{1, 4}, 1, ew, autograd.Minimum),
		withGen(bin("pow", []int{4, 5}, []int{5}, 2, 1e-4, autograd.Pow), positive),
		bin("mul_transposed_view", []int{6, 5}, []int{5, 6}, 2, ew, func(a, b *autograd.Var) *autograd.Var {
			return autograd.Mul(autograd.Transpose(a, 0, 1), b)
		}),
		// One value per (sample, channel) plane, as styles and demodulation
		// coefficients are (the row-broadcast kernels: planes of 12 floats go
		// as float4s, of 7 one by one; the per-plane operand on either side).
		bin("mul_per_plane", []int{2, 3, 3, 4}, []int{2, 3, 1, 1}, 2, ew, autograd.Mul),
		bin("sub_per_plane_left", []int{4, 5, 1}, []int{4, 5, 7}, 2, ew, autograd.Sub),
		withGen(bin("div_per_plane_left", []int{3, 1}, []int{3, 8}, 2, ew, autograd.Div), positive),
		un("scalar_consts", []int{3, 7}, 2, ew, func(x *autograd.Var) *autograd.Var {
			return autograd.Add(autograd.Mul(x, autograd.Scalar(1.5)), autograd.Scalar(-0.25))
		}),
	)
	// Unary functions.
	for _, u := range []struct {
		name string
		pos  bool
		f    func(x *autograd.Var) *autograd.Var
	}{
		{"neg", false, autograd.Neg}, {"exp", false, autograd.Exp}, {"log", true, autograd.Log},
		{"sqrt", true, autograd.Sqrt}, {"rsqrt", true, autograd.Rsqrt}, {"abs", false, autograd.Abs},
		{"square", false, autograd.Square}, {"recip", true, autograd.Recip}, {"relu", false, autograd.Relu},
		{"leaky_relu", false, lrelu}, {"sigmoid", false, autograd.Sigmoid}, {"tanh", false, autograd.Tanh},
		{"softplus", false, autograd.Softplus}, {"gelu", false, autograd.Gelu}, {"gelu_tanh", false, autograd.GeluTanh},
		{"quick_gelu", false, autograd.QuickGelu}, {"erf", false, autograd.Erf},
		{"add_scalar", false, func(x *autograd.Var) *autograd.Var { return autograd.AddScalar(x, 0.75) }},
		{"mul_scalar", false, func(x *autograd.Var) *autograd.Var { return autograd.MulScalar(x, -1.25) }},
		{"rsub_scalar", false, func(x *autograd.Var) *autograd.Var { return autograd.RsubScalar(x, 2) }},
		{"pow_scalar", true, func(x *autograd.Var) *autograd.Var { return autograd.PowScalar(x, 1.7) }},
		{"clamp", false, func(x *autograd.Var) *autograd.Var { return autograd.Clamp(x, -0.5, 0.7) }},
		{"exp_of_permuted_view", false, func(x *autograd.Var) *autograd.Var { return autograd.Exp(autograd.Permute(x, 2, 0, 1)) }},
	} {
		c := un(u.name, []int{3, 5, 7}, 2, ew, u.f)
		if u.pos {
			c.gen = positive
		}
		cs = append(cs, c)
	}
	cs = append(cs,
		un("nan_to_num", []int{4, 5}, 1, ew, func(x *autograd.Var) *autograd.Var {
			return autograd.NanToNum(autograd.Log(x), 0, 3, -3) // log of negatives: NaN
		}),
		gpuCase{name: "where", shapes: [][]int{{4, 6}, {4, 6}, {6}}, order: 2, tol: ew,
			f: func(dev tensor.Device, xs []*autograd.Var) *autograd.Var {
				cond := tensor.Greater(xs[0].Value, tensor.Scalar(0))
				return autograd.Where(cond, autograd.Square(xs[1]), xs[2])
			}},
	)
	// Reductions (sums of positive inputs: a sum that cancels to near zero
	// would make any rounding look large next to it).
	cs = append(cs,
		withGen(un("sum_all", []int{4, 5, 6}, 2, red, autograd.SumAll), positive),
		un("sum_dims_keepdim", []int{4, 5, 6}, 2, red, func(x *autograd.Var) *autograd.Var { return autograd.Sum(x, []int{0, 2}, true) }),
		un("sum_permuted", []int{4, 5, 6}, 1, red, func(x *autograd.Var) *autograd.Var {
			return autograd.Sum(autograd.Permute(x, 2, 0, 1), []int{1}, false)
		}),
		withGen(un("sum_two_pass", []int{300, 301}, 1, red, autograd.SumAll), positive),
		withGen(un("sum_long_rows", []int{3, 5000}, 1, red, func(x *autograd.Var) *autograd.Var { return autograd.Sum(x, []int{1}, false) }), positive),
		withGen(un("sum_few_long_strided", []int{40, 3, 300}, 1, red, func(x *autograd.Var) *autograd.Var { return autograd.Sum(x, []int{0, 2}, false) }), positive),
		withGen(un("sum_to_channels", []int{4, 6, 5, 5}, 1, red, func(x *autograd.Var) *autograd.Var { return autograd.SumTo(x, []int{1, 6, 1, 1}) }), positive),
		// A bias gradient long enough for a block per channel (reduce_strided_block_f32).
		withGen(un("sum_bias_grad_long", []int{2, 300, 48, 48}, 1, red, func(x *autograd.Var) *autograd.Var {
			return autograd.Sum(x, []int{0, 2, 3}, false)
		}), positive),
		un("mean", []int{4, 5, 6}, 2, red, func(x *autograd.Var) *autograd.Var { return autograd.Mean(x, []int{1}, false) }),
		un("max", []int{4, 5, 6}, 1, red, func(x *autograd.Var) *autograd.Var { return autograd.Max(x, []int{-1}, false) }),
		un("variance", []int{4, 9}, 2, red, func(x *autograd.Var) *autograd.Var { return autograd.Variance(x, []int{1}, true, true) }),
	)
	// Matrix products.
	cs = append(cs,
		bin("matmul_small", []int{7, 5}, []int{5, 9}, 2, mm, autograd.Matmul),
		bin("matmul_tiled", []int{70, 72}, []int{72, 80}, 1, mm, autograd.Matmul),
		// Both operands stored transposed, large enough for the 128x128 tile
		// (its column-major loaders), K not a multiple of the stage depth.
		bin("matmul_tiled_transposed", []int{75, 70}, []int{80, 75}, 1, mm, func(a, b *autograd.Var) *autograd.Var {
			return autograd.Matmul(autograd.Transpose(a, 0, 1), autograd.Transpose(b, 0, 1))
		}),
		bin("matmul_transposed_b", []int{9, 6}, []int{11, 6}, 2, mm, func(a, b *autograd.Var) *autograd.Var {
			return autograd.Matmul(a, autograd.Transpose(b, 0, 1))
		}),
		bin("matmul_batched_broadcast", []int{2, 3, 6, 5}, []int{5, 4}, 2, mm, autograd.Matmul),
		bin("matmul_batch_both", []int{2, 1, 4, 5}, []int{1, 3, 5, 6}, 2, mm, autograd.Matmul),
		bin("matmul_vector", []int{5}, []int{5, 3}, 2, mm, autograd.Matmul),
		// A fully-connected layer's gain, applied by the GEMM (small and tiled kernels).
		bin("matmul_scaled_transposed_b", []int{9, 6}, []int{11, 6}, 2, mm, func(a, b *autograd.Var) *autograd.Var {
			return autograd.MatmulScaled(a, autograd.Transpose(b, 0, 1), 0.37)
		}),
		bin("matmul_scaled_tiled", []int{70, 72}, []int{80, 72}, 1, mm, func(a, b *autograd.Var) *autograd.Var {
			return autograd.MatmulScaled(a, autograd.Transpose(b, 0, 1), -1.7)
		}),
		bin("linear", []int{2, 7, 9}, []int{5, 9}, 2, mm, func(x, w *autograd.Var) *autograd.Var {
			return autograd.Linear(x, w, 0.21)
		}),
		bin("linear_tiled", []int{130, 72}, []int{140, 72}, 1, mm, func(x, w *autograd.Var) *autograd.Var {
			return autograd.Linear(x, w, 0.05)
		}),
		// Few rows, long K (the rules take sgemm_skinny_f32 for the product
		// and the input gradient): K past several of its 256-deep block
		// stages and not a multiple of its 32-deep warp chunks, N not a
		// multiple of its 32-wide tiles, M past one 16-row tile.
		bin("matmul_skinny", []int{20, 700}, []int{700, 70}, 1, mm, autograd.Matmul),
		bin("matmul_skinny_transposed", []int{300, 16}, []int{45, 300}, 1, mm, func(a, b *autograd.Var) *autograd.Var {
			return autograd.Matmul(autograd.Transpose(a, 0, 1), autograd.Transpose(b, 0, 1))
		}),
		bin("linear_skinny", []int{2, 8, 200}, []int{96, 200}, 1, mm, func(x, w *autograd.Var) *autograd.Var {
			return autograd.Linear(x, w, 0.07)
		}),
	)
	// Convolutions.
	conv := func(name string, x, w []int, bias bool, p tensor.Conv2dParams, order int) gpuCase {
		shapes := [][]int{x, w}
		if bias {
			shapes = append(shapes, []int{w[0]})
		}
		return gpuCase{name: name, shapes: shapes, order: order, tol: mm,
			f: func(_ tensor.Device, xs []*autograd.Var) *autograd.Var {
				var b *autograd.Var
				if bias {
					b = xs[2]
				}
				return autograd.Conv2d(xs[0], xs[1], b, p)
			}}
	}
	cs = append(cs,
		conv("conv2d_3x3_pad1", []int{2, 3, 9, 8}, []int{4, 3, 3, 3}, true, tensor.Conv2dParams{PadH: 1, PadW: 1}, 2),
		conv("conv2d_stride2", []int{2, 3, 9, 9}, []int{5, 3, 3, 3}, false, tensor.Conv2dParams{StrideH: 2, StrideW: 2, PadH: 1, PadW: 1}, 2),
		conv("conv2d_groups", []int{2, 4, 7, 7}, []int{6, 2, 3, 3}, true, tensor.Conv2dParams{Groups: 2, PadH: 1, PadW: 1}, 2),
		conv("conv2d_dilation", []int{1, 2, 10, 10}, []int{3, 2, 3, 3}, false, tensor.Conv2dParams{DilationH: 2, DilationW: 2}, 1),
		conv("conv2d_1x1", []int{3, 5, 4, 4}, []int{7, 5, 1, 1}, true, tensor.Conv2dParams{}, 2),
		conv("conv2d_64ch", []int{2, 64, 8, 8}, []int{64, 64, 3, 3}, true, tensor.Conv2dParams{PadH: 1, PadW: 1}, 1),
		// Strided input gradients by phases: pixel classes with no taps (1x1),
		// unequal strides and odd sizes, and more channels and pixels per
		// class than one 128x128 tile holds.
		conv("conv2d_stride2_1x1", []int{2, 5, 8, 7}, []int{3, 5, 1, 1}, false, tensor.Conv2dParams{StrideH: 2, StrideW: 2}, 2),
		conv("conv2d_stride3x2", []int{1, 3, 11, 10}, []int{4, 3, 3, 3}, false, tensor.Conv2dParams{StrideH: 3, StrideW: 2, PadH: 1}, 2),
		conv("conv2d_stride2_wide", []int{3, 136, 13, 13}, []int{8, 136, 3, 3}, false, tensor.Conv2dParams{StrideH: 2, StrideW: 2}, 1),
		gpuCase{name: "conv_transpose2d", shapes: [][]int{{2, 4, 5, 5}, {4, 3, 3, 3}, {3}}, order: 2, tol: mm,
			f: func(_ tensor.Device, xs []*autograd.Var) *autograd.Var {
				return autograd.ConvTranspose2d(xs[0], xs[1], xs[2], tensor.ConvTranspose2dParams{StrideH: 2, StrideW: 2, PadH: 1, PadW: 1, OutPadH: 1, OutPadW: 1})
			}},
		// The up-2 layer of a synthesis block: stride 2, no padding, 65 of 64.
		gpuCase{name: "conv_transpose2d_up2", shapes: [][]int{{2, 6, 8, 8}, {6, 5, 3, 3}}, order: 2, tol: mm,
			f: func(_ tensor.Device, xs []*autograd.Var) *autograd.Var {
				return autograd.ConvTranspose2d(xs[0], xs[1], nil, tensor.ConvTranspose2dParams{StrideH: 2, StrideW: 2})
			}},
		gpuCase{name: "conv_transpose2d_groups", shapes: [][]int{{1, 4, 4, 6}, {4, 2, 3, 3}}, order: 1, tol: mm,
			f: func(_ tensor.Device, xs []*autograd.Var) *autograd.Var {
				return autograd.ConvTranspose2d(xs[0], xs[1], nil, tensor.ConvTranspose2dParams{Groups: 2, StrideH: 2, StrideW: 1})
			}},
	)
	// The non-fused modulated conv as one op (conv2d_modfwd_f32): styles on
	// the input, demodulation and noise·strength in the epilogue.
	modconv := func(name string, shapes [][]int, p tensor.Conv2dParams, has ...string) gpuCase {
		return gpuCase{name: name, shapes: shapes, order: 2, tol: mm,
			f: func(_ tensor.Device, xs []*autograd.Var) *autograd.Var {
				ops := map[string]*autograd.Var{}
				for i, h := range has {
					ops[h] = xs[2+i]
				}
				return autograd.ModConv2d(xs[0], xs[1], ops["s"], ops["d"], ops["noise"], ops["strength"], p)
			}}
	}
	cs = append(cs,
		modconv("modconv_styles_demod_noise", [][]int{{2, 5, 6, 5}, {7, 5, 3, 3}, {2, 5}, {2, 7}, {2, 1, 6, 5}, {}},
			tensor.Conv2dParams{PadH: 1, PadW: 1}, "s", "d", "noise", "strength"),
		modconv("modconv_70ch_shared_noise", [][]int{{2, 6, 5, 5}, {70, 6, 3, 3}, {2, 6}, {2, 70}, {5, 5}, {1}},
			tensor.Conv2dParams{PadH: 1, PadW: 1}, "s", "d", "noise", "strength"),
		modconv("modconv_1x1_styles", [][]int{{3, 8, 4, 4}, {3, 8, 1, 1}, {3, 8}}, tensor.Conv2dParams{}, "s"),
		// Its demodulation coefficients (modulate.cu), with more input
		// channels than a warp's lanes and more (o, i) than a block's threads.
		bin("demod_coefficients", []int{7, 5, 3, 3}, []int{3, 5}, 2, red, nn.DemodCoefficients),
		bin("demod_coefficients_wide", []int{40, 70, 3, 3}, []int{4, 70}, 1, red, nn.DemodCoefficients),
		// The fused path's per-sample weights (modconv_weight_f32).
		gpuCase{name: "modulated_weights", shapes: [][]int{{5, 3, 3, 3}, {2, 3}, {2, 5}}, order: 2, tol: ew,
			f: func(_ tensor.Device, xs []*autograd.Var) *autograd.Var {
				return autograd.ModulatedWeights(xs[0], xs[1], xs[2])
			}},
		bin("modulated_weights_no_demod", []int{6, 4, 1, 1}, []int{3, 4}, 2, ew, func(w, s *autograd.Var) *autograd.Var {
			return autograd.ModulatedWeights(w, s, nil)
		}),
	)
	// Normalisations.
	cs = append(cs,
		un("softmax_last", []int{4, 7}, 2, ew, func(x *autograd.Var) *autograd.Var { return autograd.Softmax(x, -1) }),
		un("softmax_middle_dim", []int{3, 5, 6}, 2, ew, func(x *autograd.Var) *autograd.Var { return autograd.Softmax(x, 1) }),
		un("softmax_long_rows", []int{2, 1500}, 1, ew, func(x *autograd.Var) *autograd.Var { return autograd.Softmax(x, -1) }),
		un("log_softmax_dim0", []int{6, 9}, 2, ew, func(x *autograd.Var) *autograd.Var { return autograd.LogSoftmax(x, 0) }),
		gpuCase{name: "layer_norm_affine", shapes: [][]int{{4, 6, 8}, {8}, {8}}, order: 2, tol: red,
			f: func(_ tensor.Device, xs []*autograd.Var) *autograd.Var {
				return autograd.LayerNorm(xs[0], xs[1], xs[2], 1, 1e-5)
			}},
		gpuCase{name: "layer_norm_2dims", shapes: [][]int{{3, 4, 5}, {4, 5}, {4, 5}}, order: 2, tol: red,
			f: func(_ tensor.Device, xs []*autograd.Var) *autograd.Var {
				return autograd.LayerNorm(xs[0], xs[1], xs[2], 2, 1e-5)
			}},
		un("layer_norm_plain_long", []int{3, 2000}, 1, red, func(x *autograd.Var) *autograd.Var { return autograd.LayerNorm(x, nil, nil, 1, 1e-5) }),
		un("normalize_2nd_moment", []int{3, 8}, 2, red, func(x *autograd.Var) *autograd.Var { return autograd.Normalize2ndMoment(x, 1, 1e-8) }),
	)
	// Gathers, copies, joins.
	cs = append(cs,
		un("embedding", []int{11, 6}, 2, ew, func(w *autograd.Var) *autograd.Var {
			return autograd.Embedding(w, []int{3, 0, 10, 3, 7, 1, 1, 5}, []int{2, 4})
		}),
		un("index_select_dim1", []int{3, 5, 4}, 2, ew, func(x *autograd.Var) *autograd.Var {
			return autograd.IndexSelect(x, 1, []int{4, 0, 4, 2})
		}),
		un("pad_crop", []int{2, 3, 4, 5}, 2, ew, func(x *autograd.Var) *autograd.Var { return autograd.Pad(x, []int{1, 2, -1, 3}, 0.5) }),
		bin("concat", []int{2, 3, 4}, []int{2, 5, 4}, 2, ew, func(a, b *autograd.Var) *autograd.Var {
			return autograd.Concat([]*autograd.Var{a, b}, 1)
		}),
		un("slice_step", []int{5, 9}, 2, ew, func(x *autograd.Var) *autograd.Var { return autograd.Square(autograd.Slice(x, 1, 1, 8, 3)) }),
		un("flip", []int{3, 4, 5}, 2, ew, func(x *autograd.Var) *autograd.Var { return autograd.Flip(x, 0, 2) }),
		un("repeat", []int{2, 3}, 2, ew, func(x *autograd.Var) *autograd.Var { return autograd.Repeat(x, 2, 1, 3) }),
		bin("stack_split", []int{3, 4}, []int{3, 4}, 2, ew, func(a, b *autograd.Var) *autograd.Var {
			s := autograd.Stack([]*autograd.Var{a, b}, 1)
			parts := autograd.Split(s, []int{1, 1}, 1)
			return autograd.Mul(parts[0], parts[1])
		}),
		un("expand_contiguous", []int{3, 1, 4}, 2, ew, func(x *autograd.Var) *autograd.Var {
			return autograd.Square(autograd.Contiguous(autograd.Expand(x, 3, 5, 4)))
		}),
	)
	// StyleGAN2 ops.
	for _, act := range []string{"linear", "relu", "lrelu", "tanh", "sigmoid", "elu", "selu", "softplus", "swish"} {
		p := tensor.DefaultBiasAct(act)
		cs = append(cs, gpuCase{name: "bias_act_" + act, shapes: [][]int{{2, 5, 4, 4}, {5}}, order: 2, tol: ew,
			f: func(_ tensor.Device, xs []*autograd.Var) *autograd.Var { return autograd.BiasAct(xs[0], xs[1], p) }})
	}
	clamped := tensor.DefaultBiasAct("lrelu")
	clamped.Clamp = 0.5
	swishClamp := tensor.DefaultBiasAct("swish")
	swishClamp.Clamp = 0.3
	dimLast := tensor.DefaultBiasAct("lrelu")
	dimLast.Dim = -1
	cs = append(cs,
		gpuCase{name: "bias_act_lrelu_clamp", shapes: [][]int{{2, 6, 3, 5}, {6}}, order: 2, tol: ew,
			f: func(_ tensor.Device, xs []*autograd.Var) *autograd.Var {
				return autograd.BiasAct(xs[0], xs[1], clamped)
			}},
		gpuCase{name: "bias_act_swish_clamp", shapes: [][]int{{2, 3, 4, 4}, {3}}, order: 2, tol: ew,
			f: func(_ tensor.Device, xs []*autograd.Var) *autograd.Var {
				return autograd.BiasAct(xs[0], xs[1], swishClamp)
			}},
		gpuCase{name: "bias_act_no_bias_odd", shapes: [][]int{{3, 7}}, order: 2, tol: ew,
			f: func(_ tensor.Device, xs []*autograd.Var) *autograd.Var {
				return autograd.BiasAct(xs[0], nil, tensor.DefaultBiasAct("tanh"))
			}},
		gpuCase{name: "bias_act_dim_last", shapes: [][]int{{4, 8}, {8}}, order: 2, tol: ew,
			f: func(_ tensor.Device, xs []*autograd.Var) *autograd.Var {
				return autograd.BiasAct(xs[0], xs[1], dimLast)
			}},
	)
	f4 := tensor.SetupFilterTaps(1, 3, 3, 1)
	sep := true
	f8 := tensor.SetupFilter(tensor.New([]float32{1, 2, 4, 7, 7, 4, 2, 1}, 8), true, false, 1, &sep)
	fodd := tensor.New([]float32{0.1, -0.3, 0.8, 0.2, 0.5, -0.1}, 2, 3)
	fasym := tensor.New([]float32{0.3, -0.1, 0.2, 0.05, 0.7, 0.4, -0.2, 0.1, 0.15, 0.9, 0.35, -0.25, 0.05, 0.2, 0.6, 0.45}, 4, 4)
	up := func(name string, x []int, f *tensor.Tensor, run func(x *autograd.Var, f *tensor.Tensor) *autograd.Var) gpuCase {
		return gpuCase{name: name, shapes: [][]int{x}, order: 2, tol: ew,
			f: func(dev tensor.Device, xs []*autograd.Var) *autograd.Var { return run(xs[0], constOn(dev, f)) }}
	}
	cs = append(cs,
		up("upsample2d_4tap", []int{2, 3, 5, 6}, f4, func(x *autograd.Var, f *tensor.Tensor) *autograd.Var {
			return autograd.Upsample2d(x, f, 2, nil, false, 1)
		}),
		up("downsample2d_4tap", []int{2, 3, 8, 7}, f4, func(x *autograd.Var, f *tensor.Tensor) *autograd.Var {
			return autograd.Downsample2d(x, f, 2, nil, false, 1)
		}),
		up("filter2d_pad", []int{1, 2, 6, 6}, f4, func(x *autograd.Var, f *tensor.Tensor) *autograd.Var {
			return autograd.Filter2d(x, f, []int{1}, false, 1)
		}),
		up("upfirdn2d_separable_8tap", []int{2, 2, 9, 10}, f8, func(x *autograd.Var, f *tensor.Tensor) *autograd.Var {
			return autograd.Upsample2d(x, f, 2, nil, false, 1)
		}),
		// The row-streaming 4x4 kernels on planes wider than a warp's columns
		// and taller than a strip, with an asymmetric filter, odd and
		// negative pads, and both load paths of down 2 (pairs on even
		// widths, single columns on odd).
		up("upfirdn2d_up2_wide", []int{1, 2, 19, 70}, fasym, func(x *autograd.Var, f *tensor.Tensor) *autograd.Var {
			return autograd.Upfirdn2d(x, f, tensor.Upfirdn2dParams{UpX: 2, UpY: 2, DownX: 1, DownY: 1, Pad: [4]int{1, 2, -1, 0}, Gain: 2})
		}),
		// The up-2 kernel is compiled per pad parity (x0, y0): (even, even) is
		// upsample2d's, (odd, odd) the case above, and these the mixed two.
		up("upfirdn2d_up2_odd_x_pad", []int{1, 2, 11, 37}, fasym, func(x *autograd.Var, f *tensor.Tensor) *autograd.Var {
			return autograd.Upfirdn2d(x, f, tensor.Upfirdn2dParams{UpX: 2, UpY: 2, DownX: 1, DownY: 1, Pad: [4]int{1, 2, 2, 1}, FlipFilter: true, Gain: 4})
		}),
		up("upfirdn2d_up2_odd_y_pad", []int{1, 2, 11, 37}, fasym, func(x *autograd.Var, f *tensor.Tensor) *autograd.Var {
			return autograd.Upfirdn2d(x, f, tensor.Upfirdn2dParams{UpX: 2, UpY: 2, DownX: 1, DownY: 1, Pad: [4]int{2, 1, 1, 2}, Gain: 4})
		}),
		up("upfirdn2d_down2_wide_odd_pad", []int{1, 2, 37, 134}, fasym, func(x *autograd.Var, f *tensor.Tensor) *autograd.Var {
			return autograd.Upfirdn2d(x, f, tensor.Upfirdn2dParams{UpX: 1, UpY: 1, DownX: 2, DownY: 2, Pad: [4]int{1, 1, 2, 1}, Gain: 1})
		}),
		up("upfirdn2d_down2_wide_odd_width", []int{2, 1, 20, 133}, fasym, func(x *autograd.Var, f *tensor.Tensor) *autograd.Var {
			return autograd.Upfirdn2d(x, f, tensor.Upfirdn2dParams{UpX: 1, UpY: 1, DownX: 2, DownY: 2, Pad: [4]int{2, 1, 0, 1}, FlipFilter: true, Gain: 1})
		}),
		up("upfirdn2d_filter_wide", []int{1, 2, 40, 67}, fasym, func(x *autograd.Var, f *tensor.Tensor) *autograd.Var {
			return autograd.Upfirdn2d(x, f, tensor.Upfirdn2dParams{UpX: 1, UpY: 1, DownX: 1, DownY: 1, Pad: [4]int{2, 1, -1, 2}, FlipFilter: true, Gain: 1})
		}),
		up("upfirdn2d_general", []int{1, 3, 7, 5}, fodd, func(x *autograd.Var, f *tensor.Tensor) *autograd.Var {
			return autograd.Upfirdn2d(x, f, tensor.Upfirdn2dParams{UpX: 3, UpY: 2, DownX: 2, DownY: 1, Pad: [4]int{2, 1, 0, 1}, FlipFilter: true, Gain: 1.5})
		}),
		// Group size 2 to first order only: with two samples the std is
		// |v1 - v2|/2 smoothed by eps, whose second derivative is about
		// eps/s^3, so the computed gradient of the gradient is cancellation
		// noise (1-ulp input changes move it by 1e-4 to 1e-2 on the CPU).
		// Groups of 4 are smooth (the same changes move it by < 1e-6).
		un("minibatch_std", []int{4, 6, 3, 3}, 1, red, func(x *autograd.Var) *autograd.Var { return autograd.MinibatchStd(x, 2, 1) }),
		un("minibatch_std_group4", []int{8, 6, 3, 3}, 2, red, func(x *autograd.Var) *autograd.Var { return autograd.MinibatchStd(x, 4, 2) }),
	)
	// Bicubic resizing (interpolate.cu): CLIP's crop-and-resize, up and down,
	// non-square; the adjoint as an op of its own.
	cs = append(cs,
		un("interpolate_bicubic_up", []int{2, 3, 5, 6}, 2, ew, func(x *autograd.Var) *autograd.Var {
			return autograd.InterpolateBicubic(x, 11, 9)
		}),
		un("interpolate_bicubic_crop_down", []int{2, 3, 10, 9}, 2, ew, func(x *autograd.Var) *autograd.Var {
			crop := autograd.Narrow(autograd.Narrow(x, 2, 1, 7), 3, 2, 6)
			return autograd.Square(autograd.InterpolateBicubic(crop, 3, 4))
		}),
		un("interpolate_bicubic_crop_up_clip", []int{2, 3, 16, 16}, 2, ew, func(x *autograd.Var) *autograd.Var {
			crop := autograd.Narrow(autograd.Narrow(x, 2, 5, 9), 3, 2, 9)
			return autograd.InterpolateBicubic(crop, 24, 24)
		}),
		un("interpolate_bicubic_backward", []int{3, 7, 4}, 2, ew, func(g *autograd.Var) *autograd.Var {
			return autograd.Square(autograd.InterpolateBicubicBackward(g, 5, 6))
		}),
		// clip.TrainTransform's op: windows resized W first and H first.
		un("crop_resize_bicubic_clip", []int{2, 3, 16, 16}, 2, ew, func(x *autograd.Var) *autograd.Var {
			return autograd.CropResizeBicubic(x, tensor.CropWindow{Top: 5, Left: 2, H: 9, W: 9}, 24, 24)
		}),
		un("crop_resize_bicubic_h_first", []int{2, 2, 12, 10}, 2, ew, func(x *autograd.Var) *autograd.Var {
			return autograd.Square(autograd.CropResizeBicubic(x, tensor.CropWindow{Top: 1, Left: 3, H: 10, W: 4}, 5, 9))
		}),
		un("crop_resize_bicubic_w_first", []int{1, 3, 9, 13}, 2, ew, func(x *autograd.Var) *autograd.Var {
			return autograd.Square(autograd.CropResizeBicubic(x, tensor.CropWindow{Top: 2, Left: 0, H: 3, W: 13}, 8, 6))
		}),
		un("crop_resize_bicubic_backward", []int{2, 3, 7, 4}, 2, ew, func(g *autograd.Var) *autograd.Var {
			return autograd.Square(autograd.CropResizeBicubicBackward(g, 9, 8, tensor.CropWindow{Top: 4, Left: 1, H: 5, W: 6}))
		}),
	)
	// Composites and host fallbacks.
	cs = append(cs,
		gpuCase{name: "attention", shapes: [][]int{{2, 3, 5, 8}, {2, 3, 6, 8}, {2, 3, 6, 4}}, order: 2, tol: mm,
			f: func(_ tensor.Device, xs []*autograd.Var) *autograd.Var {
				return autograd.ScaledDotProductAttention(xs[0], xs[1], xs[2], nil)
			}},
		// Heads taken from one projection, as nn.MultiheadAttention does: batch
		// dims [N, H] (and a leading one) whose strides do not merge, so the
		// GEMM spans two batch dims in its grid (GemmParams.BatchInner).
		un("matmul_heads_of_a_projection", []int{5, 3, 24}, 2, mm, func(x *autograd.Var) *autograd.Var {
			heads := func(i int) *autograd.Var { // [N=3, H=2, L=5, 4]
				return autograd.Permute(autograd.Reshape(autograd.Narrow(x, 2, 8*i, 8), 5, 3, 2, 4), 1, 2, 0, 3)
			}
			return autograd.Matmul(heads(0), autograd.Transpose(heads(1), 2, 3))
		}),
		un("matmul_heads_three_batch_dims", []int{2, 5, 3, 24}, 2, mm, func(x *autograd.Var) *autograd.Var {
			heads := func(i int) *autograd.Var { // [2, N=3, H=2, L=5, 4]
				return autograd.Permute(autograd.Reshape(autograd.Narrow(x, 3, 8*i, 8), 2, 5, 3, 2, 4), 0, 2, 3, 1, 4)
			}
			return autograd.Matmul(heads(0), autograd.Transpose(heads(2), 3, 4))
		}),
		bin("contra_loss", []int{6, 8}, []int{6, 8}, 2, mm, func(a, b *autograd.Var) *autograd.Var {
			return autograd.ContraLoss(a, b, 0.5, 0.5, false)
		}),
		un("avg_pool2d_fallback", []int{2, 3, 6, 6}, 2, ew, func(x *autograd.Var) *autograd.Var {
			return autograd.AvgPool2d(x, 2, 2, 2, 2, 0, 0, true)
		}),
		un("interpolate_bilinear_fallback", []int{1, 2, 5, 4}, 1, ew, func(x *autograd.Var) *autograd.Var {
			return autograd.InterpolateBilinear(x, 7, 9)
		}),
		un("gather_fallback", []int{3, 4}, 1, ew, func(x *autograd.Var) *autograd.Var {
			return autograd.Gather(x, 1, []int{0, 3, 3, 1, 2, 2}, []int{3, 2})
		}),
	)
	return cs
}

// gpuReport collects one line per comparison and the counts.
type gpuReport struct {
	out            io.Writer
	passed, failed int
	failures       []string
	skipped        []string // checks left out, and why
}

// skip records that what was left out because of the switch (NAME=value).
func (r *gpuReport) skip(what, offSwitch string) {
	r.skipped = append(r.skipped, what+" ("+offSwitch+")")
	fmt.Fprintf(r.out, "gpu SKIP %s: %s\n", what, offSwitch)
}

func (r *gpuReport) check(name, what string, got, want *tensor.Tensor, tol float64) {
	err := relErr(got, want)
	status := "PASS"
	if !(err <= tol) {
		status = "FAIL"
		r.failed++
		r.failures = append(r.failures, fmt.Sprintf("%s %s: err %.3g > tol %.0e", name, what, err, tol))
	} else {
		r.passed++
	}
	fmt.Fprintf(r.out, "gpu %s %-32s %-10s err %.2e (tol %.0e)\n", status, name, what, err, tol)
}

func (r *gpuReport) fail(name, what, why string) {
	r.failed++
	r.failures = append(r.failures, name+" "+what+": "+why)
	fmt.Fprintf(r.out, "gpu FAIL %-32s %-10s %s\n", name, what, why)
}

// relErr is max|got − want| / max(max|want|, 1e-6); NaN or Inf in got where
// want is finite, or a shape mismatch, is +Inf.
func relErr(got, want *tensor.Tensor) float64 {
	if !tensor.SameShape(got.Shape(), want.Shape()) {
		return math.Inf(1)
	}
	g, w := got.To(tensor.CPU).ToSlice(), want.ToSlice()
	var scale, worst float64
	for i := range w {
		wv, gv := float64(w[i]), float64(g[i])
		if math.IsNaN(wv) {
			if !math.IsNaN(gv) {
				return math.Inf(1)
			}
			continue
		}
		if math.IsNaN(gv) || math.IsInf(gv, 0) != math.IsInf(wv, 0) {
			return math.Inf(1)
		}
		if math.IsInf(wv, 0) {
			continue
		}
		scale = math.Max(scale, math.Abs(wv))
		worst = math.Max(worst, math.Abs(gv-wv))
	}
	return worst / math.Max(scale, 1e-6)
}

func seedOf(name string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(name))
	return h.Sum64()
}

// runGPUCase compares one case on CUDA against the host, inside a Scope that
// frees its GPU memory.
func runGPUCase(rep *gpuReport, c gpuCase, seed uint64) {
	defer func() {
		if p := recover(); p != nil {
			rep.fail(c.name, "panic", fmt.Sprint(p))
		}
	}()
	scope := tensor.OpenScope()
	defer scope.Close()
	r := rand.New(rand.NewPCG(seed, seedOf(c.name)))
	host := make([]*tensor.Tensor, len(c.shapes))
	for i, sh := range c.shapes {
		n := 1
		for _, s := range sh {
			n *= s
		}
		var v []float32
		if c.gen != nil {
			v = c.gen(r, i, n)
		} else {
			v = normal(r, n)
		}
		host[i] = tensor.New(v, sh...)
	}
	params := func(dev tensor.Device) []*autograd.Var {
		vs := make([]*autograd.Var, len(host))
		for i, h := range host {
			vs[i] = autograd.Param(h.To(dev))
		}
		return vs
	}
	pc, pg := params(tensor.CPU), params(tensor.CUDA)
	yc, yg := c.f(tensor.CPU, pc), c.f(tensor.CUDA, pg)
	if yg.Value.Device() != tensor.CUDA {
		rep.fail(c.name, "forward", "result is on "+yg.Value.Device().String())
		return
	}
	rep.check(c.name, "forward", yg.Value, yc.Value, c.tol)
	if c.order < 1 {
		return
	}
	cot := tensor.New(normal(r, yc.Numel()), yc.Shape()...)
	create := c.order >= 2
	gc := autograd.Grad([]*autograd.Var{yc}, pc, []*autograd.Var{autograd.Const(cot)}, create)
	gg := autograd.Grad([]*autograd.Var{yg}, pg, []*autograd.Var{autograd.Const(cot.To(tensor.CUDA))}, create)
	if !compareGrads(rep, c, "grad", gc, gg) || c.order < 2 {
		return
	}
	// Second order: d(Σ_i <grad_i, v_i>)/dx with random v_i.
	sum := func(gs []*autograd.Var, dev tensor.Device, vs []*tensor.Tensor) *autograd.Var {
		var s *autograd.Var
		for i, g := range gs {
			if g == nil || !g.RequiresGrad() {
				continue
			}
			t := autograd.SumAll(autograd.Mul(g, autograd.Const(vs[i].To(dev))))
			if s == nil {
				s = t
			} else {
				s = autograd.Add(s, t)
			}
		}
		return s
	}
	vs := make([]*tensor.Tensor, len(host))
	for i, h := range host {
		vs[i] = tensor.New(normal(r, h.Numel()), h.Shape()...)
	}
	sc, sg := sum(gc, tensor.CPU, vs), sum(gg, tensor.CUDA, vs)
	if sc == nil || sg == nil {
		if (sc == nil) != (sg == nil) {
			rep.fail(c.name, "grad2", "the gradient graph differs between devices")
		}
		return // linear in every input: no second order to compare
	}
	ggc := autograd.Grad([]*autograd.Var{sc}, pc, nil, false)
	ggg := autograd.Grad([]*autograd.Var{sg}, pg, nil, false)
	compareGrads(rep, c, "grad2", ggc, ggg)
}

func compareGrads(rep *gpuReport, c gpuCase, what string, gc, gg []*autograd.Var) bool {
	ok := true
	for i := range gc {
		label := fmt.Sprintf("%s x%d", what, i)
		switch {
		case gc[i] == nil && gg[i] == nil:
			continue
		case gc[i] == nil || gg[i] == nil:
			rep.fail(c.name, label, "gradient missing on one device")
			ok = false
			continue
		}
		before := rep.failed
		rep.check(c.name, label, gg[i].Value, gc[i].Value, c.tol)
		ok = ok && rep.failed == before
	}
	return ok
}

// rngAndAdam compares the random draws and the Adam step, which are not
// autograd ops.
func rngAndAdam(rep *gpuReport, seed uint64) {
	defer func() {
		if p := recover(); p != nil {
			rep.fail("rng/adam", "panic", fmt.Sprint(p))
		}
	}()
	scope := tensor.OpenScope()
	defer scope.Close()
	for _, n := range []int{1, 7, 1001} {
		a, b := tensor.NewRNG(seed), tensor.NewRNG(seed)
		a.SetState(seed, 3)
		b.SetState(seed, 3)
		rep.check(fmt.Sprintf("rng_normal_%d", n), "forward", b.NormalOn(tensor.CUDA, n), a.Normal(n), 1e-6)
		rep.check(fmt.Sprintf("rng_uniform_%d", n), "forward", b.UniformOn(tensor.CUDA, -2, 3, n), a.Uniform(-2, 3, n), 0)
		if _, ca := a.State(); true {
			if _, cb := b.State(); ca != cb {
				rep.fail(fmt.Sprintf("rng_%d", n), "counter", fmt.Sprintf("host %d, gpu %d", ca, cb))
			}
		}
	}
	r := rand.New(rand.NewPCG(seed, 99))
	n := 1000
	p := tensor.New(normal(r, n), n)
	m, v := tensor.Zeros(n), tensor.Zeros(n)
	pg, mg, vg := p.Clone().To(tensor.CUDA), m.To(tensor.CUDA), v.To(tensor.CUDA)
	for step := 1; step <= 3; step++ {
		gv := normal(r, n)
		gv[3], gv[10] = float32(math.NaN()), float32(math.Inf(1))
		g := tensor.New(gv, n)
		a := tensor.AdamParams{LR: 0.01, Beta1: 0.5, Beta2: 0.99, Eps: 1e-8, Step: step, InfTo: 1e5}
		if step == 2 {
			a.GradScale = 4 // a lazy regulariser's gain
		}
		tensor.AdamStep(p, g, m, v, a)
		tensor.AdamStep(pg, g.To(tensor.CUDA), mg, vg, a)
	}
	rep.check("adam_step", "p", pg, p, 1e-5)
	rep.check("adam_step", "m", mg, m, 1e-5)
	rep.check("adam_step", "v", vg, v, 1e-5)
	// The moving average: each operation rounded as on the host, so equal.
	avg := tensor.New(normal(r, n), n)
	avgG := avg.Clone().To(tensor.CUDA)
	for _, beta := range []float32{0, 0.5, 0.999} { // a new source each time
		src := tensor.New(normal(r, n), n)
		tensor.EMAUpdate(avg, src, beta)
		tensor.EMAUpdate(avgG, src.To(tensor.CUDA), beta)
	}
	rep.check("ema_update", "avg", avgG, avg, 0)
	multiTensorUpdates(rep, r)
}

// multiTensorUpdates: Adam and the moving average over 70 tensors (two
// multi-tensor launches; sizes around a block's chunk, empty ones among
// them), against the host and against the one-tensor kernels, which run
// the same per-element code (so: equal).
func multiTensorUpdates(rep *gpuReport, r *rand.Rand) {
	var ps, gs, ms, vs, pa, ma, va, pb, mb, vb, avgs, srcs, gavgs []*tensor.Tensor
	for i := 0; i < 70; i++ { // 58 not empty
		n := []int{0, 1, cuda.MultiChunk - 1, cuda.MultiChunk + 1, 2*cuda.MultiChunk + 3, 37}[i%6]
		p, g := tensor.New(normal(r, n), n), tensor.New(normal(r, n), n)
		m, v := tensor.New(normal(r, n), n), tensor.Abs(tensor.New(normal(r, n), n))
		ps, gs, ms, vs = append(ps, p), append(gs, g), append(ms, m), append(vs, v)
		pa, ma, va = append(pa, p.Clone().To(tensor.CUDA)), append(ma, m.Clone().To(tensor.CUDA)), append(va, v.Clone().To(tensor.CUDA))
		pb, mb, vb = append(pb, p.Clone().To(tensor.CUDA)), append(mb, m.Clone().To(tensor.CUDA)), append(vb, v.Clone().To(tensor.CUDA))
		avgs, srcs = append(avgs, tensor.New(normal(r, n), n)), append(srcs, tensor.New(normal(r, n), n))
		gavgs = append(gavgs, avgs[i].Clone().To(tensor.CUDA))
	}
	ggs, gsrcs := make([]*tensor.Tensor, len(gs)), make([]*tensor.Tensor, len(srcs))
	for i := range gs {
		ggs[i], gsrcs[i] = gs[i].To(tensor.CUDA), srcs[i].To(tensor.CUDA)
	}
	a := tensor.AdamParams{LR: 0.01, Beta1: 0.5, Beta2: 0.99, Eps: 1e-8, Step: 2, InfTo: 1e5, GradScale: 4}
	tensor.AdamStepAll(ps, gs, ms, vs, a)
	tensor.AdamStepAll(pa, ggs, ma, va, a)
	for i := range pb {
		tensor.AdamStep(pb[i], ggs[i], mb[i], vb[i], a)
	}
	tensor.EMAUpdateAll(avgs, srcs, 0.99)
	tensor.EMAUpdateAll(gavgs, gsrcs, 0.99)
	cat := func(ts []*tensor.Tensor) *tensor.Tensor { return tensor.Concat(ts, 0) }
	rep.check("adam_multi", "p", cat(pa), cat(ps), 1e-5)
	rep.check("adam_multi", "m", cat(ma), cat(ms), 1e-5)
	rep.check("adam_multi", "v", cat(va), cat(vs), 1e-5)
	rep.check("adam_multi vs adam_step", "p", cat(pa), cat(pb).To(tensor.CPU), 0)
	rep.check("adam_multi vs adam_step", "m", cat(ma), cat(mb).To(tensor.CPU), 0)
	rep.check("adam_multi vs adam_step", "v", cat(va), cat(vb).To(tensor.CPU), 0)
	rep.check("ema_multi", "avg", cat(gavgs), cat(avgs), 0)
}

// runConformance runs every case; out gets one line per comparison.
func runConformance(out io.Writer, seed uint64) *gpuReport {
	rep := &gpuReport{out: out}
	tensor.SetCUDAPoison(true)
	defer tensor.SetCUDAPoison(false)
	// The cases run the rules' choices, the reruns below each variant
	// forced: the same kernels on every run, tuned or not.
	defer tensor.SetCUDAAutotune(false)()
	for _, c := range gpuCases() {
		runGPUCase(rep, c, seed)
	}
	rerun := func(suffix string, prefixes ...string) func() { return rerunCases(rep, seed, suffix, prefixes...) }
	// A path a failed probe switched off (probe_test.go) is not forced
	// either: the reruns that would are skipped, and say so.
	winograd := switchedOff("winograd") == ""
	if !winograd {
		rep.skip("the @winograd reruns, the GEMM kernels' conv reruns and lafite_*@winograd4", switchedOff("winograd"))
	}
	// The planner gives these small shapes the 64x64 conv kernels, and strided
	// input gradients the phase kernel; run the convolutions again on each
	// direct kernel, and on the Winograd path (the stride-1 3x3 ones).
	for _, tile := range []int{cuda.ConvTile128, cuda.ConvTile64, cuda.ConvWinograd2, cuda.ConvWinograd4} {
		suffix := fmt.Sprintf("@tile%d", tile)
		if tile == cuda.ConvWinograd2 || tile == cuda.ConvWinograd4 {
			if !winograd {
				continue
			}
			suffix = fmt.Sprintf("@winograd%d", tile)
		}
		with(tensor.SetCUDAConvTile, tile, rerun(suffix, "conv", "modconv"))()
	}
	// The GEMMs again on the other GEMM kernels (the 16-k stage 128x128
	// tile, the 64x64 tile, the tensor-core tile where the GPU has TF32
	// tensor cores): the matmuls, and the convolutions through Winograd's
	// GEMMs.
	if s := switchedOff("tensor-cores"); s != "" && gpuCC() >= 80 {
		rep.skip("the tensor-core GEMM reruns (@tc, @tcs, @tc64, @tcs64)", s)
	}
	tiles := switchedOff("gemm-tiles") == ""
	if !tiles {
		rep.skip("the @bk16 and @t64 reruns", switchedOff("gemm-tiles"))
	}
	for _, k := range cuda.SgemmKernelsFor(gpuCC()) {
		if k.Name == "bk8" || !tiles && !k.TensorCores {
			continue
		}
		if !winograd {
			with(tensor.SetCUDAGemmKernel, k.Name, rerun("@"+k.Name, "matmul"))()
			continue
		}
		with(tensor.SetCUDAGemmKernel, k.Name, with(tensor.SetCUDAConvTile, cuda.ConvWinograd4,
			rerun("@"+k.Name, "matmul", "conv", "modconv")))()
	}
	// The matmuls again with K cut into slices (split-K: the GEMMs of the
	// slices in one grid, then their sum) wherever K divides.
	if s := switchedOff("split-k"); s != "" {
		rep.skip("the @splitk reruns", s)
	} else {
		for _, split := range []int{2, 3} {
			with(tensor.SetCUDASplitK, split, rerun(fmt.Sprintf("@splitk%d", split), "matmul", "linear"))()
		}
	}
	// The small matmuls again, every one on the skinny kernel.
	if s := switchedOff("skinny-gemm"); s != "" {
		rep.skip("the @skinny reruns", s)
	} else {
		with(tensor.SetCUDASkinnyGemm, true, rerun("@skinny", "matmul", "linear"))()
	}
	// The 4x4 upfirdn2d cases again on the shared-memory tile kernels.
	with(tensor.SetCUDAUpfirdnTiled, true, rerun("@tiled", "upsample2d", "downsample2d", "filter2d", "upfirdn2d"))()
	rngAndAdam(rep, seed)
	lafiteNets(rep, seed, "")
	// The nets again with every 3x3 stride-1 conv on Winograd F(4x4, 3x3)
	// (their 16 channels are below the planner's threshold): the modulated
	// convs' styles, demodulation and noise, path length and R1 through it.
	if winograd {
		with(tensor.SetCUDAConvTile, cuda.ConvWinograd4, func() { lafiteNets(rep, seed, "@winograd4") })()
	}
	return rep
}

// rerunCases runs again, with the suffix on their names, the cases whose
// names start with one of the prefixes.
func rerunCases(rep *gpuReport, seed uint64, suffix string, prefixes ...string) func() {
	return func() {
		for _, c := range gpuCases() {
			for _, pre := range prefixes {
				if strings.HasPrefix(c.name, pre) {
					c.name += suffix
					runGPUCase(rep, c, seed)
					break
				}
			}
		}
	}
}

// gpuCC is the compute capability of the device the checks run on.
func gpuCC() int {
	p, err := tensor.CUDAProps()
	if err != nil {
		panic(err) // the checks run only where a device was opened
	}
	return p.CC()
}

// requireGPU skips with the one-line reason when there is no usable GPU.
func requireGPU(t testing.TB) {
	t.Helper()
	if err := tensor.CUDAAvailable(); err != nil {
		t.Skip("no GPU: " + err.Error())
	}
	if _, err := tensor.CUDADevice(); err != nil {
		t.Skip("no GPU: " + err.Error())
	}
}

// TestGPUConformance is the GPU check: fresh inputs each run (seed printed;
// LAFITE_GPU_SEED repeats one), one line per comparison, then the count.
func TestGPUConformance(t *testing.T) {
	requireGPU(t)
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("LAFITE_GPU_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("LAFITE_GPU_SEED=%q: %v", s, err)
		}
		seed = v
	}
	fmt.Printf("gpu conformance: seed %d (LAFITE_GPU_SEED=%d repeats it)\n", seed, seed)
	start := time.Now()
	rep := runConformance(os.Stdout, seed)
	if fb := tensor.CUDAFallbacks(); len(fb) > 0 {
		fmt.Printf("gpu host fallbacks: %s\n", strings.Join(fb, " "))
	}
	skipped := ""
	if len(rep.skipped) > 0 {
		skipped = fmt.Sprintf(", skipped: %s", strings.Join(rep.skipped, "; "))
	}
	fmt.Printf("gpu: %d passed, %d failed (%.1fs)%s\n", rep.passed, rep.failed, time.Since(start).Seconds(), skipped)
	for _, f := range rep.failures {
		t.Error(f)
	}
}

// TestGPUConformanceEmulated runs the suite against the kernel emulator, so
// that the tensor layer's GPU code paths run on every machine.
func TestGPUConformanceEmulated(t *testing.T) {
	dev, restore := emulate()
	defer restore()
	var log strings.Builder
	rep := runConformance(&log, 1)
	t.Logf("gpu emulated: %d passed, %d failed; host fallbacks: %s", rep.passed, rep.failed, strings.Join(tensor.CUDAFallbacks(), " "))
	t.Logf("kernels launched: %s", strings.Join(dev.Launches(), " "))
	logNets(t, log.String())
	if rep.failed > 0 || rep.passed < 300 {
		t.Errorf("emulated GPU conformance: %d passed, %d failed:\n%s", rep.passed, rep.failed, log.String())
	}
}

// logNets logs the Lafite network comparisons of a conformance log.
func logNets(t *testing.T, log string) {
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, " lafite_") {
			t.Log(l)
		}
	}
}

// TestGPUConformanceCatchesUnwrittenOutputs drops kernels in the emulator:
// their outputs stay poisoned, and exactly the comparisons that depend on
// them must fail.
func TestGPUConformanceCatchesUnwrittenOutputs(t *testing.T) {
	for _, c := range []struct {
		drop, cas   string
		failing     []string // comparisons that must fail
		mustPassing []string // and ones that must still pass
	}{
		{"bias_act_f32", "bias_act_lrelu", []string{"forward", "grad x0", "grad x1"}, nil},
		{"conv2d_wgrad_f32", "conv2d_1x1", []string{"grad x1"}, []string{"forward", "grad x0", "grad x2"}},
		{"ew_where_strided_f32", "where", []string{"forward"}, nil},
		{"resize_bicubic_adj_f32", "interpolate_bicubic_up", []string{"grad x0"}, []string{"forward"}},
		// The kept convolution feeds only the demodulation's gradient.
		{"conv2d_modfwd_f32", "modconv_styles_demod_noise", []string{"forward", "grad x3"}, []string{"grad x0", "grad x1", "grad x2", "grad x4", "grad x5"}},
	} {
		dev, restore := emulate()
		dev.Drop(c.drop)
		var out strings.Builder
		rep := &gpuReport{out: &out}
		tensor.SetCUDAPoison(true)
		for _, gc := range gpuCases() {
			if gc.name == c.cas {
				runGPUCase(rep, gc, 1)
			}
		}
		tensor.SetCUDAPoison(false)
		restore()
		lines := out.String()
		for _, what := range c.failing {
			if !strings.Contains(lines, fmt.Sprintf("gpu FAIL %-32s %-10s", c.cas, what)) {
				t.Errorf("without %s, %s %s did not fail:\n%s", c.drop, c.cas, what, lines)
			}
		}
		for _, what := range c.mustPassing {
			if !strings.Contains(lines, fmt.Sprintf("gpu PASS %-32s %-10s", c.cas, what)) {
				t.Errorf("without %s, %s %s should still pass:\n%s", c.drop, c.cas, what, lines)
			}
		}
	}
}
