package metrics

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/lafite-go/lafite/tensor"
)

// randomOrthogonal is the Q factor of a Gaussian matrix.
func randomOrthogonal(rng *rand.Rand, d int) *mat.Dense {
	a := mat.NewDense(d, d, nil)
	for i := range d {
		for j := range d {
			a.Set(i, j, rng.NormFloat64())
		}
	}
	var qr mat.QR
	qr.Factorize(a)
	var q mat.Dense
	qr.QTo(&q)
	return &q
}

// conjugate returns Q·S·Qᵀ, symmetrised against rounding.
func conjugate(q mat.Matrix, s mat.Matrix) *mat.SymDense {
	var t, m mat.Dense
	t.Mul(q, s)
	m.Mul(&t, q.T())
	d, _ := m.Dims()
	out := mat.NewSymDense(d, nil)
	for i := range d {
		for j := i; j < d; j++ {
			out.SetSym(i, j, (m.At(i, j)+m.At(j, i))/2)
		}
	}
	return out
}

// randomSPD has eigenvalues spread over [0.1, 5] in a random basis.
func randomSPD(rng *rand.Rand, d int) *mat.SymDense {
	diag := mat.NewDiagDense(d, nil)
	for i := range d {
		diag.SetDiag(i, 0.1+4.9*rng.Float64())
	}
	return conjugate(randomOrthogonal(rng, d), diag)
}

func randomVec(rng *rand.Rand, d int) []float64 {
	v := make([]float64, d)
	for i := range v {
		v[i] = rng.NormFloat64()
	}
	return v
}

func closeTo(got, want, tol float64) bool { return math.Abs(got-want) <= tol*(1+math.Abs(want)) }

func TestFIDOfIdenticalGaussiansIsZero(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	for _, d := range []int{1, 3, 20, 64} {
		s := Stats{Mean: randomVec(rng, d), Cov: randomSPD(rng, d)}
		got, err := FIDFromStats(s, s)
		if err != nil {
			t.Fatal(err)
		}
		if got > 1e-8*mat.Trace(s.Cov) {
			t.Errorf("d=%d: FID of a Gaussian with itself = %g, want 0", d, got)
		}
	}
}

func TestFIDOfDiagonalGaussians(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	for _, d := range []int{1, 2, 7, 32} {
		mu1, mu2 := randomVec(rng, d), randomVec(rng, d)
		c1, c2 := mat.NewSymDense(d, nil), mat.NewSymDense(d, nil)
		var want float64
		for i := range d {
			v1, v2 := 0.05+3*rng.Float64(), 0.05+3*rng.Float64()
			c1.SetSym(i, i, v1)
			c2.SetSym(i, i, v2)
			want += (mu1[i]-mu2[i])*(mu1[i]-mu2[i]) + v1 + v2 - 2*math.Sqrt(v1*v2)
		}
		got, err := FIDFromStats(Stats{Mean: mu1, Cov: c1}, Stats{Mean: mu2, Cov: c2})
		if err != nil {
			t.Fatal(err)
		}
		if !closeTo(got, want, 1e-10) {
			t.Errorf("d=%d: FID = %.12g, closed form %.12g", d, got, want)
		}
	}
}

// For 2x2 PSD matrices Tr((Σ1Σ2)^½) = √(Tr(Σ1Σ2) + 2√(det Σ1·det Σ2)), and
// with Σ1 = diag(a, b), Σ2 = R_θ Σ1 R_θᵀ this is
// √((a²+b²)cos²θ + 2ab(1+sin²θ)). Several such blocks, all turned by one
// random orthogonal Q (FID does not change under a common rotation), give
// dense covariances whose FID is the sum over the blocks.
func TestFIDOfRotatedCovariance(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	const blocks = 4
	d := 2 * blocks
	s1, s2 := mat.NewDense(d, d, nil), mat.NewDense(d, d, nil)
	var want float64
	for k := range blocks {
		a, b := 0.2+3*rng.Float64(), 0.2+3*rng.Float64()
		th := math.Pi * rng.Float64()
		c, s := math.Cos(th), math.Sin(th)
		i := 2 * k
		s1.Set(i, i, a)
		s1.Set(i+1, i+1, b)
		s2.Set(i, i, a*c*c+b*s*s)
		s2.Set(i+1, i+1, a*s*s+b*c*c)
		s2.Set(i, i+1, (a-b)*c*s)
		s2.Set(i+1, i, (a-b)*c*s)
		want += 2*(a+b) - 2*math.Sqrt((a*a+b*b)*c*c+2*a*b*(1+s*s))
	}
	q := randomOrthogonal(rng, d)
	mu := randomVec(rng, d)
	got, err := FIDFromStats(Stats{Mean: mu, Cov: conjugate(q, s1)}, Stats{Mean: mu, Cov: conjugate(q, s2)})
	if err != nil {
		t.Fatal(err)
	}
	if !closeTo(got, want, 1e-9) {
		t.Fatalf("FID = %.12g, closed form %.12g", got, want)
	}
	// A quarter turn of diag(a, b) swaps the variances: 2(√a-√b)² per block.
	a, b := 4.0, 1.0
	quarter, err := FIDFromStats(
		Stats{Mean: []float64{0, 0}, Cov: mat.NewSymDense(2, []float64{a, 0, 0, b})},
		Stats{Mean: []float64{0, 0}, Cov: mat.NewSymDense(2, []float64{b, 0, 0, a})})
	if err != nil || !closeTo(quarter, 2*(math.Sqrt(a)-math.Sqrt(b))*(math.Sqrt(a)-math.Sqrt(b)), 1e-12) {
		t.Fatalf("quarter turn: FID = %v (err %v), want 2", quarter, err)
	}
}

// sampleGaussian draws n rows from N(mu, L·Lᵀ).
func sampleGaussian(rng *rand.Rand, n int, mu []float64, cov *mat.SymDense) [][]float64 {
	var ch mat.Cholesky
	if !ch.Factorize(cov) {
		panic("covariance not positive definite")
	}
	var l mat.TriDense
	ch.LTo(&l)
	d := len(mu)
	rows := make([][]float64, n)
	z := mat.NewVecDense(d, nil)
	for i := range rows {
		for j := range d {
			z.SetVec(j, rng.NormFloat64())
		}
		var x mat.VecDense
		x.MulVec(&l, z)
		rows[i] = make([]float64, d)
		for j := range d {
			rows[i][j] = mu[j] + x.AtVec(j)
		}
	}
	return rows
}

func TestFIDOfSamplesConvergesToTheAnalyticValue(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	const d = 5
	// A small mean shift, so the covariance terms dominate the distance.
	mu1 := randomVec(rng, d)
	mu2 := append([]float64(nil), mu1...)
	for i, v := range randomVec(rng, d) {
		mu2[i] += 0.3 * v
	}
	c1, c2 := randomSPD(rng, d), randomSPD(rng, d)
	want, err := FIDFromStats(Stats{Mean: mu1, Cov: c1}, Stats{Mean: mu2, Cov: c2})
	if err != nil {
		t.Fatal(err)
	}
	const n = 40000
	got, err := FID(sampleGaussian(rng, n, mu1, c1), sampleGaussian(rng, n, mu2, c2))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("n=%d: FID %.4f, analytic %.4f", n, got, want)
	if math.Abs(got-want) > 0.03*want {
		t.Errorf("n=%d: FID %.4f, analytic %.4f (error %.2f%%)", n, got, want, 100*math.Abs(got-want)/want)
	}
	// Two sample sets of one Gaussian: FID near 0 (its bias is O(d²/n)).
	same, err := FID(sampleGaussian(rng, 20000, mu1, c1), sampleGaussian(rng, 20000, mu1, c1))
	if err != nil || same > 0.01 {
		t.Fatalf("FID of two samples of one Gaussian = %v (err %v), want about 0", same, err)
	}
}

func TestComputeStatsMatchesNaiveLoops(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	x := make([][]float64, 9)
	for i := range x {
		x[i] = randomVec(rng, 4)
	}
	s, err := ComputeStats(x)
	if err != nil {
		t.Fatal(err)
	}
	for j := range 4 {
		var m float64
		for i := range x {
			m += x[i][j]
		}
		m /= 9
		if !closeTo(s.Mean[j], m, 1e-12) {
			t.Errorf("mean[%d] = %v, want %v", j, s.Mean[j], m)
		}
	}
	for a := range 4 {
		for b := range 4 {
			var c float64
			for i := range x {
				c += (x[i][a] - s.Mean[a]) * (x[i][b] - s.Mean[b])
			}
			c /= 8 // unbiased
			if !closeTo(s.Cov.At(a, b), c, 1e-12) {
				t.Errorf("cov[%d,%d] = %v, want %v", a, b, s.Cov.At(a, b), c)
			}
		}
	}
}

// Fewer samples than dimensions give singular covariances whose computed
// eigenvalues straddle zero; the clamping keeps FID finite and near 0 for a
// set against itself.
func TestFIDOfRankDeficientCovariances(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 6))
	x := make([][]float64, 6)
	for i := range x {
		x[i] = randomVec(rng, 30)
	}
	got, err := FID(x, x)
	if err != nil || math.IsNaN(got) || got > 1e-6 {
		t.Fatalf("FID(x, x) = %v (err %v), want about 0", got, err)
	}
	y := make([][]float64, 6)
	for i := range y {
		y[i] = randomVec(rng, 30)
	}
	ab, err1 := FID(x, y)
	ba, err2 := FID(y, x)
	if err1 != nil || err2 != nil || !closeTo(ab, ba, 1e-8) || ab <= 0 {
		t.Fatalf("FID(x, y) = %v, FID(y, x) = %v (errors %v, %v): want equal and positive", ab, ba, err1, err2)
	}
}

func TestSqrtPSDSquaresBack(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	s := randomSPD(rng, 12)
	r, err := SqrtPSD(s)
	if err != nil {
		t.Fatal(err)
	}
	var sq mat.Dense
	sq.Mul(r, r)
	if !mat.EqualApprox(&sq, s, 1e-10) {
		t.Fatal("SqrtPSD(S)² != S")
	}
}

func TestFIDRejectsBadInput(t *testing.T) {
	ok := [][]float64{{1, 2}, {3, 4}, {0, 1}}
	for name, c := range map[string][2][][]float64{
		"one sample":       {{{1, 2}}, ok},
		"ragged rows":      {{{1, 2}, {3}}, ok},
		"dimension 0":      {{{}, {}}, ok},
		"mismatched dims":  {{{1, 2, 3}, {4, 5, 6}}, ok},
		"NaN feature":      {{{1, math.NaN()}, {3, 4}}, ok},
		"second set empty": {ok, nil},
	} {
		if _, err := FID(c[0], c[1]); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestRows(t *testing.T) {
	x := tensor.New([]float32{1, 2, 3, 4, 5, 6}, 2, 3)
	r := Rows(x.Transpose(0, 1).Contiguous().Transpose(0, 1)) // a strided view of the same values
	if len(r) != 2 || r[1][2] != 6 || r[0][1] != 2 {
		t.Fatalf("Rows = %v", r)
	}
}

// TensorStats agrees with ComputeStats on the same rows, for a count of
// rows past several chunks and not a multiple of one.
func TestTensorStatsMatchesComputeStats(t *testing.T) {
	const n, d = 2*statsChunk + 77, 6
	rng := tensor.NewRNG(3)
	x := tensor.Add(rng.Normal(n, d), tensor.Full(0.5, n, d))
	want, err := ComputeStats(Rows(x))
	if err != nil {
		t.Fatal(err)
	}
	got, err := TensorStats(x)
	if err != nil {
		t.Fatal(err)
	}
	if got.N != n {
		t.Fatalf("N = %d", got.N)
	}
	for i := range d {
		if math.Abs(got.Mean[i]-want.Mean[i]) > 1e-12 {
			t.Fatalf("mean[%d] = %v, want %v", i, got.Mean[i], want.Mean[i])
		}
		for j := range d {
			if math.Abs(got.Cov.At(i, j)-want.Cov.At(i, j)) > 1e-12 {
				t.Fatalf("cov[%d,%d] = %v, want %v", i, j, got.Cov.At(i, j), want.Cov.At(i, j))
			}
		}
	}
	bad := x.Clone()
	bad.Data()[5*d+2] = float32(math.NaN())
	for _, c := range []*tensor.Tensor{tensor.Zeros(1, d), tensor.Zeros(4), bad} {
		if _, err := TensorStats(c); err == nil {
			t.Errorf("TensorStats of %v accepted", c.Shape())
		}
	}
}
