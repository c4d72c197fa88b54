package inception

import (
	"path/filepath"
	"testing"

	"github.com/lafite-go/lafite/kernels/cuda/emu"
	"github.com/lafite-go/lafite/tensor"
)

// On the (emulated) GPU the network gives the host's features, every op
// on the device (no host fallback), and leaves no memory held but its
// weights.
func TestRunOnEmulatedGPU(t *testing.T) {
	host, err := Load(filepath.Join("testdata", "tiny_inception.pth"))
	if err != nil {
		t.Fatal(err)
	}
	x := readRef(t, "images")
	want, wantLogits, err := host.Run(x)
	if err != nil {
		t.Fatal(err)
	}
	e := emu.New()
	defer tensor.UseCUDABackend(tensor.WithCachingAllocator(e), e.Props())()
	gpu, err := Load(filepath.Join("testdata", "tiny_inception.pth"))
	if err != nil {
		t.Fatal(err)
	}
	gpu.To(tensor.CUDA)
	live0, _ := tensor.CUDAMemoryStats()
	f0 := tensor.CUDAFallbackTotal()
	got, gotLogits, err := gpu.Run(x)
	if err != nil {
		t.Fatal(err)
	}
	if n := tensor.CUDAFallbackTotal() - f0; n != 0 {
		t.Fatalf("%d host fallbacks: %v", n, tensor.CUDAFallbacks())
	}
	if live, _ := tensor.CUDAMemoryStats(); live != live0 {
		t.Fatalf("a pass left %d bytes of GPU memory held", live-live0)
	}
	if got.Device() != tensor.CPU || gotLogits.Device() != tensor.CPU {
		t.Fatal("the features or logits are not on the host")
	}
	closeRows(t, "features on the GPU", got, want, 1e-5)
	closeRows(t, "logits on the GPU", gotLogits, wantLogits, 1e-5)
}
