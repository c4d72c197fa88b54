package cuda

import (
	"fmt"
	"runtime"
	"sort"
	"strings"
	"sync"
	"unsafe"
)

// NVRTC is a loaded NVRTC library. It is safe for concurrent use: NVRTC
// programs are independent.
type NVRTC struct {
	Path         string
	Major, Minor int

	archs []int // supported compute capabilities (e.g. 80, 90), sorted; nil if unknown

	version           func(major, minor *int32) int32
	createProgram     func(prog *uintptr, src string, name string, numHeaders int32, headers, includeNames uintptr) int32
	compileProgram    func(prog uintptr, numOptions int32, options **byte) int32
	getProgramLogSize func(prog uintptr, size *uintptr) int32
	getProgramLog     func(prog uintptr, log *byte) int32
	getPTXSize        func(prog uintptr, size *uintptr) int32
	getPTX            func(prog uintptr, ptx *byte) int32
	getCUBINSize      func(prog uintptr, size *uintptr) int32
	getCUBIN          func(prog uintptr, cubin *byte) int32
	destroyProgram    func(prog *uintptr) int32
	getErrorString    func(res int32) string
	getNumArchs       func(n *int32) int32
	getArchs          func(archs *int32) int32
}

// NVRTCError is a failed NVRTC call.
type NVRTCError struct {
	Call string // the NVRTC function, e.g. "nvrtcCompileProgram"
	Code int
	Msg  string // NVRTC's error string
	Log  string // the compile log, for nvrtcCompileProgram
}

func (e *NVRTCError) Error() string {
	s := fmt.Sprintf("%s: %s (nvrtcResult %d)", e.Call, e.Msg, e.Code)
	if e.Log != "" {
		s += "\n" + e.Log
	}
	return s
}

// NVRTCInstallHint is printed wherever NVRTC is missing.
const NVRTCInstallHint = "install NVRTC: Debian/Ubuntu `apt-get install libnvrtc11.2` (non-free; see .ci/install-nvrtc.sh), " +
	"or the CUDA toolkit, or `pip install nvidia-cuda-nvrtc-cu12`; or set LAFITE_NVRTC to the library's full path"

// LoadNVRTC finds and binds NVRTC (see nvrtcCandidates for the search order).
func LoadNVRTC() (*NVRTC, error) {
	return loadNVRTC(osLookup(), dlopen)
}

var (
	nvrtcOnce   sync.Once
	nvrtcShared *NVRTC
	nvrtcErr    error
)

// sharedNVRTC loads NVRTC once per process for the compile cache.
func sharedNVRTC() (*NVRTC, error) {
	nvrtcOnce.Do(func() { nvrtcShared, nvrtcErr = LoadNVRTC() })
	return nvrtcShared, nvrtcErr
}

func loadNVRTC(l libLookup, open func(string) (uintptr, error)) (*NVRTC, error) {
	if p := l.getenv("LAFITE_NVRTC"); p != "" {
		h, err := open(p)
		if err != nil {
			return nil, fmt.Errorf("NVRTC: LAFITE_NVRTC=%s cannot be loaded: %v", p, err)
		}
		return bindNVRTC(h, p)
	}
	h, path, err := openFirst(nvrtcCandidates(l), open)
	if err != nil {
		return nil, fmt.Errorf("NVRTC not found (%v); %s", err, NVRTCInstallHint)
	}
	return bindNVRTC(h, path)
}

func bindNVRTC(h uintptr, path string) (*NVRTC, error) {
	n := &NVRTC{Path: path}
	err := bind(h, path, map[string]any{
		"nvrtcVersion":              &n.version,
		"nvrtcCreateProgram":        &n.createProgram,
		"nvrtcCompileProgram":       &n.compileProgram,
		"nvrtcGetProgramLogSize":    &n.getProgramLogSize,
		"nvrtcGetProgramLog":        &n.getProgramLog,
		"nvrtcGetPTXSize":           &n.getPTXSize,
		"nvrtcGetPTX":               &n.getPTX,
		"nvrtcGetCUBINSize":         &n.getCUBINSize,
		"nvrtcGetCUBIN":             &n.getCUBIN,
		"nvrtcDestroyProgram":       &n.destroyProgram,
		"nvrtcGetErrorString":       &n.getErrorString,
		"nvrtcGetNumSupportedArchs": &n.getNumArchs,
		"nvrtcGetSupportedArchs":    &n.getArchs,
	}, map[string]bool{
		// CUBIN output arrived in NVRTC 11.1, the arch query in 11.2.
		"nvrtcGetCUBINSize": true, "nvrtcGetCUBIN": true,
		"nvrtcGetNumSupportedArchs": true, "nvrtcGetSupportedArchs": true,
	})
	if err != nil {
		return nil, err
	}
	var maj, min int32
	if err := n.check("nvrtcVersion", n.version(&maj, &min)); err != nil {
		return nil, err
	}
	n.Major, n.Minor = int(maj), int(min)
	if n.getNumArchs != nil && n.getArchs != nil {
		var cnt int32
		if err := n.check("nvrtcGetNumSupportedArchs", n.getNumArchs(&cnt)); err != nil {
			return nil, err
		}
		if cnt > 0 {
			a := make([]int32, cnt)
			if err := n.check("nvrtcGetSupportedArchs", n.getArchs(&a[0])); err != nil {
				return nil, err
			}
			for _, v := range a {
				n.archs = append(n.archs, int(v))
			}
			sort.Ints(n.archs)
		}
	}
	return n, nil
}

// Version is "major.minor", part of every cache key.
func (n *NVRTC) Version() string { return fmt.Sprintf("%d.%d", n.Major, n.Minor) }

// SupportedArchs returns the compute capabilities NVRTC can target (e.g. 80
// for compute_80), ascending; nil when this NVRTC cannot say (before 11.2).
func (n *NVRTC) SupportedArchs() []int { return append([]int(nil), n.archs...) }

// HasCUBIN reports whether NVRTC can emit CUBIN (real-architecture) output.
func (n *NVRTC) HasCUBIN() bool { return n.getCUBINSize != nil && n.getCUBIN != nil }

// Supports reports whether NVRTC can target compute capability cc; true when
// it cannot tell (the compile then says).
func (n *NVRTC) Supports(cc int) bool {
	if n.archs == nil {
		return true
	}
	i := sort.SearchInts(n.archs, cc)
	return i < len(n.archs) && n.archs[i] == cc
}

func (n *NVRTC) check(call string, res int32) error {
	if res == 0 {
		return nil
	}
	return &NVRTCError{Call: call, Code: int(res), Msg: n.getErrorString(res)}
}

// Compile compiles one CUDA source. ptx is nil when NVRTC produced only CUBIN
// (a real architecture, --gpu-architecture=sm_XY); cubin is nil for a virtual
// architecture (compute_XY). The log is returned also on success: warnings
// live there.
func (n *NVRTC) Compile(src, name string, opts []string) (ptx []byte, cubin []byte, log string, err error) {
	var prog uintptr
	if err := n.check("nvrtcCreateProgram", n.createProgram(&prog, src, name, 0, 0, 0)); err != nil {
		return nil, nil, "", err
	}
	defer n.destroyProgram(&prog)

	// The option array is Go memory holding Go pointers: pin what it points to.
	var pin runtime.Pinner
	defer pin.Unpin()
	cOpts := make([]*byte, len(opts)+1)
	for i, o := range opts {
		b := append([]byte(o), 0)
		pin.Pin(&b[0])
		cOpts[i] = &b[0]
	}
	res := n.compileProgram(prog, int32(len(opts)), &cOpts[0])
	log, logErr := n.programLog(prog)
	if res != 0 {
		e := n.check("nvrtcCompileProgram", res).(*NVRTCError)
		e.Log = strings.TrimSpace(log)
		return nil, nil, log, e
	}
	if logErr != nil {
		return nil, nil, "", logErr
	}

	wantCUBIN := false
	for _, o := range opts {
		if strings.Contains(o, "sm_") {
			wantCUBIN = true
		}
	}
	if wantCUBIN && n.HasCUBIN() {
		cubin, err = n.output("nvrtcGetCUBIN", prog, n.getCUBINSize, n.getCUBIN)
		if err != nil {
			return nil, nil, log, err
		}
	}
	ptx, err = n.output("nvrtcGetPTX", prog, n.getPTXSize, n.getPTX)
	if err != nil {
		if cubin != nil {
			return nil, cubin, log, nil // NVRTC 12 emits no PTX for sm_XY
		}
		return nil, nil, log, err
	}
	// PTX is a C string; the terminating NUL is part of the size.
	ptx = trimNUL(ptx)
	return ptx, cubin, log, nil
}

func (n *NVRTC) programLog(prog uintptr) (string, error) {
	b, err := n.output("nvrtcGetProgramLog", prog, n.getProgramLogSize, n.getProgramLog)
	if err != nil {
		return "", err
	}
	return string(trimNUL(b)), nil
}

func (n *NVRTC) output(call string, prog uintptr, size func(uintptr, *uintptr) int32, get func(uintptr, *byte) int32) ([]byte, error) {
	var sz uintptr
	if err := n.check(call+"Size", size(prog, &sz)); err != nil {
		return nil, err
	}
	if sz == 0 {
		return nil, nil
	}
	buf := make([]byte, sz)
	if err := n.check(call, get(prog, &buf[0])); err != nil {
		return nil, err
	}
	return buf, nil
}

func trimNUL(b []byte) []byte {
	for len(b) > 0 && b[len(b)-1] == 0 {
		b = b[:len(b)-1]
	}
	return b
}

// cString copies a NUL-terminated C string owned by a library.
func cString(p *byte) string {
	if p == nil {
		return ""
	}
	var n int
	for *(*byte)(unsafe.Add(unsafe.Pointer(p), n)) != 0 {
		n++
	}
	return string(unsafe.Slice(p, n))
}
