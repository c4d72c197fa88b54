package cpu

import (
	"math"
	"sync"
)

// biasActKernels are the vector rows of the piecewise-linear bias_act
// activations (linear, relu, lrelu); the smooth ones stay on the reference.
// fwd and grad handle a multiple of their block, contiguous.
type biasActKernels struct {
	fwdBlock, gradBlock int
	fwd                 func(y, x *float32, n int, bias, slope, gain, lo, hi float32)
	grad                func(dx, dy, x *float32, n int, bias, slope, gain, lo, hi float32)
}

// biasActJob is one bias_act call split by rows between the workers; pooled
// so the split does not allocate.
type biasActJob struct {
	k       *biasActKernels
	grad    bool
	y, x, b []float32 // forward: y = f(x + b); gradient: y is dx
	dy      []float32
	c       BiasActConfig
	// inPlaceGrad: dx shares dy's storage, so the short rows cannot stage
	// the biased values in dx.
	inPlaceGrad bool
	slope       float32
	lo, hi      float32
}

var biasActJobs = sync.Pool{New: func() any { return new(biasActJob) }}

func (j *biasActJob) runRange(r0, r1 int) {
	inner := j.c.Inner
	block := j.k.fwdBlock
	if j.grad {
		block = j.k.gradBlock
	}
	if inner < 2*block && !j.inPlaceGrad {
		j.runShortRows(r0, r1)
		return
	}
	for r := r0; r < r1; r++ {
		var bias float32
		if j.b != nil {
			bias = j.b[r%j.c.Channels]
		}
		lo, hi := r*inner, (r+1)*inner
		if j.grad {
			m := inner / j.k.gradBlock * j.k.gradBlock
			if m > 0 {
				j.k.grad(&j.y[lo], &j.dy[lo], &j.x[lo], m, bias, j.slope, j.c.Gain, j.lo, j.hi)
			}
			biasLreluGradScalar(j.y[lo+m:hi], j.dy[lo+m:hi], j.x[lo+m:hi], bias, j.slope, j.c.Gain, j.lo, j.hi)
			continue
		}
		m := inner / j.k.fwdBlock * j.k.fwdBlock
		if m > 0 {
			j.k.fwd(&j.y[lo], &j.x[lo], m, bias, j.slope, j.c.Gain, j.lo, j.hi)
		}
		biasLreluScalar(j.y[lo+m:hi], j.x[lo+m:hi], bias, j.slope, j.c.Gain, j.lo, j.hi)
	}
}

// runShortRows runs rows too short for the vector kernels to take much of
// them alone (4x4 planes, a fully connected layer's one value per channel,
// where the scalar loop's branch on the sign missed half the time): the
// biased values are written first, branch-free, then the kernel takes
// the whole range as one row with bias -0, which adds exactly nothing
// (s + -0 = s for every s, -0 included), so every output keeps its bits.
// The gradient writes the biased values into dx and reads them from there.
func (j *biasActJob) runShortRows(r0, r1 int) {
	lo, hi := r0*j.c.Inner, r1*j.c.Inner
	x, bias := j.x, float32(0) // no bias: the loop's v + 0
	if j.b != nil {
		j.writeBiased(r0, r1)
		x, bias = j.y, float32(math.Copysign(0, -1))
	}
	if j.grad {
		m := (hi - lo) / j.k.gradBlock * j.k.gradBlock
		if m > 0 {
			j.k.grad(&j.y[lo], &j.dy[lo], &x[lo], m, bias, j.slope, j.c.Gain, j.lo, j.hi)
		}
		biasLreluGradScalar(j.y[lo+m:hi], j.dy[lo+m:hi], x[lo+m:hi], bias, j.slope, j.c.Gain, j.lo, j.hi)
		return
	}
	m := (hi - lo) / j.k.fwdBlock * j.k.fwdBlock
	if m > 0 {
		j.k.fwd(&j.y[lo], &x[lo], m, bias, j.slope, j.c.Gain, j.lo, j.hi)
	}
	biasLreluScalar(j.y[lo+m:hi], x[lo+m:hi], bias, j.slope, j.c.Gain, j.lo, j.hi)
}

// writeBiased sets y = x + b over rows [r0, r1), b broadcast over each
// row (a run of channels at a time when rows are single values).
func (j *biasActJob) writeBiased(r0, r1 int) {
	inner, channels := j.c.Inner, j.c.Channels
	if inner == 1 {
		for r := r0; r < r1; {
			c := r % channels
			n := min(channels-c, r1-r)
			x, s, b := j.x[r:r+n], j.y[r:r+n], j.b[c:c+n]
			for i, v := range x {
				s[i] = v + b[i]
			}
			r += n
		}
		return
	}
	for r := r0; r < r1; r++ {
		b := j.b[r%channels]
		x, s := j.x[r*inner:(r+1)*inner], j.y[r*inner:(r+1)*inner]
		for i, v := range x {
			s[i] = v + b
		}
	}
}

// biasLreluScalar and biasLreluGradScalar are BiasActRef's and
// BiasActGradRef's piecewise-linear loops, for the rows' tails.
func biasLreluScalar(y, x []float32, bias, slope, gain, lo, hi float32) {
	y = y[:len(x)]
	for i, v := range x {
		s := v + bias
		if !(s > 0) {
			s *= slope
		}
		s *= gain
		if s < lo {
			s = lo
		} else if s > hi {
			s = hi
		}
		y[i] = s
	}
}

func biasLreluGradScalar(dx, dy, x []float32, bias, slope, gain, lo, hi float32) {
	dx, dy = dx[:len(x)], dy[:len(x)]
	for i, v := range x {
		s := v + bias
		k := float32(1)
		if !(s > 0) {
			k = slope
		}
		if v := s * k * gain; !(v >= lo && v <= hi) {
			dx[i] = 0
			continue
		}
		dx[i] = dy[i] * gain * k
	}
}

func (k *biasActKernels) run(grad bool, y, dy, x, b []float32, c BiasActConfig) {
	total := c.Outer * c.Channels * c.Inner
	j := biasActJobs.Get().(*biasActJob)
	j.k, j.grad, j.c = k, grad, c
	// Slicing to the full extent checks the bounds the assembly will not.
	j.y, j.x = y[:total], x[:total]
	if grad {
		j.dy = dy[:total]
		j.inPlaceGrad = total > 0 && &y[0] == &dy[0]
	}
	if b != nil {
		j.b = b[:c.Channels]
	}
	j.slope = biasActSlope(c)
	j.lo, j.hi = clampBounds(c.Clamp)
	parallelRange(c.Outer*c.Channels, c.Inner*minGrain/vecParallelElems, j)
	*j = biasActJob{}
	biasActJobs.Put(j)
}

func (k *biasActKernels) biasAct(y, x, b []float32, c BiasActConfig) {
	switch c.Kind {
	case BiasActLinear, BiasActRelu, BiasActLrelu:
		k.run(false, y, nil, x, b, c)
	default:
		BiasActRef(y, x, b, c)
	}
}

func (k *biasActKernels) biasActGrad(dx, dy, x, b []float32, c BiasActConfig) {
	switch c.Kind {
	case BiasActLinear, BiasActRelu, BiasActLrelu:
		k.run(true, dx, dy, x, b, c)
	default:
		BiasActGradRef(dx, dy, x, b, c)
	}
}
