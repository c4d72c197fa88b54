package cuda

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// requireNVRTC loads NVRTC or skips; under CI=true a missing NVRTC fails,
// because then the kernels would go unchecked.
func requireNVRTC(t *testing.T) *NVRTC {
	t.Helper()
	n, err := LoadNVRTC()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true and NVRTC is missing: %v", err)
		}
		t.Skipf("NVRTC not installed; %s", NVRTCInstallHint)
	}
	return n
}

// compileArchs returns the virtual architectures the CI contract names
// (compute_80, compute_90), replacing one NVRTC cannot target by the newest it
// can, with a note saying so.
func compileArchs(n *NVRTC) (archs []int, notes []string) {
	for _, want := range []int{80, 90} {
		if n.Supports(want) {
			archs = append(archs, want)
			continue
		}
		t, err := ChooseTarget(want, n.SupportedArchs(), false)
		if err != nil {
			notes = append(notes, fmt.Sprintf("compute_%d not supported by NVRTC %s and no fallback: %v", want, n.Version(), err))
			continue
		}
		var got int
		fmt.Sscanf(t.Arch, "compute_%d", &got)
		notes = append(notes, fmt.Sprintf("compute_%d not supported by NVRTC %s; compiled for compute_%d instead", want, n.Version(), got))
		archs = append(archs, got)
	}
	return archs, notes
}

var (
	ptxEntryRE   = regexp.MustCompile(`(?m)^\.(?:visible )?\.entry ([A-Za-z0-9_]+)`)
	ptxasRegsRE  = regexp.MustCompile(`Function properties for ([A-Za-z0-9_]+)[\s\S]*?(\d+) bytes spill stores, (\d+) bytes spill loads\s+ptxas info\s+: Used (\d+) registers`)
	logProblemRE = regexp.MustCompile(`(?i)\b(warning|error)\b`)
	ptxasStackRE = regexp.MustCompile(`Function properties for ([A-Za-z0-9_]+)\s*\n[^\n]*?(\d+) bytes stack frame, (\d+) bytes spill stores`)
)

// localArrays lists the functions allowed a stack frame beyond their spills
// (arrays in local memory), and why. Anything else with one indexes a
// per-thread array by a runtime value, which ptxas cannot keep in
// registers: every access becomes a local-memory load or store (the up-2
// upfirdn2d kernel had 112 bytes of these until it was compiled per pad
// parity).
var localArrays = map[string]string{
	// sinf/cosf of a large argument: libdevice's Payne-Hanek reduction
	// keeps its digits in a local array, on a path ordinary inputs skip.
	"ew_unary_f32":                        "libdevice trig reduction",
	"ew_unary_strided_f32":                "libdevice trig reduction",
	"rng_normal_f32":                      "libdevice trig reduction (Box-Muller in double, as the host does)",
	"philox_normal_f32":                   "libdevice trig reduction (Box-Muller)",
	"__internal_trig_reduction_slowpathd": "libdevice trig reduction",
}

type compileResult struct {
	line string
	err  error
}

// TestKernelsCompileNVRTC compiles every embedded kernel file for compute_80
// and compute_90 (PTX) and for sm_80 and sm_90 (CUBIN, which runs ptxas and so
// catches resource limits), failing on any error or warning.
func TestKernelsCompileNVRTC(t *testing.T) {
	n := requireNVRTC(t)
	t.Logf("nvrtc %s from %s, supported archs %v", n.Version(), n.Path, n.SupportedArchs())
	archs, notes := compileArchs(n)
	for _, note := range notes {
		t.Log(note)
	}
	if len(notes) == 0 {
		t.Logf("targets compute_80 and compute_90: both supported by NVRTC %s", n.Version())
	}
	files := KernelFiles()
	if len(files) == 0 {
		t.Fatal("no embedded kernel files")
	}

	type job struct {
		file string
		t    Target
	}
	var jobs []job
	for _, a := range archs {
		for _, f := range files {
			jobs = append(jobs, job{f, Target{Arch: fmt.Sprintf("compute_%d", a)}})
		}
	}
	if n.HasCUBIN() {
		for _, a := range archs {
			for _, f := range files {
				jobs = append(jobs, job{f, Target{Arch: fmt.Sprintf("sm_%d", a), CUBIN: true}})
			}
		}
	}
	results := make([]compileResult, len(jobs))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	for i, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			results[i] = compileOne(n, j.file, j.t)
		}()
	}
	wg.Wait()
	failed := 0
	for _, r := range results {
		if r.err != nil {
			failed++
			t.Errorf("%s: %v", r.line, r.err)
		} else {
			t.Log(r.line)
		}
	}
	if failed > 0 {
		t.Fatalf("%d of %d compilations failed", failed, len(jobs))
	}
}

func compileOne(n *NVRTC, file string, tg Target) compileResult {
	src, err := KernelSource(file)
	line := fmt.Sprintf("nvrtc %s %s", tg.Arch, file)
	if err != nil {
		return compileResult{line, err}
	}
	opts := CompileOptions(n, tg)
	if tg.CUBIN {
		opts = append(opts, "--ptxas-options=-v")
	}
	ptx, cubin, log, err := n.Compile(src, file, opts)
	if err != nil {
		return compileResult{line, err}
	}
	// ptxas -v reports "ptxas info" lines; anything else is a diagnostic.
	var diag []string
	for _, l := range strings.Split(log, "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "ptxas info") || strings.HasPrefix(l, "ptxas         .") {
			continue
		}
		diag = append(diag, l)
	}
	if len(diag) > 0 && logProblemRE.MatchString(strings.Join(diag, "\n")) {
		return compileResult{line, fmt.Errorf("log is not clean:\n%s", strings.Join(diag, "\n"))}
	}
	want := declaredEntries(src)
	if !tg.CUBIN {
		got := map[string]bool{}
		for _, m := range ptxEntryRE.FindAllStringSubmatch(string(ptx), -1) {
			got[m[1]] = true
		}
		for _, e := range want {
			if !got[e] {
				return compileResult{line, fmt.Errorf("entry %s missing from PTX", e)}
			}
		}
		return compileResult{fmt.Sprintf("%s: ok (%d bytes PTX)", line, len(ptx)), nil}
	}
	for _, m := range ptxasStackRE.FindAllStringSubmatch(log, -1) {
		stack, spill := 0, 0
		fmt.Sscan(m[2], &stack)
		fmt.Sscan(m[3], &spill)
		if _, ok := localArrays[m[1]]; stack > spill && !ok {
			return compileResult{line, fmt.Errorf("%s keeps %d bytes of arrays in local memory (stack frame %d, spills %d): index them with constants", m[1], stack-spill, stack, spill)}
		}
	}
	// Registers and spills per entry, to spot a kernel that stopped fitting.
	var regs []string
	for _, m := range ptxasRegsRE.FindAllStringSubmatch(log, -1) {
		s := m[1] + "=" + m[4]
		if m[2] != "0" || m[3] != "0" {
			s += fmt.Sprintf("(spill %s/%s)", m[2], m[3])
		}
		regs = append(regs, s)
	}
	return compileResult{fmt.Sprintf("%s: ok (%d bytes CUBIN; regs %s)", line, len(cubin), strings.Join(regs, " ")), nil}
}

var entryRE = regexp.MustCompile(`extern "C" __global__ void(?:\s+__launch_bounds__\([^)]*\))?\s+([A-Za-z0-9_]+)\s*\(`)

// declaredEntries lists the extern "C" kernels of a source.
func declaredEntries(src string) []string {
	var out []string
	for _, m := range entryRE.FindAllStringSubmatch(src, -1) {
		out = append(out, m[1])
	}
	return out
}
