package tensor

import "github.com/lafite-go/lafite/kernels/cpu"

// RNG is a seeded counter-based generator (Philox4x32-10). Its whole state is
// (seed, counter), so it can be saved in a checkpoint and restored exactly, and
// the numbers of a draw do not depend on how the work is split across cores.
type RNG struct {
	seed    uint64
	counter uint64
}

// NewRNG returns a generator for seed.
func NewRNG(seed uint64) *RNG { return &RNG{seed: seed} }

// State returns (seed, counter) for checkpointing.
func (r *RNG) State() (seed, counter uint64) { return r.seed, r.counter }

// SetState restores a state returned by State.
func (r *RNG) SetState(seed, counter uint64) { r.seed, r.counter = seed, counter }

// Normal draws N(0,1) samples.
func (r *RNG) Normal(shape ...int) *Tensor {
	t := Empty(shape...)
	n := t.Numel()
	cpu.FillNormal(t.storage.data[:n], r.seed, r.counter)
	r.counter += uint64((n + 1) / 2)
	return t
}

// Uniform draws samples in [lo, hi).
func (r *RNG) Uniform(lo, hi float32, shape ...int) *Tensor {
	t := Empty(shape...)
	n := t.Numel()
	cpu.FillUniform(t.storage.data[:n], lo, hi, r.seed, r.counter)
	r.counter += uint64((n + 3) / 4)
	return t
}

// Float64 returns one uniform sample in [0, 1) for host-side decisions.
func (r *RNG) Float64() float64 {
	return float64(r.Uniform(0, 1, 1).storage.data[0])
}

// Intn returns a uniform integer in [0, n).
func (r *RNG) Intn(n int) int {
	v := int(r.Float64() * float64(n))
	return min(v, n-1)
}

// Split derives an independent generator, e.g. one per data-loader worker.
func (r *RNG) Split() *RNG {
	b := cpu.Philox([4]uint32{uint32(r.counter), uint32(r.counter >> 32), 0xA5A5A5A5, 0}, [2]uint32{uint32(r.seed), uint32(r.seed >> 32)})
	r.counter++
	return NewRNG(uint64(b[0]) | uint64(b[1])<<32)
}
