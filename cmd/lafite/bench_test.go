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
	code := run([]string{"bench", "--json", "--only", "sgemm_4096x512x512", "--runs", "1", "--min-time", "1ms", "--cpu", "generic"}, &out, &errb)
	defer cpu.UseVariant(cpu.Variants()[0]) // the flag switched the process-wide kernels
	if code != 0 {
		t.Fatalf("--json: code %d, err %q", code, errb.String())
	}
	var rec map[string]any
	if err := json.Unmarshal(out.Bytes(), &rec); err != nil {
		t.Fatalf("not one JSON record: %q: %v", out.String(), err)
	}
	if rec["workload"] != "sgemm_4096x512x512" || rec["cpu_variant"] != "generic" || rec["gflops"].(float64) <= 0 {
		t.Errorf("record %v", rec)
	}
}
