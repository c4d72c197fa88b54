package metrics

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/stat"

	"github.com/lafite-go/lafite/tensor"
)

// Stats are the first two moments of a set of feature vectors: the mean and
// the unbiased covariance (divided by N-1), as FID's reference computes them
// (numpy.cov with rowvar=False).
type Stats struct {
	Mean []float64
	Cov  *mat.SymDense
	N    int
}

// ComputeStats returns the mean and unbiased covariance of the rows of x
// (N samples of dimension D); it needs N >= 2 rows of equal length.
func ComputeStats(x [][]float64) (Stats, error) {
	if len(x) < 2 {
		return Stats{}, fmt.Errorf("metrics: %d samples, need at least 2 for a covariance", len(x))
	}
	d := len(x[0])
	if d == 0 {
		return Stats{}, errors.New("metrics: samples have dimension 0")
	}
	data := make([]float64, 0, len(x)*d)
	for i, row := range x {
		if len(row) != d {
			return Stats{}, fmt.Errorf("metrics: sample %d has dimension %d, sample 0 has %d", i, len(row), d)
		}
		for j, v := range row {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return Stats{}, fmt.Errorf("metrics: sample %d feature %d is %v", i, j, v)
			}
		}
		data = append(data, row...)
	}
	m := mat.NewDense(len(x), d, data)
	mean := make([]float64, d)
	for j := range d {
		mean[j] = stat.Mean(mat.Col(nil, j, m), nil)
	}
	var cov mat.SymDense
	stat.CovarianceMatrix(&cov, m, nil)
	return Stats{Mean: mean, Cov: &cov, N: len(x)}, nil
}

// FID is the Fréchet distance between Gaussians fitted to the rows of a and b:
// |μa-μb|² + Tr(Σa) + Tr(Σb) - 2·Tr((ΣaΣb)^½).
func FID(a, b [][]float64) (float64, error) {
	sa, err := ComputeStats(a)
	if err != nil {
		return 0, fmt.Errorf("first set: %w", err)
	}
	sb, err := ComputeStats(b)
	if err != nil {
		return 0, fmt.Errorf("second set: %w", err)
	}
	return FIDFromStats(sa, sb)
}

// FIDFromStats is FID from precomputed moments (e.g. cached for real images).
func FIDFromStats(a, b Stats) (float64, error) {
	d := len(a.Mean)
	if len(b.Mean) != d || a.Cov == nil || b.Cov == nil || a.Cov.SymmetricDim() != d || b.Cov.SymmetricDim() != d {
		return 0, fmt.Errorf("metrics: FID of statistics of dimensions %d and %d", d, len(b.Mean))
	}
	var meanTerm float64
	for i := range d {
		diff := a.Mean[i] - b.Mean[i]
		meanTerm += diff * diff
	}
	cross, err := TraceSqrtProduct(a.Cov, b.Cov)
	if err != nil {
		return 0, err
	}
	fid := meanTerm + mat.Trace(a.Cov) + mat.Trace(b.Cov) - 2*cross
	// The true value is >= 0; rounding can leave a tiny negative number.
	return math.Max(fid, 0), nil
}

// TraceSqrtProduct is Tr((Σ1Σ2)^½) for symmetric positive semi-definite Σ1,
// Σ2. Σ1Σ2 is not symmetric, but it is similar to the symmetric PSD matrix
// Σ1^½ Σ2 Σ1^½ (same eigenvalues), so the trace is Σ √λ over that matrix's
// eigenvalues, found with symmetric eigensolvers only. Eigenvalues that
// rounding pushes slightly below zero (rank-deficient covariances, e.g. fewer
// samples than dimensions) are clamped to zero.
func TraceSqrtProduct(s1, s2 mat.Symmetric) (float64, error) {
	d := s1.SymmetricDim()
	if s2.SymmetricDim() != d {
		return 0, fmt.Errorf("metrics: covariances of dimensions %d and %d", d, s2.SymmetricDim())
	}
	root, err := SqrtPSD(s1)
	if err != nil {
		return 0, err
	}
	var t, m mat.Dense
	t.Mul(root, s2)
	m.Mul(&t, root)
	sym := mat.NewSymDense(d, nil)
	for i := range d {
		for j := i; j < d; j++ {
			sym.SetSym(i, j, (m.At(i, j)+m.At(j, i))/2)
		}
	}
	var eig mat.EigenSym
	if !eig.Factorize(sym, false) {
		return 0, errors.New("metrics: eigen-decomposition of Σ1^½ Σ2 Σ1^½ did not converge")
	}
	var tr float64
	for _, l := range eig.Values(nil) {
		tr += math.Sqrt(math.Max(l, 0))
	}
	if math.IsNaN(tr) {
		return 0, errors.New("metrics: covariance holds NaN")
	}
	return tr, nil
}

// SqrtPSD is the symmetric square root V·diag(√max(λ,0))·Vᵀ of a symmetric
// positive semi-definite matrix with eigen-decomposition V·diag(λ)·Vᵀ.
func SqrtPSD(s mat.Symmetric) (*mat.SymDense, error) {
	d := s.SymmetricDim()
	var eig mat.EigenSym
	if !eig.Factorize(s, true) {
		return nil, errors.New("metrics: eigen-decomposition of a covariance did not converge")
	}
	vals := eig.Values(nil)
	var w mat.Dense
	eig.VectorsTo(&w)
	// W = V·diag(λ^¼) gives W·Wᵀ = V·diag(√λ)·Vᵀ as one symmetric product.
	for k, l := range vals {
		q := math.Sqrt(math.Sqrt(math.Max(l, 0)))
		for i := range d {
			w.Set(i, k, w.At(i, k)*q)
		}
	}
	root := mat.NewSymDense(d, nil)
	root.SymOuterK(1, &w)
	return root, nil
}

// Rows converts an [N, D] tensor (e.g. judge features) to N float64 rows.
func Rows(x *tensor.Tensor) [][]float64 {
	if x.Dim() != 2 {
		panic(fmt.Sprintf("metrics.Rows: x has shape %v, want [N, D]", x.Shape()))
	}
	n, d := x.Size(0), x.Size(1)
	data := x.Contiguous().Data()
	rows := make([][]float64, n)
	for i := range rows {
		rows[i] = make([]float64, d)
		for j := range d {
			rows[i][j] = float64(data[i*d+j])
		}
	}
	return rows
}
