package gpucheck

import (
	"os"
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
	if err := hostsim.Available(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI must install a C++ compiler for the host simulator: %v", err)
		}
		t.Skip(err)
	}
	dev, err := hostsim.New()
	if err != nil {
		t.Fatal(err)
	}
	defer dev.Close()
	restore := tensor.UseCUDABackend(dev, dev.Props())
	defer restore()
	var log strings.Builder
	start := time.Now()
	rep := runConformance(&log, 1)
	t.Logf("gpu on the host simulator: %d passed, %d failed (%.1fs); host fallbacks: %s", rep.passed, rep.failed,
		time.Since(start).Seconds(), strings.Join(tensor.CUDAFallbacks(), " "))
	t.Logf("kernels launched: %s", strings.Join(dev.Launches(), " "))
	for _, l := range strings.Split(log.String(), "\n") {
		if strings.Contains(l, " lafite_") {
			t.Log(l)
		}
	}
	if rep.failed > 0 || rep.passed < 300 {
		t.Errorf("host-simulated GPU conformance: %d passed, %d failed:\n%s", rep.passed, rep.failed, log.String())
	}
}
