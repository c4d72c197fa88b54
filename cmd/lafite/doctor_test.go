package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/klauspost/cpuid/v2"

	"github.com/lafite-go/lafite/kernels/cpu"
	"github.com/lafite-go/lafite/kernels/cuda"
)

func TestDoctorWithoutGPU(t *testing.T) {
	s := cuda.Info()
	if s.CPUFallback == "" {
		t.Skip("a GPU is usable here; the no-GPU report is tested with a synthetic summary below")
	}
	var out, errb bytes.Buffer
	if code := run([]string{"doctor"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	text := out.String()
	for _, k := range []string{"cpu:", "cpu features:", "cpu kernels:", "go:", "cuda driver:", "nvrtc:", "kernel cache:"} {
		if !strings.Contains(text, "\n"+k) && !strings.HasPrefix(text, k) {
			t.Errorf("report lacks %q:\n%s", k, text)
		}
	}
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	if last := lines[len(lines)-1]; last != s.CPUFallback || !strings.Contains(last, "running on CPU") {
		t.Errorf("last line %q, want the one-line reason %q", last, s.CPUFallback)
	}
	if strings.Contains(text, "GPU ready") {
		t.Errorf("no-GPU report claims a GPU:\n%s", text)
	}
	if want := "cpu kernels:   " + cpu.ActiveVariant() + " of ["; !strings.Contains(text, want) || !strings.Contains(text, "LAFITE_CPU_SPIN") {
		t.Errorf("report lacks the CPU kernel settings (%q):\n%s", want, text)
	}
	if code := run([]string{"doctor", "extra"}, &out, &errb); code == 0 {
		t.Error("doctor accepted a stray argument")
	}
}

func TestDoctorReportsGPU(t *testing.T) {
	s := cuda.Summary{
		DriverPath: "/usr/lib/libcuda.so.1", DriverVersion: "12.4",
		Devices:   []cuda.DeviceProps{{Name: "NVIDIA H100 80GB HBM3", Major: 9, Minor: 0, TotalMem: 80 << 30, SMs: 132}},
		NVRTCPath: "/usr/local/cuda/lib64/libnvrtc.so.12", NVRTCVersion: "12.4", NVRTCArchs: []int{80, 90},
		KernelCache: "/tmp/cache", Targets: []cuda.Target{{Arch: "sm_90", CUBIN: true}},
	}
	var out bytes.Buffer
	writeDoctor(&out, cpuid.CPU, s)
	text := out.String()
	for _, want := range []string{"NVIDIA H100 80GB HBM3, compute 9.0, 80.0 GiB, 132 SMs", "(CUDA 12.4)",
		"libnvrtc.so.12 (12.4)", "kernel cache:  /tmp/cache", "GPU ready", "sm_90"} {
		if !strings.Contains(text, want) {
			t.Errorf("report lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "running on CPU") {
		t.Errorf("GPU report says CPU:\n%s", text)
	}
	if !strings.Contains(text, "autotune:      on: ") {
		t.Errorf("report lacks the autotune setting:\n%s", text)
	}
	if !strings.Contains(text, "gemm kernels:  bk8 bk16 t64 tc tcs tc64 tcs64 (tc*: TF32 tensor cores") {
		t.Errorf("report lacks the GEMM kernels of a compute 9.0 GPU:\n%s", text)
	}
	// A GPU before sm_80 has no TF32 tensor cores: the report says so.
	old := s.Devices[0]
	s.Devices[0] = cuda.DeviceProps{Name: "Tesla T4", Major: 7, Minor: 5, TotalMem: 16 << 30, SMs: 40}
	out.Reset()
	writeDoctor(&out, cpuid.CPU, s)
	if !strings.Contains(out.String(), "gemm kernels:  bk8 bk16 t64 (compute 7.5: no TF32 tensor cores, so not the tc kernels") {
		t.Errorf("report for compute 7.5:\n%s", out.String())
	}
	s.Devices[0] = old
	t.Setenv("LAFITE_CUDA_AUTOTUNE", "0")
	out.Reset()
	writeDoctor(&out, cpuid.CPU, s)
	if !strings.Contains(out.String(), "autotune:      off (LAFITE_CUDA_AUTOTUNE=0)") {
		t.Errorf("LAFITE_CUDA_AUTOTUNE=0 not reported:\n%s", out.String())
	}
	if strings.Contains(out.String(), "switched off") {
		t.Errorf("no fallback set, yet the report lists one:\n%s", out.String())
	}
	// The GPU check's fallbacks, set after a failed probe, are reported.
	t.Setenv("LAFITE_CUDA_TENSOR_CORES", "0")
	t.Setenv("LAFITE_CUDA_MULTI_TENSOR", "0")
	out.Reset()
	writeDoctor(&out, cpuid.CPU, s)
	for _, want := range []string{"gemm kernels:  bk8 bk16 t64 (not the tc kernels: LAFITE_CUDA_TENSOR_CORES=0",
		"switched off:  tensor-core GEMMs (LAFITE_CUDA_TENSOR_CORES=0), multi-tensor Adam and moving average (LAFITE_CUDA_MULTI_TENSOR=0)"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
}

// With LAFITE_CUDA_DEVICE=hostsim the report says where the CUDA path runs.
func TestDoctorHostSim(t *testing.T) {
	t.Setenv("LAFITE_CUDA_DEVICE", "hostsim")
	var out, errb bytes.Buffer
	if code := run([]string{"doctor"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), "host sim:") || !strings.Contains(out.String(), "LAFITE_CUDA_DEVICE=hostsim") {
		t.Fatalf("report:\n%s", out.String())
	}
}
