package tensor

import (
	"math"
	"testing"

	"github.com/lafite-go/lafite/kernels/cuda/hostsim"
)

// poolsMatchHost runs both pools on the CUDA backend in use and on the
// host: the same bits (one window order, plain adds), on the Inception
// geometries and odd ones, a NaN and -0 included, the input a strided
// view.
func poolsMatchHost(t *testing.T) {
	t.Helper()
	rng := NewRNG(31)
	f0 := CUDAFallbackTotal()
	for _, c := range []struct{ n, ch, h, w, k, s, p int }{
		{2, 3, 35, 35, 3, 1, 1}, {2, 4, 71, 71, 3, 2, 0}, {1, 2, 8, 8, 3, 1, 1}, {3, 1, 7, 5, 2, 2, 1}, {1, 1, 1, 1, 1, 1, 0},
	} {
		full := rng.Normal(c.n, c.ch, c.h, c.w+3)
		d := full.Data()
		if len(d) > 9 {
			d[5], d[9] = float32(math.NaN()), float32(math.Copysign(0, -1))
		}
		x := full.Narrow(3, 2, c.w) // not contiguous
		for _, op := range []struct {
			name string
			f    func(*Tensor) *Tensor
		}{
			{"avg", func(x *Tensor) *Tensor { return AvgPool2d(x, c.k, c.k, c.s, c.s, c.p, c.p, false) }},
			{"avg incl", func(x *Tensor) *Tensor { return AvgPool2d(x, c.k, c.k, c.s, c.s, c.p, c.p, true) }},
			{"max", func(x *Tensor) *Tensor { return MaxPool2d(x, c.k, c.k, c.s, c.s, c.p, c.p) }},
		} {
			want := op.f(x).Data()
			got := op.f(x.To(CUDA)).To(CPU).Data()
			for i := range want {
				same := math.Float32bits(got[i]) == math.Float32bits(want[i]) || got[i] != got[i] && want[i] != want[i]
				if !same {
					t.Fatalf("%s pool %+v: output %d = %v on the GPU, %v on the host", op.name, c, i, got[i], want[i])
				}
			}
		}
	}
	if n := CUDAFallbackTotal() - f0; n != 0 {
		t.Fatalf("%d host fallbacks: %v", n, CUDAFallbacks())
	}
}

func TestPoolsOnEmulatedGPU(t *testing.T) {
	_, restore := useEmulator()
	defer restore()
	poolsMatchHost(t)
}

// TestPoolsOnHostSimulatedGPU: pool.cu itself, compiled for the host.
func TestPoolsOnHostSimulatedGPU(t *testing.T) {
	dev := hostsim.ForTest(t)
	defer UseCUDABackend(dev, dev.Props())()
	poolsMatchHost(t)
}
