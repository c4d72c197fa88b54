package autograd

import (
	"fmt"

	"github.com/lafite-go/lafite/tensor"
)

// ContraLoss is Lafite's contrastive term between rows of mat1 [n, d] and
// mat2 [m, d], per row i < min(n, m):
// S = cos(mat1_i, mat2_j) (norms clamped at 1e-8), L = exp(S/temp) (plain:
// L = S/temp), r1 = temp·diag(softmax(L, dim 1)), r0 = temp·diag(softmax(L,
// dim 0)); it returns log r0 for lam = 0, lam·log r1 + (1−lam)·log r0 for
// 0 < lam < 1, and log r1 otherwise (diag(S) when temp <= 0). Callers subtract
// itd or itc · mean(result) from their losses.
//
// plain=false is the reference's form (its exp(S/temp) is soft-maxed again:
// "exponential sharpening", which Lafite's released hyper-parameters were
// tuned with and the golden files follow); plain=true is the paper's
// softmax(S/temp), the code comment's "correct implementation".
func ContraLoss(mat1, mat2 *Var, temp, lam float32, plain bool) *Var {
	if mat1.Dim() != 2 || mat2.Dim() != 2 || mat1.Size(1) != mat2.Size(1) {
		panic(fmt.Sprintf("autograd.ContraLoss: mat1 %v and mat2 %v must be [n, d] and [m, d]", mat1.Shape(), mat2.Shape()))
	}
	sim := Matmul(contraUnitRows(mat1), Transpose(contraUnitRows(mat2), 0, 1))
	if temp <= 0 {
		return contraDiag(sim)
	}
	logits := Div(sim, Scalar(temp))
	if !plain {
		logits = Exp(logits)
	}
	logR1 := func() *Var { return Log(MulScalar(contraDiag(contraSoftmax(logits, 1)), temp)) }
	logR0 := func() *Var { return Log(MulScalar(contraDiag(contraSoftmax(logits, 0)), temp)) }
	switch {
	case lam > 0 && lam < 1:
		return Add(MulScalar(logR1(), lam), MulScalar(logR0(), 1-lam))
	case lam == 0:
		return logR0()
	}
	return logR1()
}

// contraUnitRows is x / max(‖x‖, 1e-8) per row, as torch.cosine_similarity
// normalises its operands.
func contraUnitRows(x *Var) *Var {
	norm := Sqrt(Sum(Square(x), []int{1}, true))
	return Div(x, Maximum(norm, Scalar(1e-8)))
}

// contraDiag returns the main diagonal of a 2-D x (min(n, m) entries).
func contraDiag(x *Var) *Var {
	n, m := x.Size(0), x.Size(1)
	k := min(n, m)
	return Slice(Reshape(x, n*m), 0, 0, (k-1)*(m+1)+1, m+1)
}

// contraSoftmax is exp(x − max)/Σexp(x − max) along dim. The max is a
// constant: softmax does not change under a shift, so the gradient is exact.
func contraSoftmax(x *Var, dim int) *Var {
	e := Exp(Sub(x, Const(tensor.Max(x.Value, []int{dim}, true))))
	return Div(e, Sum(e, []int{dim}, true))
}
