package tensor

import "github.com/lafite-go/lafite/kernels/cuda"

// NormalOn draws N(0,1) samples on dev. The numbers are those Normal draws
// for the same state on the host (philox.cu's rng_normal_f32 follows
// kernels/cpu), and the counter advances alike, so a seeded run draws the same
// noise on either device.
func (r *RNG) NormalOn(dev Device, shape ...int) *Tensor {
	if dev != CUDA {
		return r.Normal(shape...)
	}
	t := EmptyOn(CUDA, shape...)
	n := t.Numel()
	if n > 0 {
		g := theGPU()
		g.launch("philox.cu", "rng_normal_f32", g.grid1(int64((n+1)/2)), cuda.D1(256), 0,
			int64(n), r.seed, r.counter, t.ptr())
	}
	r.counter += uint64((n + 1) / 2)
	return t
}

// UniformOn draws samples in [lo, hi) on dev, the same numbers as Uniform.
func (r *RNG) UniformOn(dev Device, lo, hi float32, shape ...int) *Tensor {
	if dev != CUDA {
		return r.Uniform(lo, hi, shape...)
	}
	t := EmptyOn(CUDA, shape...)
	n := t.Numel()
	if n > 0 {
		g := theGPU()
		g.launch("philox.cu", "rng_uniform_f32", g.grid1(int64((n+3)/4)), cuda.D1(256), 0,
			int64(n), r.seed, r.counter, lo, hi, t.ptr())
	}
	r.counter += uint64((n + 3) / 4)
	return t
}
