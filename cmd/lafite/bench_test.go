package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/lafite-go/lafite/kernels/cpu"
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
}
