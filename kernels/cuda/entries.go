package cuda

import (
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Entry is one kernel entry point of an embedded file, read from its source.
type Entry struct {
	File   string // e.g. "sgemm.cu"
	Name   string // e.g. "sgemm_128x128x8_f32"
	Params string // C parameter list without __restrict__, e.g. "GemmParams p, const float* A, ..."
	// MaxThreads is the first argument of the entry's __launch_bounds__: a
	// block of more threads fails to launch. 0 where it declares none.
	MaxThreads int
	// MinBlocks is its second argument, the blocks per SM the compiler keeps
	// registers for (so at least that many are resident); 0 where absent.
	MinBlocks int
}

var (
	declRE   = regexp.MustCompile(`extern "C" __global__ void(?:\s+__launch_bounds__\(\s*([0-9]+)\s*(?:,\s*([0-9]+))?[^)]*\))?\s+([A-Za-z0-9_]+)\s*\(([^)]*)\)`)
	spacesRE = regexp.MustCompile(`\s+`)
)

// Entries lists every kernel entry point with its parameters, parsed from
// the embedded sources, so that the list cannot drift from the kernels.
func Entries() []Entry {
	var out []Entry
	for _, f := range KernelFiles() {
		src, _ := KernelSource(f)
		for _, m := range declRE.FindAllStringSubmatch(src, -1) {
			e := Entry{File: f, Name: m[3], Params: normParams(m[4])}
			e.MaxThreads, _ = strconv.Atoi(m[1]) // digits, or "" (no bounds): 0
			e.MinBlocks, _ = strconv.Atoi(m[2])
			out = append(out, e)
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

// paramStructs and paramScalars map the C parameter types of the entry points
// to the Go types a launch passes for them.
var (
	paramStructs = map[string]reflect.Type{
		"EwShape": reflect.TypeOf(EwShape{}), "EwRows": reflect.TypeOf(EwRows{}), "RedShape": reflect.TypeOf(RedShape{}),
		"GemmParams": reflect.TypeOf(GemmParams{}), "ConvParams": reflect.TypeOf(ConvParams{}),
		"BiasActParams": reflect.TypeOf(BiasActParams{}), "UpfirdnParams": reflect.TypeOf(UpfirdnParams{}),
		"ResizeParams": reflect.TypeOf(ResizeParams{}), "WinoParams": reflect.TypeOf(WinoParams{}),
		"PoolParams":  reflect.TypeOf(PoolParams{}),
		"MultiTensor": reflect.TypeOf(MultiTensor{}),
	}
	paramScalars = map[string]reflect.Type{
		"int": reflect.TypeOf(int32(0)), "unsigned int": reflect.TypeOf(uint32(0)),
		"long long": reflect.TypeOf(int64(0)), "unsigned long long": reflect.TypeOf(uint64(0)),
		"float": reflect.TypeOf(float32(0)), "double": reflect.TypeOf(float64(0)),
	}
)

// Param is one C parameter of an entry point.
type Param struct {
	CType string       // e.g. "const float*", "ConvParams"
	Name  string       // e.g. "x"
	Go    reflect.Type // what Launch takes for it: DevicePtr for every pointer
}

// Parameters splits e.Params into its parameters and the Go type each is
// launched with.
func (e Entry) Parameters() ([]Param, error) {
	var out []Param
	for _, p := range strings.Split(e.Params, ",") {
		f := strings.Fields(strings.TrimSpace(p))
		if len(f) < 2 {
			return nil, fmt.Errorf("cuda: %s: cannot read parameter %q", e.Name, p)
		}
		name, ctype := f[len(f)-1], strings.Join(f[:len(f)-1], " ")
		for strings.HasPrefix(name, "*") {
			name, ctype = name[1:], ctype+"*"
		}
		var t reflect.Type
		switch {
		case strings.HasSuffix(ctype, "*"):
			t = reflect.TypeOf(DevicePtr(0))
		case paramStructs[ctype] != nil:
			t = paramStructs[ctype]
		case paramScalars[ctype] != nil:
			t = paramScalars[ctype]
		default:
			return nil, fmt.Errorf("cuda: %s: parameter type %q has no Go counterpart", e.Name, ctype)
		}
		out = append(out, Param{CType: ctype, Name: name, Go: t})
	}
	return out, nil
}

// LaunchCounts formats per-entry launch counts as sorted "entry=n" strings
// (what the test devices report).
func LaunchCounts(counts map[string]int) []string {
	out := make([]string, 0, len(counts))
	for k, n := range counts {
		out = append(out, fmt.Sprintf("%s=%d", k, n))
	}
	sort.Strings(out)
	return out
}
