package nn

import (
	"math"
	"testing"

	"github.com/lafite-go/lafite/autograd"
	"github.com/lafite-go/lafite/tensor"
)

// naiveSelfAttention is torch.nn.MultiheadAttention's maths written as loops
// in float64, on x [L, N, E] with an additive [L, L] mask (nil for none).
func naiveSelfAttention(x *tensor.Tensor, m *MultiheadAttention, mask *tensor.Tensor) []float64 {
	l, n, e := x.Size(0), x.Size(1), x.Size(2)
	h := m.NumHeads
	hd := e / h
	w, b := m.InProjWeight.Value, m.InProjBias.Value
	wo, bo := m.OutProj.Weight.Value, m.OutProj.Bias.Value
	out := make([]float64, l*n*e)
	for bi := 0; bi < n; bi++ {
		qkv := make([][]float64, l) // per position: q | k | v
		for i := 0; i < l; i++ {
			qkv[i] = make([]float64, 3*e)
			for r := 0; r < 3*e; r++ {
				s := float64(b.At(r))
				for c := 0; c < e; c++ {
					s += float64(w.At(r, c)) * float64(x.At(i, bi, c))
				}
				qkv[i][r] = s
			}
		}
		for i := 0; i < l; i++ {
			cat := make([]float64, e)
			for hh := 0; hh < h; hh++ {
				p := make([]float64, l)
				var sum float64
				for j := 0; j < l; j++ {
					var dot float64
					for c := 0; c < hd; c++ {
						dot += qkv[i][hh*hd+c] * qkv[j][e+hh*hd+c]
					}
					s := dot / math.Sqrt(float64(hd))
					if mask != nil {
						s += float64(mask.At(i, j))
					}
					p[j] = math.Exp(s)
					sum += p[j]
				}
				for j := 0; j < l; j++ {
					for c := 0; c < hd; c++ {
						cat[hh*hd+c] += p[j] / sum * qkv[j][2*e+hh*hd+c]
					}
				}
			}
			for o := 0; o < e; o++ {
				s := float64(bo.At(o))
				for c := 0; c < e; c++ {
					s += float64(wo.At(o, c)) * cat[c]
				}
				out[(i*n+bi)*e+o] = s
			}
		}
	}
	return out
}

func randomizeBiases(m *MultiheadAttention, rng *tensor.RNG) {
	m.InProjBias.Value.CopyFrom(rng.Normal(3 * m.EmbedDim))
	m.OutProj.Bias.Value.CopyFrom(rng.Normal(m.EmbedDim))
}

func TestMultiheadAttentionMatchesNaive(t *testing.T) {
	rng := tensor.NewRNG(5)
	l, n, e, h := 5, 3, 12, 3
	m := NewMultiheadAttention(e, h, true, rng)
	randomizeBiases(m, rng)
	x := rng.Normal(l, n, e)
	causal := CausalMask(l)
	for _, mask := range []*tensor.Tensor{nil, causal} {
		got := m.Forward(autograd.Const(x), mask).Value
		if !tensor.SameShape(got.Shape(), []int{l, n, e}) {
			t.Fatalf("shape %v", got.Shape())
		}
		want := naiveSelfAttention(x, m, mask)
		for i, g := range got.ToSlice() {
			if math.Abs(float64(g)-want[i]) > 1e-5*(1+math.Abs(want[i])) {
				t.Fatalf("mask %v: y[%d] = %v, want %v", mask != nil, i, g, want[i])
			}
		}
	}
	// A per-(batch, head) mask [N·H, L, L] holding the same mask everywhere
	// gives the same result.
	per := causal.Unsqueeze(0).Expand(n*h, l, l)
	a := m.Forward(autograd.Const(x), causal).Value.ToSlice()
	b := m.Forward(autograd.Const(x), per).Value.ToSlice()
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("3-D mask: y[%d] = %v, want %v", i, b[i], a[i])
		}
	}
	// The causal mask really hides the future: changing the last position
	// leaves the earlier outputs untouched.
	x2 := x.Clone()
	x2.Narrow(0, l-1, 1).CopyFrom(rng.Normal(1, n, e))
	c := m.Forward(autograd.Const(x2), causal).Value.ToSlice()
	for i := 0; i < (l-1)*n*e; i++ {
		if a[i] != c[i] {
			t.Fatalf("causal output %d changed with a later position", i)
		}
	}
	expectPanic(t, "want [L, N, 12]", func() { m.Forward(autograd.Const(tensor.Ones(l, e)), nil) })
	expectPanic(t, "mask of shape", func() { m.Forward(autograd.Const(x), CausalMask(l+1)) })
}

func TestMultiheadAttentionGradients(t *testing.T) {
	rng := tensor.NewRNG(6)
	l, n, e, h := 4, 2, 6, 2
	mask := CausalMask(l)
	f := func(xs []*autograd.Var) *autograd.Var {
		m := &MultiheadAttention{EmbedDim: e, NumHeads: h, InProjWeight: xs[1], InProjBias: xs[2],
			OutProj: &Linear{Weight: xs[3], Bias: xs[4]}}
		return m.Forward(xs[0], mask)
	}
	// Weights of the size torch's init gives keep the softmax away from
	// saturation, where float32 finite differences of second order are noise.
	// (The gradient w.r.t. the key bias is exactly zero: softmax is
	// shift-invariant.)
	ws := func(shape ...int) *tensor.Tensor { return tensor.MulScalar(rng.Normal(shape...), 0.4) }
	checkGrads(t, f, []*tensor.Tensor{rng.Normal(l, n, e), ws(3*e, e), ws(3 * e), ws(e, e), ws(e)})
}

func TestMultiheadAttentionInitAndNames(t *testing.T) {
	e := 32
	m := NewMultiheadAttention(e, 4, true, tensor.NewRNG(7))
	if got := names(m); got != "in_proj_weight,in_proj_bias,out_proj.weight,out_proj.bias" {
		t.Fatalf("names %q", got)
	}
	xavier := math.Sqrt(6 / float64(4*e))
	var hi float64
	for _, v := range m.InProjWeight.Value.ToSlice() {
		hi = math.Max(hi, math.Abs(float64(v)))
	}
	if hi > xavier || hi < 0.8*xavier {
		t.Fatalf("in_proj_weight max |w| %v, want close below %v", hi, xavier)
	}
	for _, b := range []*autograd.Var{m.InProjBias, m.OutProj.Bias} {
		for _, v := range b.Value.ToSlice() {
			if v != 0 {
				t.Fatal("biases must start at zero")
			}
		}
	}
	if got := names(NewMultiheadAttention(e, 4, false, tensor.NewRNG(7))); got != "in_proj_weight,out_proj.weight" {
		t.Fatalf("names without bias %q", got)
	}
	expectPanic(t, "multiple of numHeads", func() { NewMultiheadAttention(10, 4, true, tensor.NewRNG(1)) })
}

func TestCausalMask(t *testing.T) {
	m := CausalMask(3)
	inf := float32(math.Inf(-1))
	want := []float32{0, inf, inf, 0, 0, inf, 0, 0, 0}
	for i, v := range m.ToSlice() {
		if v != want[i] {
			t.Fatalf("mask[%d] = %v, want %v", i, v, want[i])
		}
	}
}
