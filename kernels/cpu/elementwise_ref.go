package cpu

import "math"

// UnaryOp names an elementwise function of one argument.
type UnaryOp int

const (
	OpNeg UnaryOp = iota
	OpExp
	OpLog
	OpSqrt
	OpRsqrt
	OpAbs
	OpSign
	OpSquare
	OpRelu
	OpSigmoid
	OpTanh
	OpSoftplus
	OpGeluErf
	OpGeluTanh
	OpQuickGelu
	OpPowScalar // x^p
	OpAddScalar // x + p
	OpMulScalar // x * p
	OpLeakyRelu // x>0 ? x : p*x
	OpRecip     // 1/x
	OpStep      // x>0 ? 1 : 0
	OpCos
	OpSin
	OpErf
	OpRsubScalar // p - x
	OpFloor
)

func sigmoid64(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}

// unaryScalar evaluates op at x in float64 for accuracy; results are rounded
// once to float32.
func unaryScalar(op UnaryOp, x, p float64) float64 {
	switch op {
	case OpNeg:
		return -x
	case OpExp:
		return math.Exp(x)
	case OpLog:
		return math.Log(x)
	case OpSqrt:
		return math.Sqrt(x)
	case OpRsqrt:
		return 1 / math.Sqrt(x)
	case OpAbs:
		return math.Abs(x)
	case OpSign:
		switch {
		case x > 0:
			return 1
		case x < 0:
			return -1
		}
		return 0
	case OpSquare:
		return x * x
	case OpRelu:
		if x > 0 {
			return x
		}
		return 0
	case OpSigmoid:
		return sigmoid64(x)
	case OpTanh:
		return math.Tanh(x)
	case OpSoftplus:
		// log(1+e^x) without overflow, matching torch's threshold of 20.
		if x > 20 {
			return x
		}
		return math.Log1p(math.Exp(x))
	case OpGeluErf:
		return 0.5 * x * (1 + math.Erf(x/math.Sqrt2))
	case OpGeluTanh:
		const c = 0.7978845608028654 // sqrt(2/pi)
		return 0.5 * x * (1 + math.Tanh(c*(x+0.044715*x*x*x)))
	case OpQuickGelu:
		return x * sigmoid64(1.702*x)
	case OpPowScalar:
		return math.Pow(x, p)
	case OpAddScalar:
		return x + p
	case OpMulScalar:
		return x * p
	case OpLeakyRelu:
		if x > 0 {
			return x
		}
		return p * x
	case OpRecip:
		return 1 / x
	case OpStep:
		if x > 0 {
			return 1
		}
		return 0
	case OpCos:
		return math.Cos(x)
	case OpSin:
		return math.Sin(x)
	case OpErf:
		return math.Erf(x)
	case OpRsubScalar:
		return p - x
	case OpFloor:
		return math.Floor(x)
	}
	panic("cpu: unknown unary op")
}

// UnaryRef applies op to n elements: dst[d+i*ds] = op(x[a+i*as], p).
func UnaryRef(op UnaryOp, p float32, n int, dst []float32, d, ds int, x []float32, a, as int) {
	pp := float64(p)
	for i := 0; i < n; i++ {
		dst[d+i*ds] = float32(unaryScalar(op, float64(x[a+i*as]), pp))
	}
}

// BinaryOp names an elementwise function of two arguments.
type BinaryOp int

const (
	OpAdd BinaryOp = iota
	OpSub
	OpMul
	OpDiv
	OpMaximum
	OpMinimum
	OpPow
	OpGreater
	OpGreaterEqual
	OpLess
	OpLessEqual
	OpEqual
	OpNotEqual
	OpAtan2
)

func binaryScalar(op BinaryOp, a, b float32) float32 {
	switch op {
	case OpAdd:
		return a + b
	case OpSub:
		return a - b
	case OpMul:
		return a * b
	case OpDiv:
		return a / b
	case OpMaximum: // NaN propagates, as in torch.maximum
		if a != a || b != b {
			return float32(math.NaN())
		}
		return max(a, b)
	case OpMinimum:
		if a != a || b != b {
			return float32(math.NaN())
		}
		return min(a, b)
	case OpPow:
		return float32(math.Pow(float64(a), float64(b)))
	case OpGreater:
		return b2f(a > b)
	case OpGreaterEqual:
		return b2f(a >= b)
	case OpLess:
		return b2f(a < b)
	case OpLessEqual:
		return b2f(a <= b)
	case OpEqual:
		return b2f(a == b)
	case OpNotEqual:
		return b2f(a != b)
	case OpAtan2:
		return float32(math.Atan2(float64(a), float64(b)))
	}
	panic("cpu: unknown binary op")
}

func b2f(b bool) float32 {
	if b {
		return 1
	}
	return 0
}

// BinaryRef computes dst[d+i*ds] = op(a[ao+i*as], b[bo+i*bs]) for i < n.
// Strides may be 0 (broadcast).
func BinaryRef(op BinaryOp, n int, dst []float32, d, ds int, a []float32, ao, as int, b []float32, bo, bs int) {
	switch op { // the common cases get tight loops
	case OpAdd:
		for i := 0; i < n; i++ {
			dst[d+i*ds] = a[ao+i*as] + b[bo+i*bs]
		}
	case OpMul:
		for i := 0; i < n; i++ {
			dst[d+i*ds] = a[ao+i*as] * b[bo+i*bs]
		}
	default:
		for i := 0; i < n; i++ {
			dst[d+i*ds] = binaryScalar(op, a[ao+i*as], b[bo+i*bs])
		}
	}
}

// WhereRef computes dst = cond != 0 ? a : b elementwise.
func WhereRef(n int, dst []float32, d, ds int, c []float32, co, cs int, a []float32, ao, as int, b []float32, bo, bs int) {
	for i := 0; i < n; i++ {
		if c[co+i*cs] != 0 {
			dst[d+i*ds] = a[ao+i*as]
		} else {
			dst[d+i*ds] = b[bo+i*bs]
		}
	}
}

// Dispatch points: SIMD variants replace these at start-up.
var (
	Unary  = UnaryRef
	Binary = BinaryRef
)
