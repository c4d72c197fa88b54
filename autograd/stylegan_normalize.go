package autograd

// Normalize2ndMoment is y = x·rsqrt(mean(x², dim) + eps), the mapping
// network's input normalisation (eps 1e-8 in the reference).
func Normalize2ndMoment(x *Var, dim int, eps float32) *Var {
	return Mul(x, Rsqrt(AddScalar(Mean(Square(x), []int{dim}, true), eps)))
}
