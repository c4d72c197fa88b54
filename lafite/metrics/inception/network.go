// Package inception is the Inception-v3 network of the Fréchet Inception
// Distance, as pytorch-fid and torch-fidelity run it with the TensorFlow
// weights of 2015-12-05 (pt_inception-2015-12-05-6726825d.pth): the
// torchvision layout with the FID variants of its blocks (average pools
// that leave the padding out of the count, a max pool in the last block),
// batch norms with ε = 0.001 folded into the convolutions, input resized
// to 299x299 bilinearly and scaled to [-1, 1]. Its 2048 pool features give
// the FID, its 1008 logits the Inception Score.
//
// No weights ship here (none could be downloaded); Load reads the real
// file, and the tests run the same code on a small network of the same
// layout, written by testdata/make_fixture.py with PyTorch, against the
// features PyTorch computed.
package inception

import (
	"fmt"

	"github.com/lafite-go/lafite/tensor"
)

// Network is a loaded Inception-v3, inference only: on the host, or with
// its convolutions moved to a GPU by To.
type Network struct {
	dev   tensor.Device
	convs map[string]*convBN
	fcW   *tensor.Tensor // [Classes, Features]
	fcB   *tensor.Tensor // [Classes]
	// Features is the width of the pool features (2048 for the real
	// weights); Classes the number of logits (1008), 0 without a
	// classifier.
	Features, Classes int
	// FLOPs is the convolutions' work for one image, 2 per multiply-add
	// (11.4 G for the real network).
	FLOPs float64
}

// convBN is a convolution with its batch norm folded in: y = relu(w*x + b).
type convBN struct {
	w, b *tensor.Tensor
	p    tensor.Conv2dParams
}

// act is an activation in a pass: the tensor, or only its channel count
// and size when the pass is the loader's dry run over the layout.
type act struct {
	t    *tensor.Tensor
	c    int
	h, w int // dry runs only
}

// pass walks the layout once: dry (at load, checking every convolution's
// presence and shape against the channels that reach it) or computing.
type pass struct {
	n     *Network
	dry   bool
	err   error
	flops float64 // a dry run's count for one image: 2 per multiply-add
}

func (r *pass) fail(format string, a ...any) act {
	if r.err == nil {
		r.err = fmt.Errorf(format, a...)
	}
	return act{}
}

// conv is BasicConv2d: a kh x kw convolution (stride, padding ph, pw), its
// batch norm and a ReLU.
func (r *pass) conv(name string, x act, kh, kw, stride, ph, pw int) act {
	if r.err != nil {
		return act{}
	}
	c, ok := r.n.convs[name]
	if !ok {
		return r.fail("missing %s.conv.weight", name)
	}
	if r.dry {
		s := c.w.Shape()
		if s[1] != x.c || s[2] != kh || s[3] != kw {
			return r.fail("%s.conv.weight has shape %v, want [*, %d, %d, %d]", name, s, x.c, kh, kw)
		}
		c.p = tensor.Conv2dParams{StrideH: stride, StrideW: stride, PadH: ph, PadW: pw}
		oh, ow := (x.h+2*ph-kh)/stride+1, (x.w+2*pw-kw)/stride+1
		r.flops += 2 * float64(s[0]*s[1]*kh*kw) * float64(oh*ow)
		return act{c: s[0], h: oh, w: ow}
	}
	return act{t: tensor.Relu(tensor.Conv2d(x.t, c.w, c.b, c.p)), c: c.w.Size(0)}
}

// same is a stride-1 convolution padded to keep the size.
func (r *pass) same(name string, x act, kh, kw int) act {
	return r.conv(name, x, kh, kw, 1, kh/2, kw/2)
}

func (r *pass) maxPool(x act, k, stride, pad int) act {
	if r.dry || r.err != nil {
		x.h, x.w = (x.h+2*pad-k)/stride+1, (x.w+2*pad-k)/stride+1
		return x
	}
	return act{t: tensor.MaxPool2d(x.t, k, k, stride, stride, pad, pad), c: x.c}
}

// avgPool3 is the FID blocks' 3x3 average, padding left out of the count.
func (r *pass) avgPool3(x act) act {
	if r.dry || r.err != nil {
		return x
	}
	return act{t: tensor.AvgPool2d(x.t, 3, 3, 1, 1, 1, 1, false), c: x.c}
}

func (r *pass) cat(xs ...act) act {
	out := act{h: xs[0].h, w: xs[0].w}
	ts := make([]*tensor.Tensor, len(xs))
	for i, x := range xs {
		out.c += x.c
		ts[i] = x.t
	}
	if r.dry || r.err != nil {
		return out
	}
	out.t = tensor.Concat(ts, 1)
	return out
}

// trunk runs the layout from the normalised 299x299 input to the last
// block's output (2048 channels at 8x8 for the real network).
func (r *pass) trunk(x act) act {
	x = r.conv("Conv2d_1a_3x3", x, 3, 3, 2, 0, 0)
	x = r.conv("Conv2d_2a_3x3", x, 3, 3, 1, 0, 0)
	x = r.conv("Conv2d_2b_3x3", x, 3, 3, 1, 1, 1)
	x = r.maxPool(x, 3, 2, 0)
	x = r.conv("Conv2d_3b_1x1", x, 1, 1, 1, 0, 0)
	x = r.conv("Conv2d_4a_3x3", x, 3, 3, 1, 0, 0)
	x = r.maxPool(x, 3, 2, 0)
	for _, b := range []string{"Mixed_5b", "Mixed_5c", "Mixed_5d"} {
		x = r.scoped(x, func(x act) act { return r.blockA(b+".", x) })
	}
	x = r.scoped(x, func(x act) act { return r.blockB("Mixed_6a.", x) })
	for _, b := range []string{"Mixed_6b", "Mixed_6c", "Mixed_6d", "Mixed_6e"} {
		x = r.scoped(x, func(x act) act { return r.blockC(b+".", x) })
	}
	x = r.scoped(x, func(x act) act { return r.blockD("Mixed_7a.", x) })
	x = r.scoped(x, func(x act) act { return r.blockE("Mixed_7b.", x, false) })
	return r.scoped(x, func(x act) act { return r.blockE("Mixed_7c.", x, true) })
}

// scoped runs a block and hands its branches' buffers and its input back
// to the pool as soon as its output exists (the next block reuses them
// rather than the allocator clearing fresh ones).
func (r *pass) scoped(x act, block func(act) act) act {
	if r.dry || r.err != nil {
		return block(x)
	}
	scope := tensor.OpenHostScope()
	out := block(x)
	scope.Close(out.t)
	x.t.Release()
	return out
}

// blockA is FIDInceptionA: 1x1, 5x5, double 3x3 and pooled branches.
func (r *pass) blockA(p string, x act) act {
	b1 := r.same(p+"branch1x1", x, 1, 1)
	b5 := r.same(p+"branch5x5_2", r.same(p+"branch5x5_1", x, 1, 1), 5, 5)
	b3 := r.same(p+"branch3x3dbl_1", x, 1, 1)
	b3 = r.same(p+"branch3x3dbl_3", r.same(p+"branch3x3dbl_2", b3, 3, 3), 3, 3)
	bp := r.same(p+"branch_pool", r.avgPool3(x), 1, 1)
	return r.cat(b1, b5, b3, bp)
}

// blockB is InceptionB (Mixed_6a), the 35 -> 17 reduction.
func (r *pass) blockB(p string, x act) act {
	b3 := r.conv(p+"branch3x3", x, 3, 3, 2, 0, 0)
	bd := r.same(p+"branch3x3dbl_2", r.same(p+"branch3x3dbl_1", x, 1, 1), 3, 3)
	bd = r.conv(p+"branch3x3dbl_3", bd, 3, 3, 2, 0, 0)
	return r.cat(b3, bd, r.maxPool(x, 3, 2, 0))
}

// blockC is FIDInceptionC: factorised 7x7 branches (1x7 then 7x1).
func (r *pass) blockC(p string, x act) act {
	b1 := r.same(p+"branch1x1", x, 1, 1)
	b7 := r.same(p+"branch7x7_1", x, 1, 1)
	b7 = r.same(p+"branch7x7_3", r.same(p+"branch7x7_2", b7, 1, 7), 7, 1)
	bd := r.same(p+"branch7x7dbl_1", x, 1, 1)
	bd = r.same(p+"branch7x7dbl_3", r.same(p+"branch7x7dbl_2", bd, 7, 1), 1, 7)
	bd = r.same(p+"branch7x7dbl_5", r.same(p+"branch7x7dbl_4", bd, 7, 1), 1, 7)
	bp := r.same(p+"branch_pool", r.avgPool3(x), 1, 1)
	return r.cat(b1, b7, bd, bp)
}

// blockD is InceptionD (Mixed_7a), the 17 -> 8 reduction.
func (r *pass) blockD(p string, x act) act {
	b3 := r.conv(p+"branch3x3_2", r.same(p+"branch3x3_1", x, 1, 1), 3, 3, 2, 0, 0)
	b7 := r.same(p+"branch7x7x3_1", x, 1, 1)
	b7 = r.same(p+"branch7x7x3_3", r.same(p+"branch7x7x3_2", b7, 1, 7), 7, 1)
	b7 = r.conv(p+"branch7x7x3_4", b7, 3, 3, 2, 0, 0)
	return r.cat(b3, b7, r.maxPool(x, 3, 2, 0))
}

// blockE is FIDInceptionE_1 (average pool) or, last, FIDInceptionE_2 (max
// pool): 3x3 branches split into parallel 1x3 and 3x1.
func (r *pass) blockE(p string, x act, maxPool bool) act {
	b1 := r.same(p+"branch1x1", x, 1, 1)
	t := r.same(p+"branch3x3_1", x, 1, 1)
	b3 := r.cat(r.same(p+"branch3x3_2a", t, 1, 3), r.same(p+"branch3x3_2b", t, 3, 1))
	u := r.same(p+"branch3x3dbl_2", r.same(p+"branch3x3dbl_1", x, 1, 1), 3, 3)
	bd := r.cat(r.same(p+"branch3x3dbl_3a", u, 1, 3), r.same(p+"branch3x3dbl_3b", u, 3, 1))
	pooled := r.avgPool3(x)
	if maxPool {
		pooled = r.maxPool(x, 3, 1, 1)
	}
	return r.cat(b1, b3, bd, r.same(p+"branch_pool", pooled, 1, 1))
}

// Size is the side the network reads: every input is resized to it.
const Size = 299

// To moves the convolutions to dev, where Run then computes; the input's
// resize and the classifier (one small product) stay on the host.
func (n *Network) To(dev tensor.Device) {
	for _, c := range n.convs {
		c.w, c.b = c.w.To(dev), c.b.To(dev)
	}
	n.dev = dev
}

// Run maps images x [N, 3, H, W] with values in [0, 1] (RGB) to their pool
// features [N, Features] and, when the network has a classifier, logits
// [N, Classes] (nil otherwise), both on the host: bilinear resize to
// 299x299 (align_corners false, no antialiasing), 2x - 1, the network, the
// mean over the last 8x8 map. On a GPU every buffer of the pass is freed
// before it returns.
func (n *Network) Run(x *tensor.Tensor) (features, logits *tensor.Tensor, err error) {
	if s := x.Shape(); len(s) != 4 || s[1] != 3 || s[0] < 1 || s[2] < 1 || s[3] < 1 {
		return nil, nil, fmt.Errorf("inception: images must be [N, 3, H, W], got %v", s)
	}
	x = x.To(tensor.CPU)
	if x.Size(2) != Size || x.Size(3) != Size {
		x = tensor.InterpolateBilinear(x, Size, Size)
	}
	scope := tensor.OpenScope()
	x = tensor.AddScalar(tensor.MulScalar(x.To(n.dev), 2), -1)
	r := &pass{n: n}
	out := r.trunk(act{t: x, c: 3})
	features = tensor.Mean(out.t, []int{2, 3}, false).To(tensor.CPU)
	scope.Close()
	if n.fcW != nil {
		logits = tensor.Add(tensor.Matmul(features, n.fcW.Transpose(0, 1)), n.fcB)
	}
	return features, logits, nil
}

// ClassProbabilities is the softmax of the classifier without its bias,
// features·Wᵀ, as the Inception Score's reference implementations take
// it (StyleGAN2-ADA's no_output_bias, torch-fidelity's logits_unbiased);
// nil when the network has no classifier.
func (n *Network) ClassProbabilities(features *tensor.Tensor) *tensor.Tensor {
	if n.fcW == nil {
		return nil
	}
	return tensor.Softmax(tensor.Matmul(features, n.fcW.Transpose(0, 1)), 1)
}
