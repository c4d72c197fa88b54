package tensor

import (
	"fmt"
	"math"
	"runtime"
	"testing"
)

func seq(shape ...int) *Tensor {
	t := Empty(shape...)
	for i := range t.Data() {
		t.Data()[i] = float32(i)
	}
	return t
}

func equalSlices(t *testing.T, what string, got, want []float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] && !(math.IsNaN(float64(got[i])) && math.IsNaN(float64(want[i]))) {
			t.Fatalf("%s[%d] = %v, want %v", what, i, got[i], want[i])
		}
	}
}

func TestViewsShareStorage(t *testing.T) {
	x := seq(2, 3, 4)
	p := x.Permute(2, 0, 1)
	if p.IsContiguous() || p.At(3, 1, 2) != x.At(1, 2, 3) {
		t.Fatal("permute view wrong")
	}
	// Transposed view flattened must copy and keep row-major order of the view.
	tr := x.Transpose(0, 2).Reshape(-1)
	if tr.Size(0) != 24 || tr.At(1) != x.At(1, 0, 0) {
		t.Fatalf("reshape of transposed view: got %v", tr.At(1))
	}
	// A contiguous reshape is a view (same storage).
	r := x.Reshape(6, 4)
	if r.storage != x.storage {
		t.Fatal("contiguous reshape copied")
	}
	s := x.Slice(2, 1, 4, 2) // columns 1 and 3
	equalSlices(t, "slice", s.ToSlice(), []float32{1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23})
	// Merging dims of a slice along an outer axis stays a view.
	o := x.Slice(0, 1, 2, 1).Reshape(3, 4)
	if o.storage != x.storage || o.At(0, 0) != 12 {
		t.Fatal("outer slice reshape")
	}
	e := New([]float32{1, 2, 3}, 3, 1).Expand(3, 4)
	if e.Strides()[1] != 0 || e.At(2, 3) != 3 {
		t.Fatal("expand")
	}
	u := x.Unsqueeze(1).Squeeze(1)
	if !SameShape(u.Shape(), x.Shape()) {
		t.Fatal("unsqueeze/squeeze")
	}
	if x.Select(1, 2).At(1, 3) != x.At(1, 2, 3) {
		t.Fatal("select")
	}
	sc := ScatterSlice(New([]float32{7, 8}, 2), []int{5}, 0, 1, 3)
	equalSlices(t, "scatter_slice", sc.ToSlice(), []float32{0, 7, 0, 0, 8})
}

func TestBroadcastingArithmetic(t *testing.T) {
	a := seq(2, 1, 3)
	b := New([]float32{10, 20}, 2, 1)
	got := Add(a, b) // [2,2,3]
	want := []float32{10, 11, 12, 20, 21, 22, 13, 14, 15, 23, 24, 25}
	equalSlices(t, "add", got.ToSlice(), want)
	if _, err := BroadcastShapes([]int{2, 3}, []int{4}); err == nil {
		t.Fatal("incompatible shapes accepted")
	}
	// Strided (transposed) operands.
	m := seq(3, 2).Transpose(0, 1) // [[0,2,4],[1,3,5]]
	equalSlices(t, "mul transposed", Mul(m, Full(2, 3)).ToSlice(), []float32{0, 4, 8, 2, 6, 10})
	w := Where(New([]float32{1, 0, 1}, 3), Full(1, 2, 3), Full(-1, 3))
	equalSlices(t, "where", w.ToSlice(), []float32{1, -1, 1, 1, -1, 1})
	n := NanToNum(New([]float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 2}, 4), 0, 9, -9)
	equalSlices(t, "nan_to_num", n.ToSlice(), []float32{0, 9, -9, 2})
	equalSlices(t, "clamp", Clamp(New([]float32{-2, 0.5, 3}, 3), -1, 1).ToSlice(), []float32{-1, 0.5, 1})
	equalSlices(t, "gelu(0)", Gelu(Zeros(1)).ToSlice(), []float32{0})
	equalSlices(t, "maximum nan", Maximum(New([]float32{float32(math.NaN()), 1}, 2), New([]float32{0, 2}, 2)).ToSlice(), []float32{float32(math.NaN()), 2})
}

func TestReductions(t *testing.T) {
	x := seq(2, 3, 4)
	equalSlices(t, "sum all", Sum(x, nil, false).ToSlice(), []float32{276})
	s := Sum(x, []int{0, 2}, true)
	if !SameShape(s.Shape(), []int{1, 3, 1}) {
		t.Fatalf("keepdim shape %v", s.Shape())
	}
	equalSlices(t, "sum dims", s.ToSlice(), []float32{6 + 54, 22 + 70, 38 + 86})
	equalSlices(t, "max", Max(x, []int{1}, false).Reshape(-1).ToSlice(), []float32{8, 9, 10, 11, 20, 21, 22, 23})
	equalSlices(t, "argmax", Argmax(New([]float32{1, 5, 5, 2}, 4), 0, false).ToSlice(), []float32{1})
	v := Var(New([]float32{1, 2, 3, 4, 5}, 5), nil, true, false)
	equalSlices(t, "var", v.ToSlice(), []float32{2.5})
	equalSlices(t, "mean", Mean(seq(4), nil, false).ToSlice(), []float32{1.5})
	equalSlices(t, "sum_to", SumTo(Ones(2, 3, 4), 3, 1).ToSlice(), []float32{8, 8, 8})
}

func naiveMatmul(a, b []float32, m, k, n int) []float32 {
	c := make([]float32, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float64
			for p := 0; p < k; p++ {
				s += float64(a[i*k+p]) * float64(b[p*n+j])
			}
			c[i*n+j] = float32(s)
		}
	}
	return c
}

func TestMatmulShapes(t *testing.T) {
	rng := NewRNG(3)
	a, b := rng.Normal(5, 7), rng.Normal(7, 3)
	// cpu.Gemm may accumulate in float32 (SIMD variants): compare to a few ulps.
	closeSlices(t, "2d", Matmul(a, b).ToSlice(), naiveMatmul(a.ToSlice(), b.ToSlice(), 5, 7, 3), 1e-6)
	// Transposed views are read through strides.
	at := a.Transpose(0, 1).Contiguous().Transpose(0, 1)
	closeSlices(t, "strided", Matmul(at, b).ToSlice(), naiveMatmul(a.ToSlice(), b.ToSlice(), 5, 7, 3), 1e-6)
	// Broadcast batch: [2,1,5,7] @ [3,7,3] -> [2,3,5,3]
	ab := rng.Normal(2, 1, 5, 7)
	bb := rng.Normal(3, 7, 3)
	y := Matmul(ab, bb)
	if !SameShape(y.Shape(), []int{2, 3, 5, 3}) {
		t.Fatalf("batched shape %v", y.Shape())
	}
	closeSlices(t, "batch [1,2]", y.Select(0, 1).Select(0, 2).ToSlice(),
		naiveMatmul(ab.Select(0, 1).Select(0, 0).ToSlice(), bb.Select(0, 2).ToSlice(), 5, 7, 3), 1e-6)
	v := Matmul(rng.Normal(7), b)
	if !SameShape(v.Shape(), []int{3}) {
		t.Fatalf("vector-matrix shape %v", v.Shape())
	}
}

// MatmulScaled applies its scale once to the whole sum, also when K spans
// several of the packed GEMM's depth blocks (1100 > every variant's kc).
func TestMatmulScaledScalesTheProduct(t *testing.T) {
	rng := NewRNG(5)
	for _, k := range []int{7, 1100} {
		a, b := rng.Normal(20, k), rng.Normal(k, 40)
		want := naiveMatmul(a.ToSlice(), b.ToSlice(), 20, k, 40)
		for i := range want {
			want[i] *= 0.125
		}
		closeSlices(t, fmt.Sprintf("k=%d", k), MatmulScaled(a, b, 0.125).ToSlice(), want, 1e-5)
		// Read through a transposed view, as a layer's weight is.
		bt := b.Transpose(0, 1).Contiguous().Transpose(0, 1)
		closeSlices(t, fmt.Sprintf("k=%d transposed", k), MatmulScaled(a, bt, 0.125).ToSlice(), want, 1e-5)
	}
}

func TestRNGIsDeterministicAcrossScheduling(t *testing.T) {
	draw := func(procs int) []float32 {
		old := runtime.GOMAXPROCS(procs)
		defer runtime.GOMAXPROCS(old)
		r := NewRNG(42)
		a := r.Normal(100000)
		b := r.Uniform(-1, 1, 1001)
		return append(a.ToSlice(), b.ToSlice()...)
	}
	equalSlices(t, "rng", draw(1), draw(4))
	x := NewRNG(42).Normal(200000).ToSlice()
	var m, v float64
	for _, f := range x {
		m += float64(f)
	}
	m /= float64(len(x))
	for _, f := range x {
		v += (float64(f) - m) * (float64(f) - m)
	}
	v /= float64(len(x))
	if math.Abs(m) > 0.01 || math.Abs(v-1) > 0.02 {
		t.Fatalf("normal samples have mean %v variance %v", m, v)
	}
	r := NewRNG(9)
	r.Normal(3)
	s, c := r.State()
	want := r.Normal(5).ToSlice()
	r2 := NewRNG(0)
	r2.SetState(s, c)
	equalSlices(t, "restored rng", r2.Normal(5).ToSlice(), want)
}

func TestPoolReusesBuffers(t *testing.T) {
	a := Zeros(1000)
	a.Data()[0] = 5
	a.Release()
	b := Zeros(1000)
	if b.Data()[0] != 0 {
		t.Fatal("Zeros returned a dirty pooled buffer")
	}
	if live, peak := MemoryStats(); live < 0 || peak < live {
		t.Fatalf("memory stats live %d peak %d", live, peak)
	}
}
