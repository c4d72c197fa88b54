package autograd

import (
	"fmt"
	"math"
	"testing"

	"github.com/lafite-go/lafite/tensor"
)

// naiveContra computes the per-row result in float64 from the definition.
func naiveContra(a, b *tensor.Tensor, temp, lam float64, plain bool) []float64 {
	n, m, d := a.Size(0), b.Size(0), a.Size(1)
	l := make([][]float64, n)
	for i := range l {
		l[i] = make([]float64, m)
		for j := range l[i] {
			var dot, na, nb float64
			for k := 0; k < d; k++ {
				x, y := float64(a.At(i, k)), float64(b.At(j, k))
				dot, na, nb = dot+x*y, na+x*x, nb+y*y
			}
			s := dot / (math.Sqrt(na) * math.Sqrt(nb))
			if plain {
				l[i][j] = s / temp
			} else {
				l[i][j] = math.Exp(s / temp)
			}
		}
	}
	out := make([]float64, min(n, m))
	for i := range out {
		var row, col float64
		for j := 0; j < m; j++ {
			row += math.Exp(l[i][j])
		}
		for j := 0; j < n; j++ {
			col += math.Exp(l[j][i])
		}
		r1 := math.Log(temp * math.Exp(l[i][i]) / row)
		r0 := math.Log(temp * math.Exp(l[i][i]) / col)
		switch {
		case lam > 0 && lam < 1:
			out[i] = lam*r1 + (1-lam)*r0
		case lam == 0:
			out[i] = r0
		default:
			out[i] = r1
		}
	}
	return out
}

func TestContraLossForward(t *testing.T) {
	rng := tensor.NewRNG(51)
	for _, shapes := range [][2][]int{{{5, 6}, {5, 6}}, {{3, 4}, {5, 4}}, {{5, 4}, {3, 4}}} {
		a, b := rng.Normal(shapes[0]...), rng.Normal(shapes[1]...)
		for _, plain := range []bool{false, true} {
			for _, lam := range []float32{0, 0.3, 1} {
				got := ContraLoss(Const(a), Const(b), 0.5, lam, plain).Value.ToSlice()
				want := naiveContra(a, b, 0.5, float64(lam), plain)
				if len(got) != len(want) {
					t.Fatalf("%v: %d values, want %d", shapes, len(got), len(want))
				}
				for i := range want {
					if math.Abs(float64(got[i])-want[i]) > 1e-5 {
						t.Fatalf("%v plain=%v lam=%v: loss[%d] = %v, want %v", shapes, plain, lam, i, got[i], want[i])
					}
				}
			}
		}
	}
	// temp <= 0 returns the cosine similarities of matching rows.
	a := tensor.New([]float32{1, 0, 3, 4}, 2, 2)
	got := ContraLoss(Const(a), Const(a), 0, 0, false).Value.ToSlice()
	if math.Abs(float64(got[0])-1) > 1e-6 || math.Abs(float64(got[1])-1) > 1e-6 {
		t.Fatalf("diag of self-similarity = %v, want [1 1]", got)
	}
}

func TestContraLossGradients(t *testing.T) {
	var cases []gradCase
	for _, plain := range []bool{false, true} {
		for _, lam := range []float32{0, 0.5, 1} {
			cases = append(cases, gradCase{
				name:   fmt.Sprintf("plain%v_lam%v", plain, lam),
				f:      bin(func(a, b *Var) *Var { return ContraLoss(a, b, 0.5, lam, plain) }),
				shapes: [][]int{{5, 6}, {5, 6}}, second: true,
			})
		}
	}
	cases = append(cases,
		gradCase{name: "nonsquare", f: bin(func(a, b *Var) *Var { return ContraLoss(a, b, 0.7, 0.25, false) }),
			shapes: [][]int{{3, 4}, {5, 4}}, second: true},
		gradCase{name: "cosine_only", f: bin(func(a, b *Var) *Var { return ContraLoss(a, b, 0, 0, false) }),
			shapes: [][]int{{4, 3}, {4, 3}}, second: true},
	)
	runGradCases(t, cases)
}
