package cuda

import (
	"regexp"
	"strings"
)

// Entry is one kernel entry point of an embedded file, read from its source.
type Entry struct {
	File   string // e.g. "sgemm.cu"
	Name   string // e.g. "sgemm_128x128x8_f32"
	Params string // C parameter list without __restrict__, e.g. "GemmParams p, const float* A, ..."
}

var (
	declRE   = regexp.MustCompile(`extern "C" __global__ void(?:\s+__launch_bounds__\([^)]*\))?\s+([A-Za-z0-9_]+)\s*\(([^)]*)\)`)
	spacesRE = regexp.MustCompile(`\s+`)
)

// Entries lists every kernel entry point with its parameters, parsed from
// the embedded sources, so that the list cannot drift from the kernels.
func Entries() []Entry {
	var out []Entry
	for _, f := range KernelFiles() {
		src, _ := KernelSource(f)
		for _, m := range declRE.FindAllStringSubmatch(src, -1) {
			out = append(out, Entry{File: f, Name: m[1], Params: normParams(m[2])})
		}
	}
	return out
}

func normParams(s string) string {
	s = strings.ReplaceAll(s, "__restrict__", "")
	s = spacesRE.ReplaceAllString(s, " ")
	s = strings.ReplaceAll(s, " ,", ",")
	return strings.TrimSpace(s)
}
