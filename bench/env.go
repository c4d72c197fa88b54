package bench

import "github.com/lafite-go/lafite/tensor"

// env is where a workload's setup puts its data: the device, and a divisor
// of its sizes (1: the named workload; more for tests of the GPU wiring
// against the kernel emulator, whose kernels are plain loops).
type env struct {
	dev    tensor.Device
	shrink int
}

var cpuEnv = env{dev: tensor.CPU, shrink: 1}

// size divides a size by the shrink factor, keeping at least lo.
func (e env) size(v, lo int) int {
	if e.shrink <= 1 {
		return v
	}
	return max(lo, v/e.shrink)
}

// normal draws N(0,1) values on the env's device.
func (e env) normal(rng *tensor.RNG, shape ...int) *tensor.Tensor {
	return rng.NormalOn(e.dev, shape...)
}

// setupFunc is a workload setup for any env.
type setupFunc func(e env) (run func(), flops, bytes float64)

// onCPU and onGPU adapt a setupFunc to Workload.Setup and Workload.GPU.
func onCPU(f setupFunc) func() (func(), float64, float64) {
	return func() (func(), float64, float64) { return f(cpuEnv) }
}

func onGPU(f setupFunc) func(int) (func(), float64, float64) {
	return func(shrink int) (func(), float64, float64) { return f(env{dev: tensor.CUDA, shrink: max(shrink, 1)}) }
}
