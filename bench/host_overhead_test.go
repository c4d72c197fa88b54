package bench

import (
	"sync/atomic"
	"testing"

	"github.com/lafite-go/lafite/kernels/cuda"
	"github.com/lafite-go/lafite/tensor"
)

// nullGPU is a CUDA backend that does nothing: memory is fake addresses,
// launches and copies return at once. Under it a GPU workload costs only its
// host side (autograd, the tensor layer's planning and argument packing), so
// a benchmark shows whether a step could ever be bound by the CPU rather
// than the GPU.
type nullGPU struct {
	next     atomic.Uint64
	launches atomic.Int64
}

func (n *nullGPU) Alloc(b int64) (cuda.DevicePtr, error) {
	return cuda.DevicePtr(1<<40 + n.next.Add(uint64(b+511)&^255)), nil
}
func (n *nullGPU) Free(cuda.DevicePtr) error                            { return nil }
func (n *nullGPU) CopyHtoDF32(cuda.DevicePtr, []float32) error          { return nil }
func (n *nullGPU) CopyDtoHF32([]float32, cuda.DevicePtr) error          { return nil }
func (n *nullGPU) CopyHtoDI32(cuda.DevicePtr, []int32) error            { return nil }
func (n *nullGPU) CopyDtoD(cuda.DevicePtr, cuda.DevicePtr, int64) error { return nil }
func (n *nullGPU) MemsetD32(cuda.DevicePtr, uint32, int64) error        { return nil }
func (n *nullGPU) Function(_, entry string) (*cuda.Function, error) {
	return &cuda.Function{Name: entry}, nil
}
func (n *nullGPU) Launch(*cuda.Function, cuda.Dim3, cuda.Dim3, int, ...any) error {
	n.launches.Add(1)
	return nil
}
func (n *nullGPU) Synchronize() error    { return nil }
func (n *nullGPU) Stats() (int64, int64) { return 0, 0 }

// BenchmarkGPUHostOverhead runs the full-size model workloads on nullGPU:
// the host time per step, and the launches it queues (launches/op). On the
// 2-core development VM (2026-11-27): G fwd+bwd 1.7 ms and 1027 launches,
// D 0.34 ms and 233, the training step 6-18 ms (garbage collection varies)
// and about 3300-3400 — against 99, 90 and 389 ms of GPU time on an H200
// at a2de71e, so the steps are GPU-bound. Ninth session (multi-tensor Adam,
// split-K): G 1.55 ms and 921, D 0.43 ms and 257, the step 5.75 ms and
// 2631 (a mean over the calls, so over the regularisation cycle), CLIP
// ViT-B/32 at batch 8 0.39 ms and 248 (12.5 ms on the H200 at a2de71e).
func BenchmarkGPUHostOverhead(b *testing.B) {
	for _, name := range []string{"lafite_g64_b16_fwdbwd", "lafite_d64_b16_fwdbwd", "lafite_train_step_64_b16", "clip_vitb32_b8"} {
		b.Run(name, func(b *testing.B) {
			nd := &nullGPU{}
			props := cuda.DeviceProps{Name: "null", Major: 9, SMs: 132, MaxSharedOptin: 227 << 10, TotalMem: 80 << 30}
			defer tensor.UseCUDABackend(nd, props)()
			ws, err := SelectOn(tensor.CUDA, []string{name})
			if err != nil {
				b.Fatal(err)
			}
			run, _, _ := ws[0].GPU(1)
			step := func() {
				s := tensor.OpenScope()
				run()
				s.Close()
			}
			step()
			l0 := nd.launches.Load()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				step()
			}
			b.ReportMetric(float64(nd.launches.Load()-l0)/float64(b.N), "launches/op")
		})
	}
}
