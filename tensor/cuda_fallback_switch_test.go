package tensor

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/lafite-go/lafite/kernels/cuda"
	"github.com/lafite-go/lafite/kernels/cuda/emu"
)

// The fallback switches the GPU check sets when a path fails its probe on a
// card: each keeps its kernels from running, and the results stay right
// (LAFITE_CUDA_TENSOR_CORES: TestTensorCoreGemmLeftOut).

func TestMultiTensorSwitch(t *testing.T) {
	t.Setenv("LAFITE_CUDA_MULTI_TENSOR", "0")
	dev, restore := useEmulator()
	defer restore()
	rng := NewRNG(5)
	var ps, gs, ms, vs, hp, hm, hv []*Tensor
	for _, n := range []int{3, 5000, 1} {
		p, g := rng.Normal(n), rng.Normal(n)
		m, v := rng.Normal(n), Abs(rng.Normal(n))
		hp, hm, hv = append(hp, p), append(hm, m.Clone()), append(hv, v.Clone())
		ps, gs, ms, vs = append(ps, p.Clone().To(CUDA)), append(gs, g.To(CUDA)), append(ms, m.To(CUDA)), append(vs, v.To(CUDA))
		AdamStep(p, g, hm[len(hm)-1], hv[len(hv)-1], AdamParams{LR: 0.1, Beta1: 0.5, Beta2: 0.9, Eps: 1e-8, Step: 1})
		EMAUpdate(p, g, 0.5) // as EMAUpdateAll(ps, gs, 0.5) below
	}
	before := dev.Launches()
	AdamStepAll(ps, gs, ms, vs, AdamParams{LR: 0.1, Beta1: 0.5, Beta2: 0.9, Eps: 1e-8, Step: 1})
	EMAUpdateAll(ps, gs, 0.5)
	ran := launchDelta(before, dev.Launches())
	if ran["adam_step_f32"] != 3 || ran["ema_update_f32"] != 3 || ran["adam_multi_f32"]+ran["ema_multi_f32"] != 0 {
		t.Errorf("LAFITE_CUDA_MULTI_TENSOR=0: launched %v, want one adam_step_f32 and one ema_update_f32 per tensor", ran)
	}
	for i := range ms {
		if d := maxRelDiff(ms[i].To(CPU), hm[i]); d > 1e-6 {
			t.Errorf("tensor %d: m differs from the host by %.2g", i, d)
		}
		if d := maxRelDiff(vs[i].To(CPU), hv[i]); d > 1e-6 {
			t.Errorf("tensor %d: v differs from the host by %.2g", i, d)
		}
		if d := maxRelDiff(ps[i].To(CPU), hp[i]); d > 1e-6 {
			t.Errorf("tensor %d: the parameter differs from the host's Adam step and average by %.2g", i, d)
		}
	}
}

func TestSplitKSwitch(t *testing.T) {
	// The CLIP projection's shape, which cuda.SplitK cuts in slices.
	m, k, n := 400, 768, 768
	if cuda.SplitK(m, n, k, 1, 132) < 2 {
		t.Fatalf("cuda.SplitK no longer cuts %dx%dx%d: pick another shape", m, n, k)
	}
	for _, off := range []bool{false, true} {
		if off {
			t.Setenv("LAFITE_CUDA_SPLITK", "0")
		}
		dev, restore := useEmulator()
		props := dev.Props()
		props.SMs = 132
		restore()
		restore = UseCUDABackend(dev, props)
		rng := NewRNG(6)
		a, b := rng.Normal(m, k), rng.Normal(k, n)
		before := dev.Launches()
		got := Matmul(a.To(CUDA), b.To(CUDA)).To(CPU)
		ran := launchDelta(before, dev.Launches())
		restore()
		if d := maxRelDiff(got, Matmul(a, b)); d > 1e-5 {
			t.Errorf("off=%v: max relative difference %.2g", off, d)
		}
		reduced := false // the slices' sum is the only reduction here
		for k := range ran {
			reduced = reduced || strings.HasPrefix(k, "reduce_")
		}
		if reduced == off {
			t.Errorf("LAFITE_CUDA_SPLITK=0 %v: launched %v", off, ran)
		}
	}
}

// faultingGPU is the emulator with a kernel fault: every Synchronize
// reports one, as a card would after an illegal access.
type faultingGPU struct{ *emu.Device }

func (faultingGPU) Synchronize() error { return errors.New("CUDA_ERROR_ILLEGAL_ADDRESS") }

// With LAFITE_CUDA_SYNC=1 a fault names its kernel and, for a path no card
// had run, the switch that turns it off.
func TestFaultNamesTheFallback(t *testing.T) {
	t.Setenv("LAFITE_CUDA_SYNC", "1")
	e := emu.New()
	defer UseCUDABackend(faultingGPU{e}, e.Props())()
	defer SetCUDAConvTile(SetCUDAConvTile(cuda.ConvWinograd4))
	x, w := NewRNG(7).Normal(1, 4, 6, 6), NewRNG(8).Normal(4, 4, 3, 3)
	xg, wg := x.To(CUDA), w.To(CUDA) // the uploads do not synchronize
	expectPanic(t, "CUDA kernel wino_weight_f32 failed: CUDA_ERROR_ILLEGAL_ADDRESS (Winograd convolutions, which no card had run when written: LAFITE_CUDA_WINOGRAD=0 switches it off)", func() {
		Conv2d(xg, wg, nil, Conv2dParams{PadH: 1, PadW: 1})
	})
	// A kernel outside the switchable paths: no hint.
	expectPanic(t, "CUDA kernel ew_binary_f32 failed: CUDA_ERROR_ILLEGAL_ADDRESS\x00", func() {
		defer func() {
			if r := recover(); r != nil {
				panic(fmt.Sprint(r) + "\x00") // mark the end: nothing may follow the error
			}
		}()
		Add(xg, xg)
	})
}
