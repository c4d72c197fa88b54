package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
)

type gemmFunc = func(m, n, k int, alpha float32,
	a []float32, aOff, aRow, aCol int,
	b []float32, bOff, bRow, bCol int,
	beta float32, c []float32, cOff, ldc int)

// gemmVariants are the packed SGEMMs this machine can run, by variant name.
func gemmVariants(t testing.TB) map[string]gemmFunc {
	out := map[string]gemmFunc{}
	prev := ActiveVariant()
	for _, name := range Variants() {
		if err := UseVariant(name); err != nil {
			t.Fatal(err)
		}
		out[name] = Gemm
	}
	if err := UseVariant(prev); err != nil {
		t.Fatal(err)
	}
	return out
}

type gemmCase struct {
	m, n, k          int
	transA, transB   bool
	alpha, beta      float32
	aPad, bPad, cPad int // offsets and extra leading dimension, so strides differ from the shape
}

// checkGemm runs f and GemmRef on the same inputs and compares every element
// of C against a tolerance scaled by sum_p |alpha a_ip b_pj| + |beta c_ij|,
// the magnitude float32 rounding is proportional to. Elements of c outside
// the [m,n] window must not change.
func checkGemm(t *testing.T, name string, f gemmFunc, gc gemmCase, r *rand.Rand) {
	t.Helper()
	m, n, k := gc.m, gc.n, gc.k
	// A [m,k]: row-major with leading dimension k+aPad, or its transpose.
	var aRow, aCol, aLen int
	lda := k + gc.aPad
	if gc.transA {
		lda = m + gc.aPad
		aRow, aCol, aLen = 1, lda, k*lda
	} else {
		aRow, aCol, aLen = lda, 1, m*lda
	}
	ldb := n + gc.bPad
	var bRow, bCol, bLen int
	if gc.transB {
		ldb = k + gc.bPad
		bRow, bCol, bLen = 1, ldb, n*ldb
	} else {
		bRow, bCol, bLen = ldb, 1, k*ldb
	}
	aOff, bOff, cOff := gc.aPad, gc.bPad, gc.cPad
	a := randSlice(r, aOff+aLen)
	b := randSlice(r, bOff+bLen)
	ldc := n + gc.cPad
	c0 := randSlice(r, cOff+m*ldc)
	if gc.beta == 0 {
		// beta == 0 must not read C: NaN there would otherwise leak through.
		for i := 0; i < m; i++ {
			for j := 0; j < n; j++ {
				c0[cOff+i*ldc+j] = float32(math.NaN())
			}
		}
	}
	got := append([]float32(nil), c0...)
	want := append([]float32(nil), c0...)
	f(m, n, k, gc.alpha, a, aOff, aRow, aCol, b, bOff, bRow, bCol, gc.beta, got, cOff, ldc)
	GemmRef(m, n, k, gc.alpha, a, aOff, aRow, aCol, b, bOff, bRow, bCol, gc.beta, want, cOff, ldc)
	inside := func(idx int) bool {
		idx -= cOff
		return idx >= 0 && idx/ldc < m && idx%ldc < n
	}
	bad := 0
	for idx := range got {
		if !inside(idx) {
			if math.Float32bits(got[idx]) != math.Float32bits(c0[idx]) {
				t.Fatalf("%s %+v: element %d outside C changed: %v -> %v", name, gc, idx, c0[idx], got[idx])
			}
			continue
		}
		i, j := (idx-cOff)/ldc, (idx-cOff)%ldc
		mag := 0.0
		for p := 0; p < k; p++ {
			mag += math.Abs(float64(a[aOff+i*aRow+p*aCol]) * float64(b[bOff+p*bRow+j*bCol]))
		}
		mag *= math.Abs(float64(gc.alpha))
		if gc.beta != 0 {
			mag += math.Abs(float64(gc.beta) * float64(c0[idx]))
		}
		// float32 accumulation error is bounded by ~k ulps of the magnitude;
		// a wrong element is off by O(magnitude/k) or more.
		tol := float64(k+4)*6e-8*mag + 1e-30
		if d := math.Abs(float64(got[idx]) - float64(want[idx])); !(d <= tol) {
			if bad++; bad <= 5 {
				t.Errorf("%s %+v: C[%d,%d] = %v, want %v (tol %.3g)", name, gc, i, j, got[idx], want[idx], tol)
			}
		}
	}
	if bad > 0 {
		t.Fatalf("%s %+v: %d wrong elements", name, gc, bad)
	}
}

func TestGemmVariantsAgainstRef(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	sizes := []int{1, 2, 3, 4, 5, 7, 8, 13, 14, 15, 16, 17, 18, 22, 31, 32, 33, 47, 97, 131, 257, 293}
	variants := gemmVariants(t)
	var cases []gemmCase
	// Every size on each axis at least once, with the others random.
	for _, s := range sizes {
		for axis := 0; axis < 3; axis++ {
			dims := [3]int{sizes[r.IntN(len(sizes))], sizes[r.IntN(len(sizes))], sizes[r.IntN(len(sizes))]}
			dims[axis] = s
			cases = append(cases, gemmCase{m: dims[0], n: dims[1], k: dims[2]})
		}
	}
	for i := range cases {
		gc := &cases[i]
		gc.transA, gc.transB = i%2 == 1, i%4 >= 2
		gc.alpha = []float32{1, 0.5, -2}[i%3]
		gc.beta = []float32{0, 1, -0.75}[(i/3)%3]
		if i%5 == 0 {
			gc.aPad, gc.bPad, gc.cPad = 3, 5, 2
		}
	}
	// Shapes that cross the blocking boundaries (kc, mc, several workers).
	cases = append(cases,
		gemmCase{m: 300, n: 300, k: 300, alpha: 1, beta: 0},
		gemmCase{m: 337, n: 67, k: 513, alpha: 1, beta: 1, transA: true},
		gemmCase{m: 29, n: 2100, k: 260, alpha: 1, beta: 1, transB: true, cPad: 1},
		gemmCase{m: 700, n: 19, k: 31, alpha: -1, beta: 0, aPad: 1},
	)
	for name, f := range variants {
		for _, gc := range cases {
			checkGemm(t, name, f, gc, r)
		}
	}
}

func TestGemmDegenerate(t *testing.T) {
	for name, f := range gemmVariants(t) {
		// k == 0: C = beta*C; with beta == 0 C is zeroed without being read.
		c := []float32{1, 2, 3, 4}
		f(2, 2, 0, 1, nil, 0, 0, 1, nil, 0, 0, 1, 0.5, c, 0, 2)
		if c[0] != 0.5 || c[3] != 2 {
			t.Errorf("%s: k=0 beta=0.5 gave %v", name, c)
		}
		nan := float32(math.NaN())
		c = []float32{nan, nan, nan, nan}
		f(2, 2, 0, 1, nil, 0, 0, 1, nil, 0, 0, 1, 0, c, 0, 2)
		if c[0] != 0 || c[3] != 0 {
			t.Errorf("%s: k=0 beta=0 gave %v", name, c)
		}
		// m == 0 or n == 0 touches nothing.
		f(0, 3, 3, 1, nil, 0, 3, 1, nil, 0, 3, 1, 0, nil, 0, 3)
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: short C did not panic", name)
				}
			}()
			f(2, 2, 1, 1, []float32{1, 1}, 0, 1, 1, []float32{1, 1}, 0, 1, 1, 0, make([]float32, 3), 0, 2)
		}()
	}
}

func TestUseVariant(t *testing.T) {
	prev := ActiveVariant()
	defer UseVariant(prev)
	if err := UseVariant("no-such-isa"); err == nil {
		t.Error("unknown variant accepted")
	}
	vs := Variants()
	if vs[len(vs)-1] != VariantGeneric {
		t.Errorf("generic is not the last variant: %v", vs)
	}
	for _, v := range vs {
		if err := UseVariant(v); err != nil || ActiveVariant() != v {
			t.Errorf("UseVariant(%s): %v, active %s", v, err, ActiveVariant())
		}
	}
}

func BenchmarkGemm(b *testing.B) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, sz := range [][3]int{{1024, 1024, 1024}, {4096, 512, 512}, {256, 256, 256}, {64, 64, 64}} {
		m, n, k := sz[0], sz[1], sz[2]
		a, bm, c := randSlice(r, m*k), randSlice(r, k*n), make([]float32, m*n)
		for name, f := range gemmVariants(b) {
			b.Run(fmt.Sprintf("%s/%dx%dx%d", name, m, n, k), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					f(m, n, k, 1, a, 0, k, 1, bm, 0, n, 1, 0, c, 0, n)
				}
				b.ReportMetric(2*float64(m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

func TestGemmBatchedVariantsAgainstRef(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	prev := ActiveVariant()
	defer UseVariant(prev)
	cases := []struct {
		batch, m, n, k int
		transB         bool
		beta           float32
	}{
		{1, 5, 7, 3, false, 0}, {3, 17, 33, 20, false, 1}, {4, 29, 45, 70, true, 0},
		{5, 3, 1, 9, false, 0.5}, {4, 40, 700, 37, false, 0}, {2, 300, 65, 513, true, 1},
	}
	for _, name := range Variants() {
		if err := UseVariant(name); err != nil {
			t.Fatal(err)
		}
		for _, tc := range cases {
			m, n, k := tc.m, tc.n, tc.k
			// Gaps between items and rows, so the strides matter.
			bStride, cStride, ldc := k*n+3, m*(n+2)+5, n+2
			bRow, bCol := n, 1
			if tc.transB {
				bRow, bCol = 1, k
			}
			a := randSlice(r, m*k)
			b := randSlice(r, tc.batch*bStride+1)
			c0 := randSlice(r, tc.batch*cStride+1)
			if tc.beta == 0 {
				for i := range c0 {
					c0[i] = float32(math.NaN())
				}
			}
			got := append([]float32(nil), c0...)
			GemmBatched(tc.batch, m, n, k, 1.5, a, 0, k, 1, b, 1, bRow, bCol, bStride, tc.beta, got, 2, ldc, cStride)
			for s := 0; s < tc.batch; s++ {
				want := append([]float32(nil), c0...)
				GemmRef(m, n, k, 1.5, a, 0, k, 1, b, 1+s*bStride, bRow, bCol, tc.beta, want, 2+s*cStride, ldc)
				for i := 0; i < m; i++ {
					for j := 0; j < n; j++ {
						idx := 2 + s*cStride + i*ldc + j
						mag := 0.0
						for p := 0; p < k; p++ {
							mag += math.Abs(1.5 * float64(a[i*k+p]) * float64(b[1+s*bStride+p*bRow+j*bCol]))
						}
						if tc.beta != 0 {
							mag += math.Abs(float64(tc.beta * c0[idx]))
						}
						if d := math.Abs(float64(got[idx] - want[idx])); !(d <= float64(k+4)*6e-8*mag+1e-30) {
							t.Fatalf("%s %+v: C_%d[%d,%d] = %v, want %v", name, tc, s, i, j, got[idx], want[idx])
						}
					}
				}
			}
			// Nothing outside the C_s windows changes.
			for idx := range got {
				s, rem := (idx-2)/cStride, (idx-2)%cStride
				if idx >= 2 && s < tc.batch && rem/ldc < m && rem%ldc < n {
					continue
				}
				if math.Float32bits(got[idx]) != math.Float32bits(c0[idx]) {
					t.Fatalf("%s %+v: element %d outside C changed", name, tc, idx)
				}
			}
		}
	}
}

// Products with too few row panels to share out (2-3 on two workers) split
// their columns instead: the same tiles on other workers, so the same bits
// as the row split, on every variant, with and without beta and in batches.
func TestGemmColumnSplitKeepsBits(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	defer func() { gemmSplitColumns = true }()
	prev := ActiveVariant()
	defer UseVariant(prev)
	r := rand.New(rand.NewPCG(21, 22))
	for _, v := range Variants() {
		if err := UseVariant(v); err != nil {
			t.Fatal(err)
		}
		for _, sh := range [][3]int{{16, 512, 512}, {32, 1024, 288}, {32, 288, 1024}, {40, 4096, 64}, {9, 700, 300}} {
			m, n, k := sh[0], sh[1], sh[2]
			const batch = 2
			a, b, c0 := randSlice(r, m*k), randSlice(r, batch*k*n), randSlice(r, batch*m*n)
			for _, beta := range []float32{0, 1} {
				run := func(cols bool) []float32 {
					gemmSplitColumns = cols
					c := append([]float32(nil), c0...)
					GemmBatched(batch, m, n, k, 1, a, 0, k, 1, b, 0, n, 1, k*n, beta, c, 0, n, m*n)
					return c
				}
				got, want := run(true), run(false)
				for i := range want {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
						t.Fatalf("%s %dx%dx%d beta %v: C[%d] = %v with the column split, %v with the row split", v, m, n, k, beta, i, got[i], want[i])
					}
				}
			}
		}
	}
}
