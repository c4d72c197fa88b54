package tensor

import (
	"testing"

	"github.com/lafite-go/lafite/kernels/cuda/emu"
)

// TestCUDAProfileCountsLaunches: with profiling on, every launch is counted
// under its file:entry (the emulator has no events, so no times); turning
// it on again starts afresh, and off stops counting.
func TestCUDAProfileCountsLaunches(t *testing.T) {
	e := emu.New()
	defer UseCUDABackend(e, e.Props())()
	a := New([]float32{1, 2, 3, 4}, 2, 2).To(CUDA)
	b := New([]float32{5, 6, 7, 8}, 2, 2).To(CUDA)
	SetCUDAProfile(true)
	Add(a, b)
	Add(a, b)
	Mul(a, b)
	rep, err := CUDAProfileReport()
	if err != nil {
		t.Fatal(err)
	}
	calls := map[string]int{}
	total := 0
	for _, k := range rep {
		calls[k.Kernel] = k.Calls
		total += k.Calls
		if k.Ms != 0 {
			t.Errorf("%s: %v ms on the emulator, which has no events", k.Kernel, k.Ms)
		}
	}
	if calls["elementwise.cu:ew_binary_f32"] != 3 || total != 3 {
		t.Fatalf("profile %+v, want 3 calls of elementwise.cu:ew_binary_f32", rep)
	}
	SetCUDAProfile(false)
	Add(a, b)
	SetCUDAProfile(true)
	Mul(a, b)
	rep, err = CUDAProfileReport()
	SetCUDAProfile(false)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep) != 1 || rep[0].Calls != 1 {
		t.Fatalf("a fresh profile after off and on: %+v, want the one Mul", rep)
	}
}
