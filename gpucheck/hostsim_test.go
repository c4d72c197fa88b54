package gpucheck

import (
	"strings"
	"testing"
	"time"

	"github.com/lafite-go/lafite/kernels/cuda/hostsim"
	"github.com/lafite-go/lafite/tensor"
)

// TestGPUConformanceHostSim runs the suite against the real kernels compiled
// for the host CPU (kernels/cuda/hostsim): the kernel code itself checked
// against the CPU reference on machines without a GPU.
func TestGPUConformanceHostSim(t *testing.T) {
	dev := hostsim.ForTest(t)
	restore := tensor.UseCUDABackend(dev, dev.Props())
	defer restore()
	var log strings.Builder
	start := time.Now()
	rep := runConformance(&log, 1)
	t.Logf("gpu on the host simulator: %d passed, %d failed (%.1fs); host fallbacks: %s", rep.passed, rep.failed,
		time.Since(start).Seconds(), strings.Join(tensor.CUDAFallbacks(), " "))
	t.Logf("kernels launched: %s", strings.Join(dev.Launches(), " "))
	logNets(t, log.String())
	if rep.failed > 0 || rep.passed < 300 {
		t.Errorf("host-simulated GPU conformance: %d passed, %d failed:\n%s", rep.passed, rep.failed, log.String())
	}
}
