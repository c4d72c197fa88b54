package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/lafite-go/lafite/bench"
	"github.com/lafite-go/lafite/kernels/cpu"
	"github.com/lafite-go/lafite/kernels/cuda/emu"
	"github.com/lafite-go/lafite/tensor"
)

func TestBenchCommand(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"bench", "--list", "--only", "sgemm_1024"}, &out, &errb); code != 0 || out.String() != "sgemm_1024\n" {
		t.Errorf("--list: code %d, out %q, err %q", code, out.String(), errb.String())
	}
	out.Reset()
	if code := run([]string{"bench", "--only", "no_such_workload"}, &out, &errb); code == 0 || !strings.Contains(errb.String(), "no_such_workload") {
		t.Errorf("unknown workload: code %d, err %q", code, errb.String())
	}
	out.Reset()
	// The last SIMD variant listed (generic where there is none): on AVX-512
	// machines not the default, so the flag is seen to take effect, and never
	// the generic SGEMM, which would take seconds.
	variant := cpu.Variants()[max(0, len(cpu.Variants())-2)]
	code := run([]string{"bench", "--json", "--only", "sgemm_4096x512x512", "--runs", "1", "--min-time", "1ms", "--cpu", variant}, &out, &errb)
	defer cpu.UseVariant(cpu.Variants()[0]) // the flag switched the process-wide kernels
	if code != 0 {
		t.Fatalf("--json: code %d, err %q", code, errb.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("want the fma_peak record and one workload record, got %q", out.String())
	}
	var peak, rec map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &peak); err != nil || peak["workload"] != "fma_peak" || peak["gflops"].(float64) <= 0 {
		t.Errorf("first record %q: %v", lines[0], err)
	}
	if err := json.Unmarshal([]byte(lines[1]), &rec); err != nil {
		t.Fatalf("not a JSON record: %q: %v", lines[1], err)
	}
	if rec["workload"] != "sgemm_4096x512x512" || rec["cpu_variant"] != variant || rec["gflops"].(float64) <= 0 {
		t.Errorf("record %v", rec)
	}
	if runtime.GOOS == "linux" {
		cpuMs, _ := rec["cpu_ms"].(float64)
		steal, ok := rec["steal_fraction"].(float64)
		if cpuMs <= 0 || !ok || steal < 0 || steal > 1 {
			t.Errorf("record without the host's load (cpu_ms %v, steal_fraction %v): %v", rec["cpu_ms"], rec["steal_fraction"], rec)
		}
	}
	// The table names the load columns and says what they mean.
	out.Reset()
	if code := run([]string{"bench", "--only", "sgemm_4096x512x512", "--runs", "1", "--min-time", "1ms"}, &out, &errb); code != 0 {
		t.Fatalf("table: code %d, err %q", code, errb.String())
	}
	header := regexp.MustCompile(`(?m)^workload +median ms +min ms +cpu ms .* steal$`)
	if !header.MatchString(out.String()) || !strings.Contains(out.String(), "cpu ms: the process's CPU time") {
		t.Errorf("table without the cpu ms and steal columns:\n%s", out.String())
	}
}

// TestBenchCommandCUDA: --device cuda says in one line why it cannot run
// without a GPU, and against the kernel emulator (shrunk workloads) prints
// the GPU's fma_peak record and one record per workload.
func TestBenchCommandCUDA(t *testing.T) {
	var out, errb bytes.Buffer
	if tensor.CUDAAvailable() != nil {
		code := run([]string{"bench", "--device", "cuda", "--only", "sgemm_1024"}, &out, &errb)
		if msg := errb.String(); code == 0 || !strings.HasPrefix(msg, "lafite bench: --device cuda: no usable GPU: ") || strings.Count(msg, "\n") != 1 {
			t.Errorf("without a GPU: code %d, stderr %q", code, msg)
		}
	}
	out.Reset()
	errb.Reset()
	if code := run([]string{"bench", "--device", "cuda", "--list", "--only", "lafite_train_step_64_b16"}, &out, &errb); code != 0 || out.String() != "lafite_train_step_64_b16\n" {
		t.Errorf("--device cuda --list: code %d, out %q, err %q", code, out.String(), errb.String())
	}
	out.Reset()
	e := emu.New()
	defer tensor.UseCUDABackend(e, e.Props())()
	code := run([]string{"bench", "--device", "cuda", "--json", "--only", "sgemm_1024,upsample2d_n4_c512_32",
		"--runs", "1", "--min-time", "1ms", "--shrink", "16"}, &out, &errb)
	if code != 0 {
		t.Fatalf("code %d, err %q", code, errb.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("want the fma_peak record and two workload records, got %q", out.String())
	}
	for i, want := range []string{"fma_peak", "sgemm_1024", "upsample2d_n4_c512_32"} {
		var rec map[string]any
		if err := json.Unmarshal([]byte(lines[i]), &rec); err != nil || rec["workload"] != want || rec["device"] != "cuda" {
			t.Errorf("record %d: %q (%v), want workload %s on cuda", i, lines[i], err, want)
		}
	}
	// The table: scripts/gpu-check.sh counts its rows with this pattern.
	out.Reset()
	if code := run([]string{"bench", "--device", "cuda", "--only", "sgemm_1024", "--runs", "1", "--min-time", "1ms", "--shrink", "16"}, &out, &errb); code != 0 {
		t.Fatalf("table: code %d, err %q", code, errb.String())
	}
	if rows := regexp.MustCompile(`(?m)^[a-z0-9_]+ +[0-9]+\.[0-9]{3} `).FindAllString(out.String(), -1); len(rows) != 1 || !strings.HasPrefix(rows[0], "sgemm_1024 ") {
		t.Errorf("table rows %q in\n%s", rows, out.String())
	}
	// --profile: the kernels under the row, which the row pattern skips.
	out.Reset()
	if code := run([]string{"bench", "--device", "cuda", "--only", "sgemm_1024", "--runs", "1", "--min-time", "1ms", "--shrink", "16", "--profile"}, &out, &errb); code != 0 {
		t.Fatalf("--profile: code %d, err %q", code, errb.String())
	}
	got := out.String()
	if !strings.Contains(got, "    1 launches per run") || !regexp.MustCompile(`(?m)^    sgemm\.cu:sgemm_\w+ +1\.0 calls`).MatchString(got) {
		t.Errorf("--profile table:\n%s", got)
	}
	if rows := regexp.MustCompile(`(?m)^[a-z0-9_]+ +[0-9]+\.[0-9]{3} `).FindAllString(got, -1); len(rows) != 1 {
		t.Errorf("--profile: table rows %q", rows)
	}
}

// The table's autotune summary: winners per op, then the shapes where the
// winner beat the rules' choice by the most (none where it was the rules'
// choice).
func TestPrintAutotune(t *testing.T) {
	r := bench.Record{Autotune: []tensor.AutotuneChoice{
		{Op: "gemm", Shape: "A", Chosen: "t64", Rule: "bk8", Ms: map[string]float64{"bk8": 2, "t64": 1.5}},
		{Op: "conv forward", Shape: "B", Chosen: "winograd4", Rule: "direct128", Ms: map[string]float64{"direct128": 3, "winograd4": 1}},
		{Op: "gemm", Shape: "C", Chosen: "bk8", Rule: "bk8", Ms: map[string]float64{"bk8": 1, "t64": 4}},
	}}
	var b bytes.Buffer
	printAutotune(&b, r, 5)
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("want a summary and two gains, got:\n%s", b.String())
	}
	if !strings.Contains(lines[0], "autotuned 3 shapes; fastest: gemm: bk8 1, t64 1; conv forward: winograd4 1") {
		t.Errorf("summary %q", lines[0])
	}
	if !strings.Contains(lines[1], "winograd4 1.000 ms (rules: direct128 3.000 ms)") || !strings.Contains(lines[2], "t64 1.500 ms (rules: bk8 2.000 ms)") {
		t.Errorf("gains, largest first:\n%s", b.String())
	}
	b.Reset()
	r.Autotune[2].Failed = map[string]string{"bk16": "too many resources requested"}
	printAutotune(&b, r, 5)
	if !strings.Contains(b.String(), "FAILED candidate bk16 for gemm C: too many resources requested") {
		t.Errorf("a failed candidate is not reported:\n%s", b.String())
	}
	b.Reset()
	printAutotune(&b, bench.Record{}, 5)
	if b.Len() != 0 {
		t.Errorf("nothing tuned printed %q", b.String())
	}
}

// TestBenchTrace: `lafite bench --trace` needs no GPU; its table names the
// workload's work and kernels, and --json gives one Trace per workload.
func TestBenchTrace(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"bench", "--trace", "--only", "sgemm_1024,conv3x3_n4_c512_16"}, &out, &errb); code != 0 {
		t.Fatalf("code %d, err %q", code, errb.String())
	}
	for _, want := range []string{"dry run for NVIDIA H200", "sgemm_1024: per run: 1 launches, 2.1 GFLOP",
		"conv3x3_n4_c512_16: per run: 4 launches", "wino_input_f32", "floor ms", "host side: median"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	out.Reset()
	if code := run([]string{"bench", "--trace", "--by-caller", "--only", "conv3x3_n4_c512_16"}, &out, &errb); code != 0 ||
		!strings.Contains(out.String(), "launched from") || !strings.Contains(out.String(), "wino_input_f32") {
		t.Errorf("--by-caller: code %d:\n%s", code, out.String())
	}
	out.Reset()
	if code := run([]string{"bench", "--trace", "--json", "--only", "sgemm_1024"}, &out, &errb); code != 0 {
		t.Fatalf("--json: code %d, err %q", code, errb.String())
	}
	var tr struct {
		Workload string  `json:"workload"`
		GFLOP    float64 `json:"gflop"`
		Kernels  []struct {
			Kernel string `json:"kernel"`
		} `json:"kernels"`
	}
	if err := json.Unmarshal(out.Bytes(), &tr); err != nil || tr.Workload != "sgemm_1024" || tr.GFLOP < 2.1 || len(tr.Kernels) != 1 {
		t.Errorf("--json: %v, %+v from %q", err, tr, out.String())
	}
	if code := run([]string{"bench", "--trace", "--only", "no_such_workload"}, &out, &errb); code == 0 {
		t.Error("an unknown workload was accepted")
	}
}

// TestBenchCPUProfile: --cpuprofile writes a pprof profile (gzip-compressed
// protobuf) of the timed runs (with --trace, of the host side's), one file per
// workload when there are several, and says which flag failed when a file
// cannot be made.
func TestBenchCPUProfile(t *testing.T) {
	isProfile := func(path string) {
		t.Helper()
		data, err := os.ReadFile(path)
		if err != nil || len(data) < 2 || data[0] != 0x1f || data[1] != 0x8b {
			t.Errorf("%s: %d bytes, %v: not a gzip-compressed pprof profile", path, len(data), err)
		}
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "cpu.pprof")
	var out, errb bytes.Buffer
	if code := run([]string{"bench", "--json", "--only", "sgemm_4096x512x512", "--runs", "1", "--min-time", "1ms", "--cpuprofile", path}, &out, &errb); code != 0 {
		t.Fatalf("code %d, err %q", code, errb.String())
	}
	isProfile(path)
	if code := run([]string{"bench", "--json", "--only", "bias_lrelu_n4_c512_64_fwdbwd,upsample2d_n4_c512_32", "--runs", "1", "--min-time", "1ms", "--cpuprofile", path}, &out, &errb); code != 0 {
		t.Fatalf("two workloads: code %d, err %q", code, errb.String())
	}
	isProfile(filepath.Join(dir, "cpu.bias_lrelu_n4_c512_64_fwdbwd.pprof"))
	isProfile(filepath.Join(dir, "cpu.upsample2d_n4_c512_32.pprof"))
	// With --trace the profile is of the host side's timed round.
	tracePath := filepath.Join(dir, "host.pprof")
	if code := run([]string{"bench", "--trace", "--only", "sgemm_1024", "--cpuprofile", tracePath}, &out, &errb); code != 0 {
		t.Fatalf("--trace: code %d, err %q", code, errb.String())
	}
	isProfile(tracePath)
	errb.Reset()
	bad := filepath.Join(t.TempDir(), "missing", "cpu.pprof")
	if code := run([]string{"bench", "--only", "sgemm_1024", "--cpuprofile", bad}, &out, &errb); code == 0 || !strings.Contains(errb.String(), "--cpuprofile") {
		t.Errorf("unwritable profile: code %d, err %q", code, errb.String())
	}
}
