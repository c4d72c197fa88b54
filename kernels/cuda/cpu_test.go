package cuda

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func fakeLookup(env map[string]string, globs map[string][]string) libLookup {
	return libLookup{
		getenv: func(k string) string { return env[k] },
		glob:   func(p string) ([]string, error) { return globs[p], nil },
	}
}

func TestNVRTCSearchOrder(t *testing.T) {
	// An explicit path overrides everything.
	c := nvrtcCandidates(fakeLookup(map[string]string{"LAFITE_NVRTC": "/opt/x/libnvrtc.so.12", "CUDA_HOME": "/cuda"}, nil))
	if !reflect.DeepEqual(c, []string{"/opt/x/libnvrtc.so.12"}) {
		t.Fatalf("LAFITE_NVRTC: got %v", c)
	}

	env := map[string]string{"CUDA_HOME": "/cuda", "VIRTUAL_ENV": "/venv", "HOME": "/home/u"}
	globs := map[string][]string{
		"/venv/lib/python3*/site-packages":          {"/venv/lib/python3.11/site-packages"},
		"/usr/local/lib/python3*/dist-packages":     {"/usr/local/lib/python3.10/dist-packages"},
		"/home/u/.local/lib/python3*/site-packages": nil,
	}
	c = nvrtcCandidates(fakeLookup(env, globs))
	var dirs []string
	for _, p := range c {
		d := filepath.Dir(p)
		if len(dirs) == 0 || dirs[len(dirs)-1] != d {
			dirs = append(dirs, d)
		}
	}
	want := []string{
		"/cuda/lib64",
		"/usr/local/cuda/lib64",
		"/venv/lib/python3.11/site-packages/nvidia/cuda_nvrtc/lib",
		"/venv/lib/python3.11/site-packages/nvidia/cu13/lib",
		"/usr/local/lib/python3.10/dist-packages/nvidia/cuda_nvrtc/lib",
		"/usr/local/lib/python3.10/dist-packages/nvidia/cu13/lib",
		".", // the dynamic loader's own search: bare sonames
	}
	if !reflect.DeepEqual(dirs, want) {
		t.Fatalf("folder order:\n got %q\nwant %q", dirs, want)
	}
	// Within a folder, the newest soname first; the loader search comes last.
	if got := c[:4]; !reflect.DeepEqual(got, []string{
		"/cuda/lib64/libnvrtc.so.13", "/cuda/lib64/libnvrtc.so.12", "/cuda/lib64/libnvrtc.so.11.2", "/cuda/lib64/libnvrtc.so",
	}) {
		t.Fatalf("soname order: %v", got)
	}
	if got := c[len(c)-4:]; !reflect.DeepEqual(got, nvrtcSonames) {
		t.Fatalf("loader fallback: %v", got)
	}
	// Unset variables do not turn into root-relative patterns.
	for _, p := range nvrtcCandidates(fakeLookup(map[string]string{}, map[string][]string{"/lib/python3*/site-packages": {"/lib/python3/site-packages"}})) {
		if strings.HasPrefix(p, "/lib/python3") {
			t.Fatalf("unset $VIRTUAL_ENV searched as %s", p)
		}
	}

	// openFirst takes the first that opens.
	var tried []string
	open := func(p string) (uintptr, error) {
		tried = append(tried, p)
		if p == "/venv/lib/python3.11/site-packages/nvidia/cuda_nvrtc/lib/libnvrtc.so.12" {
			return 7, nil
		}
		return 0, errors.New("no")
	}
	h, path, err := openFirst(c, open)
	if err != nil || h != 7 || !strings.HasSuffix(path, "cuda_nvrtc/lib/libnvrtc.so.12") {
		t.Fatalf("openFirst = %v %q %v", h, path, err)
	}
	if tried[0] != "/cuda/lib64/libnvrtc.so.13" {
		t.Fatalf("first try %s", tried[0])
	}

	// A bad override is named.
	_, err = loadNVRTC(fakeLookup(map[string]string{"LAFITE_NVRTC": "/x/libnvrtc.so"}, nil), func(string) (uintptr, error) { return 0, errors.New("nope") })
	if err == nil || !strings.Contains(err.Error(), "LAFITE_NVRTC=/x/libnvrtc.so") {
		t.Fatalf("bad override error: %v", err)
	}
	// Nothing loads: the error says how to install.
	_, err = loadNVRTC(fakeLookup(env, globs), func(string) (uintptr, error) { return 0, errors.New("nope") })
	if err == nil || !strings.Contains(err.Error(), "apt-get install libnvrtc11.2") {
		t.Fatalf("missing NVRTC error: %v", err)
	}
}

func TestCacheKey(t *testing.T) {
	base := cacheKey("src", []string{"--a", "--b"}, "11.8", "sm_90")
	if base != cacheKey("src", []string{"--a", "--b"}, "11.8", "sm_90") {
		t.Fatal("key not deterministic")
	}
	if len(base) != 64 {
		t.Fatalf("key %q is not a hex sha256", base)
	}
	for name, k := range map[string]string{
		"source":  cacheKey("src2", []string{"--a", "--b"}, "11.8", "sm_90"),
		"options": cacheKey("src", []string{"--a"}, "11.8", "sm_90"),
		"order":   cacheKey("src", []string{"--b", "--a"}, "11.8", "sm_90"),
		"joined":  cacheKey("src", []string{"--a--b"}, "11.8", "sm_90"),
		"nvrtc":   cacheKey("src", []string{"--a", "--b"}, "12.4", "sm_90"),
		"arch":    cacheKey("src", []string{"--a", "--b"}, "11.8", "sm_80"),
		"shifted": cacheKey("src--a", []string{"--b"}, "11.8", "sm_90"),
	} {
		if k == base {
			t.Errorf("changing the %s does not change the key", name)
		}
	}
	p := cachePath("/c", "sgemm.cu", "sm_90", base, true)
	if p != "/c/sgemm-sm_90-"+base+".cubin" {
		t.Errorf("cachePath = %s", p)
	}
	if p := cachePath("/c", "sgemm.cu", "compute_86", base, false); !strings.HasSuffix(p, ".ptx") {
		t.Errorf("PTX cachePath = %s", p)
	}
}

func TestKernelCacheDir(t *testing.T) {
	t.Setenv("LAFITE_KERNEL_CACHE", "/tmp/lafite-k")
	if d, err := KernelCacheDir(); err != nil || d != "/tmp/lafite-k" {
		t.Fatalf("override: %q %v", d, err)
	}
	t.Setenv("LAFITE_KERNEL_CACHE", "")
	t.Setenv("XDG_CACHE_HOME", "/xdg")
	if d, err := KernelCacheDir(); err != nil || d != "/xdg/lafite/kernels" {
		t.Fatalf("default: %q %v", d, err)
	}
}

func TestChooseTarget(t *testing.T) {
	archs118 := []int{35, 37, 50, 52, 53, 60, 61, 62, 70, 72, 75, 80, 86, 87, 89, 90}
	archs112 := []int{35, 37, 50, 52, 53, 60, 61, 62, 70, 72, 75, 80, 86}
	for _, c := range []struct {
		cc       int
		archs    []int
		cubin    bool
		want     string
		wantNote bool
	}{
		{90, archs118, true, "sm_90", false},
		{80, archs118, true, "sm_80", false},
		{90, archs112, true, "compute_86", true}, // NVRTC older than the GPU: PTX the driver JITs
		{89, archs112, true, "compute_86", true},
		{80, archs112, false, "compute_80", false}, // no CUBIN output
		{100, nil, true, "sm_100", false},          // NVRTC cannot list archs: try
	} {
		got, err := ChooseTarget(c.cc, c.archs, c.cubin)
		if err != nil || got.Arch != c.want || (got.Note != "") != c.wantNote || got.CUBIN != strings.HasPrefix(c.want, "sm_") {
			t.Errorf("ChooseTarget(%d, %v, %v) = %+v, %v; want %s", c.cc, c.archs, c.cubin, got, err, c.want)
		}
	}
	if _, err := ChooseTarget(30, archs118, true); err == nil {
		t.Error("compute_30 with NVRTC 11.8 should fail")
	}
}

func TestSizeClass(t *testing.T) {
	prev := int64(0)
	for n := int64(0); n < 200<<20; n = n*5/4 + 1 {
		c := sizeClass(n)
		if c < n || c < prev {
			t.Fatalf("sizeClass(%d) = %d (previous class %d)", n, c, prev)
		}
		if n > 4096 && float64(c) > 1.26*float64(n)+float64(2<<20) {
			t.Fatalf("sizeClass(%d) = %d wastes too much", n, c)
		}
		prev = c
	}
	if sizeClass(1000) != sizeClass(1010) {
		t.Error("nearby sizes should share a class")
	}
}

func TestAllocator(t *testing.T) {
	next := DevicePtr(0x1000)
	var calls, frees int
	oomOnce := false
	a := NewCachingAllocator(func(n int64) (DevicePtr, error) {
		calls++
		if oomOnce {
			oomOnce = false
			return 0, &Error{Call: "cuMemAlloc_v2", Code: cudaErrorOutOfMemory, Name: "CUDA_ERROR_OUT_OF_MEMORY"}
		}
		p := next
		next += DevicePtr(n)
		return p, nil
	}, func(DevicePtr) error { frees++; return nil })

	p1, _ := a.Alloc(1000)
	p2, _ := a.Alloc(5000)
	if live, peak := a.Stats(); live != sizeClass(1000)+sizeClass(5000) || peak != live {
		t.Fatalf("stats %d %d", live, peak)
	}
	if err := a.Free(p1); err != nil {
		t.Fatal(err)
	}
	if err := a.Free(p1); err == nil {
		t.Fatal("double free not reported")
	}
	p3, _ := a.Alloc(1010) // same class: reused, no backend call
	if p3 != p1 || calls != 2 || a.BackendAllocs() != 2 {
		t.Fatalf("no reuse: p3=%#x p1=%#x calls=%d, counted %d", p3, p1, calls, a.BackendAllocs())
	}
	a.Free(p2)
	a.Free(p3)
	if live, peak := a.Stats(); live != 0 || peak != sizeClass(1000)+sizeClass(5000) {
		t.Fatalf("after frees: live %d peak %d", live, peak)
	}
	if a.Cached() != sizeClass(1000)+sizeClass(5000) {
		t.Fatalf("cached %d", a.Cached())
	}
	// Out of memory: the cache is returned to CUDA and the allocation retried.
	oomOnce = true
	if _, err := a.Alloc(1 << 20); err != nil {
		t.Fatal(err)
	}
	if frees != 2 || a.Cached() != 0 || a.BackendAllocs() != 3 {
		t.Fatalf("OOM retry: %d frees, %d cached, %d backend allocations (the failed try counts none)", frees, a.Cached(), a.BackendAllocs())
	}
	if _, err := a.Alloc(-1); err == nil {
		t.Fatal("negative size accepted")
	}
}

func TestPackArgs(t *testing.T) {
	vals, err := packArgs([]any{DevicePtr(5), int32(-1), float32(2), GemmParams{M: 3}, int64(9)})
	if err != nil {
		t.Fatal(err)
	}
	if *(*DevicePtr)(vals[0]) != 5 || *(*int32)(vals[1]) != -1 || (*GemmParams)(vals[3]).M != 3 {
		t.Fatal("values not copied")
	}
	for _, bad := range []any{1, uint(1), &struct{}{}, []float32{1}, nil, struct{ P *int }{}} {
		if _, err := packArgs([]any{bad}); err == nil {
			t.Errorf("%T accepted as a kernel argument", bad)
		}
	}
}

func TestNewEwShape(t *testing.T) {
	s, err := NewEwShape([]int{2, 3}, []int{3, 1}, []int{0, 1}, []int{3, 1})
	if err != nil || s.NDim != 2 || s.N != 6 || s.B != [8]int32{0, 1} {
		t.Fatalf("%+v %v", s, err)
	}
	if s, err := NewEwShape(nil, nil, nil, nil); err != nil || s.N != 1 || s.NDim != 1 {
		t.Fatalf("scalar: %+v %v", s, err)
	}
	if _, err := NewEwShape(make([]int, 9), nil, nil, nil); err == nil {
		t.Fatal("9 dims accepted")
	}
	if _, err := NewEwShape([]int{1 << 16, 1 << 16}, nil, nil, nil); err == nil {
		t.Fatal("2^32 elements accepted")
	}
	// Coalescing: a bias broadcast over [N, C, H, W] is walked as [N, C, H*W];
	// size-1 dims go; a transposed operand keeps its dims apart.
	s, err = NewEwShape([]int{2, 3, 4, 5}, []int{60, 20, 5, 1}, []int{0, 1, 0, 0}, []int{60, 20, 5, 1})
	if err != nil || s.NDim != 3 || [3]int32(s.Size[:3]) != [3]int32{2, 3, 20} || [3]int32(s.A[:3]) != [3]int32{60, 20, 1} ||
		[3]int32(s.B[:3]) != [3]int32{0, 1, 0} || [3]int32(s.O[:3]) != [3]int32{60, 20, 1} || s.N != 120 {
		t.Fatalf("bias broadcast: %+v %v", s, err)
	}
	s, _ = NewEwShape([]int{1, 6, 1, 7}, []int{42, 7, 7, 1}, nil, []int{42, 7, 7, 1})
	if s.NDim != 1 || s.Size[0] != 42 || s.A[0] != 1 || s.O[0] != 1 {
		t.Fatalf("contiguous with unit dims: %+v", s)
	}
	s, _ = NewEwShape([]int{4, 5}, []int{1, 4}, nil, []int{5, 1})
	if s.NDim != 2 {
		t.Fatalf("a transposed copy merged its dims: %+v", s)
	}
	s, _ = NewEwShape([]int{1, 1}, []int{1, 1}, nil, []int{1, 1})
	if s.NDim != 1 || s.Size[0] != 1 || s.N != 1 {
		t.Fatalf("one element: %+v", s)
	}
	r, err := NewRedShape([]int{4}, []int{1}, []int{2, 5}, []int{20, 4})
	if err != nil || r.NOut != 4 || r.NRed != 10 {
		t.Fatalf("%+v %v", r, err)
	}
}

func TestPlans(t *testing.T) {
	// StyleGAN upsample2d: up 2, 4x4 filter, pad [2,1].
	p := UpfirdnParams{Major: 8, InH: 64, InW: 64, UpX: 2, UpY: 2, DownX: 1, DownY: 1, PadX0: 2, PadX1: 1, PadY0: 2, PadY1: 1, FH: 4, FW: 4, Gain: 4}
	p.OutH = int32(UpfirdnOutSize(64, 2, 1, 2, 1, 4))
	p.OutW = p.OutH
	if p.OutH != 128 {
		t.Fatalf("upsample2d out %d", p.OutH)
	}
	pl := PlanUpfirdn2d(p, 48<<10, 132)
	// Row streaming: 64 column pairs of 128 outputs, 64 row pairs in strips
	// of 8, 4 strips per block.
	if pl.Entry != "upfirdn2d_up2_f4_f32" || pl.Grid != D3(2, 2, 8) || pl.Block != D3(32, 4, 1) || pl.Shared != 0 {
		t.Fatalf("up2 plan %+v", pl)
	}
	p.UpX, p.UpY, p.DownX, p.DownY = 1, 1, 2, 2
	p.OutH, p.OutW = 32, 32
	if pl := PlanUpfirdn2d(p, 48<<10, 132); pl.Entry != "upfirdn2d_down2_f4_f32" || pl.Grid != D3(1, 1, 8) || pl.Shared != 0 {
		t.Fatalf("down2 plan %+v", pl)
	}
	p.DownX, p.DownY = 1, 1
	p.OutH, p.OutW = 65, 64
	if pl := PlanUpfirdn2d(p, 48<<10, 132); pl.Entry != "upfirdn2d_filter_f4_f32" || pl.Grid != D3(2, 2, 8) || pl.Shared != 0 {
		t.Fatalf("filter plan %+v", pl)
	}
	// More planes than a grid holds: the blocks loop.
	q := p
	q.UpX, q.UpY, q.DownX, q.DownY, q.Major = 2, 2, 1, 1, 100000
	if pl := PlanUpfirdn2d(q, 48<<10, 132); pl.Grid.Z != 65535 {
		t.Fatalf("up2 plan for 100000 planes %+v", pl)
	}
	// The filter and down 2 loop over planes from about 16 blocks per SM:
	// 8192 planes of 64x64 on 132 SMs take 2 x 1 x 1056 blocks.
	f := UpfirdnParams{Major: 8192, InH: 64, InW: 64, OutH: 64, OutW: 64, UpX: 1, UpY: 1, DownX: 1, DownY: 1, PadX0: 2, PadX1: 1, PadY0: 2, PadY1: 1, FH: 4, FW: 4, Gain: 1}
	if pl := PlanUpfirdn2d(f, 48<<10, 132); pl.Entry != "upfirdn2d_filter_f4_f32" || pl.Grid != D3(2, 1, 1056) {
		t.Fatalf("filter plan for 8192 planes %+v", pl)
	}
	f.DownX, f.DownY, f.PadX0, f.PadX1, f.PadY0, f.PadY1, f.OutH, f.OutW = 2, 2, 1, 1, 1, 1, 32, 32
	if pl := PlanUpfirdn2d(f, 48<<10, 132); pl.Entry != "upfirdn2d_down2_f4_f32" || pl.Grid != D3(1, 1, 2112) {
		t.Fatalf("down2 plan for 8192 planes %+v", pl)
	}
	p.UpX, p.UpY = 2, 1 // not a specialised case: the general tiled kernel
	if pl := PlanUpfirdn2d(p, 48<<10, 132); pl.Entry != "upfirdn2d_f32" || pl.Shared != UpfirdnSharedBytes(p) {
		t.Fatalf("general plan %+v", pl)
	}
	p.UpX, p.UpY = 1, 1
	p.DownX, p.DownY, p.FH, p.FW = 8, 8, 16, 16
	if pl := PlanUpfirdn2d(p, 48<<10, 132); pl.Entry != "upfirdn2d_direct_f32" {
		t.Fatalf("huge tile should go direct: %+v", pl)
	}

	cp := ConvParams{N: 4, C: 512, H: 8, W: 8, O: 512, KH: 3, KW: 3, Groups: 1, OH: 8, OW: 8, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1, DilH: 1, DilW: 1}
	pl, _ = PlanConv2d(ConvForward, cp, 132)
	if pl.Grid != D3(4, 8, 1) {
		t.Fatalf("conv fwd grid %+v", pl.Grid)
	}
	if mp, _ := PlanConv2d(ConvModForward, cp, 132); mp.Entry != "conv2d_modfwd_f32" || mp.Grid != pl.Grid || mp.Block != pl.Block {
		t.Fatalf("modulated conv fwd plan %+v, want the forward's geometry %+v", mp, pl)
	}
	cp.C, cp.O, cp.KH, cp.KW, cp.PadH, cp.PadW = 32, 32, 1, 1, 0, 0
	cp.H, cp.W, cp.OH, cp.OW = 256, 256, 256, 256
	pl, ks := PlanConv2d(ConvWeightGrad, cp, 132)
	k := int(cp.N * cp.OH * cp.OW)
	if ks%8 != 0 || int(pl.Grid.Z) != CeilDiv(k, int(ks)) || pl.Grid.Z < 100 {
		t.Fatalf("wgrad split %d grid %+v", ks, pl.Grid)
	}
	if pl := PlanSgemm(GemmParams{M: 8, N: 512, K: 512}, 1); pl.Entry != "sgemm_small_f32" {
		t.Fatalf("small GEMM plan %+v", pl)
	}
	// The fully-connected layers at batch 16: the rules take the skinny
	// kernel (16 x 32 tiles) for few rows and enough columns.
	if !SkinnyGemm(GemmParams{M: 16, N: 512, K: 8192}) || SkinnyGemm(GemmParams{M: 16, N: 16, K: 512}) || SkinnyGemm(GemmParams{M: 40, N: 512, K: 512}) {
		t.Error("SkinnyGemm: want it for 16x512x8192 only")
	}
	if pl := PlanSgemmSkinny(GemmParams{M: 20, N: 100, K: 64}, 3); pl.Entry != "sgemm_skinny_f32" || pl.Grid != D3(4, 2, 3) || pl.Block != D1(256) {
		t.Errorf("skinny plan %+v", pl)
	}
	t.Setenv("LAFITE_CUDA_SKINNY_GEMM", "0")
	if SkinnyGemm(GemmParams{M: 16, N: 512, K: 8192}) {
		t.Error("SkinnyGemm with LAFITE_CUDA_SKINNY_GEMM=0")
	}
	if ConvOutSize(7, 3, 2, 1, 1) != 4 {
		t.Fatal("ConvOutSize")
	}
}

// TestEntriesDocumented checks that every kernel is listed, with its exact
// parameter list, under "Entry points" in its file's header comment, which
// is what engineers launching it read.
func TestEntriesDocumented(t *testing.T) {
	entries := Entries()
	if len(entries) < 30 {
		t.Fatalf("only %d entries parsed", len(entries))
	}
	for _, f := range KernelFiles() {
		src, _ := KernelSource(f)
		if !strings.HasPrefix(src, "// "+f+": ") {
			t.Errorf("%s: header comment must start with %q", f, "// "+f+": ")
		}
		for _, need := range []string{"Cost", "Launch", "Entry point"} {
			if !strings.Contains(header(src), need) {
				t.Errorf("%s: header comment lacks %q", f, need)
			}
		}
	}
	for _, e := range entries {
		src, _ := KernelSource(e.File)
		h := header(src)
		i := strings.Index(h, e.Name+"(")
		if i < 0 {
			t.Errorf("%s: %s not in the header's entry points", e.File, e.Name)
			continue
		}
		j := strings.Index(h[i:], ")")
		doc := normParams(strings.ReplaceAll(h[i+len(e.Name)+1:i+j], "//", ""))
		if doc != e.Params {
			t.Errorf("%s: %s documented as (%s), declared (%s)", e.File, e.Name, doc, e.Params)
		}
	}
}

// header returns the leading comment block of a source.
func header(src string) string {
	var b strings.Builder
	for _, l := range strings.Split(src, "\n") {
		if !strings.HasPrefix(l, "//") {
			break
		}
		b.WriteString(l + "\n")
	}
	return b.String()
}

// TestParamLayouts has NVRTC check that each Go parameter struct has the C
// struct's size, alignment and field offsets.
func TestParamLayouts(t *testing.T) {
	n := requireNVRTC(t)
	for _, c := range []struct {
		file, cname string
		v           any
	}{
		{"elementwise.cu", "EwShape", EwShape{}},
		{"elementwise.cu", "EwRows", EwRows{}},
		{"reduce.cu", "RedShape", RedShape{}},
		{"sgemm.cu", "GemmParams", GemmParams{}},
		{"conv2d.cu", "ConvParams", ConvParams{}},
		{"bias_act.cu", "BiasActParams", BiasActParams{}},
		{"upfirdn2d.cu", "UpfirdnParams", UpfirdnParams{}},
		{"interpolate.cu", "ResizeParams", ResizeParams{}},
		{"pool.cu", "PoolParams", PoolParams{}},
		{"winograd.cu", "WinoParams", WinoParams{}},
		{"adam.cu", "MultiTensor", MultiTensor{}},
	} {
		src, err := KernelSource(c.file)
		if err != nil {
			t.Fatal(err)
		}
		typ := reflect.TypeOf(c.v)
		var b strings.Builder
		b.WriteString(src)
		// NVRTC has no offsetof; its front end folds the null-pointer form.
		b.WriteString("\n#define LAFITE_OFFSETOF(T, f) ((unsigned long long)&(((T*)0)->f))\n")
		fmt.Fprintf(&b, "\nstatic_assert(sizeof(%s) == %d, \"size\");\n", c.cname, typ.Size())
		fmt.Fprintf(&b, "static_assert(alignof(%s) == %d, \"align\");\n", c.cname, typ.Align())
		for i := 0; i < typ.NumField(); i++ {
			f := typ.Field(i)
			cf := f.Tag.Get("c")
			if cf == "" {
				t.Fatalf("%s.%s has no c tag", typ.Name(), f.Name)
			}
			fmt.Fprintf(&b, "static_assert(LAFITE_OFFSETOF(%s, %s) == %d, \"offset of %s\");\n", c.cname, cf, f.Offset, cf)
			fmt.Fprintf(&b, "static_assert(sizeof(((%s*)0)->%s) == %d, \"size of %s\");\n", c.cname, cf, f.Type.Size(), cf)
		}
		_, _, log, err := n.Compile(b.String(), c.file, CompileOptions(n, Target{Arch: "compute_80"}))
		if err != nil {
			t.Errorf("%s vs Go %s: %v", c.cname, typ.Name(), err)
			continue
		}
		if strings.Contains(log, "warning") {
			t.Errorf("%s: %s", c.cname, log)
		}
		t.Logf("%s: %d bytes, %d fields match", c.cname, typ.Size(), typ.NumField())
	}
	// The check must be able to fail: a wrong offset does not compile.
	src, _ := KernelSource("sgemm.cu")
	src += "\nstatic_assert(((unsigned long long)&(((GemmParams*)0)->a_row)) == 12, \"wrong on purpose\");\n"
	if _, _, _, err := n.Compile(src, "sgemm.cu", CompileOptions(n, Target{Arch: "compute_80"})); err == nil {
		t.Fatal("a wrong offset assertion compiled: the layout check proves nothing")
	}
}

func TestCompileCacheRoundTrip(t *testing.T) {
	n := requireNVRTC(t)
	dir := t.TempDir()
	src, _ := KernelSource("adam.cu")
	tg := Target{Arch: "compute_80"}
	img, cached, err := compileCached(n, dir, "adam.cu", src, tg)
	if err != nil || cached || !strings.Contains(string(img), ".entry adam_step_f32") {
		t.Fatalf("first compile: cached=%v err=%v", cached, err)
	}
	img2, cached, err := compileCached(n, dir, "adam.cu", src, tg)
	if err != nil || !cached || string(img2) != string(img) {
		t.Fatalf("second compile: cached=%v err=%v", cached, err)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 || !strings.HasPrefix(ents[0].Name(), "adam-compute_80-") {
		t.Fatalf("cache folder holds %v", ents)
	}
	// A compile error names the file and the NVRTC call and carries the log.
	_, _, err = compileCached(n, dir, "bad.cu", "extern \"C\" __global__ void k() { undefined_thing(); }", tg)
	var ne *NVRTCError
	if !errors.As(err, &ne) || ne.Call != "nvrtcCompileProgram" || !strings.Contains(err.Error(), "undefined_thing") {
		t.Fatalf("compile error: %v", err)
	}
}

// TestCompileCatchesWarnings makes sure the compile test's filter sees NVRTC
// warnings (an unused variable is one).
func TestCompileCatchesWarnings(t *testing.T) {
	n := requireNVRTC(t)
	_, _, log, err := n.Compile("extern \"C\" __global__ void k(float* x) { int unused; x[0] = 1.f; }", "w.cu",
		CompileOptions(n, Target{Arch: "compute_80"}))
	if err != nil || !logProblemRE.MatchString(log) {
		t.Fatalf("warning not seen: log %q err %v", log, err)
	}
}

func TestInfoWithoutGPU(t *testing.T) {
	s := Info()
	t.Logf("Info():\n%s", s)
	if _, err := loadDriver(); err == nil {
		t.Skip("a CUDA driver is present; the no-GPU line is not expected")
	}
	if s.CPUFallback == "" || !strings.Contains(s.String(), "running on CPU") {
		t.Fatalf("no CPU fallback line in %+v", s)
	}
	if _, err := Open(0); !errors.Is(err, ErrNoDriver) && !errors.Is(err, ErrNoDevice) {
		t.Fatalf("Open without GPU: %v", err)
	}
}

// TestCompileArchsFallback checks the message the compile test prints when
// NVRTC cannot target compute_90 (NVRTC 11.2 stops at compute_86).
func TestCompileArchsFallback(t *testing.T) {
	n := &NVRTC{Major: 11, Minor: 2, archs: []int{35, 37, 50, 52, 53, 60, 61, 62, 70, 72, 75, 80, 86}}
	archs, notes := compileArchs(n)
	if !reflect.DeepEqual(archs, []int{80, 86}) || len(notes) != 1 ||
		notes[0] != "compute_90 not supported by NVRTC 11.2; compiled for compute_86 instead" {
		t.Fatalf("archs %v notes %q", archs, notes)
	}
	n.archs = append(n.archs, 87, 89, 90)
	if archs, notes := compileArchs(n); !reflect.DeepEqual(archs, []int{80, 90}) || len(notes) != 0 {
		t.Fatalf("archs %v notes %q", archs, notes)
	}
}

// divMagic's multiply-high division equals n / d: every n and d below 2^11,
// and for d across the whole range (powers of two and their neighbours,
// and a spread of others) the numerators where it could go wrong: around
// multiples of d, and the largest.
func TestDivMagic(t *testing.T) {
	div := func(n, d uint32) uint32 {
		m, s := divMagic(d)
		return uint32((uint64(n)*uint64(m)>>32 + uint64(n)) >> s)
	}
	for d := uint32(1); d < 1<<11; d++ {
		for n := uint32(0); n < 1<<11; n++ {
			if got := div(n, d); got != n/d {
				t.Fatalf("%d / %d = %d, want %d", n, d, got, n/d)
			}
		}
	}
	var ds []uint32
	for k := 0; k < 31; k++ {
		p := uint32(1) << k
		ds = append(ds, p, p+1, max(p-1, 1), 3*p/2+1)
	}
	for d := uint64(7); d < 1<<31-1; d = d*13/7 + 3 {
		ds = append(ds, uint32(d))
	}
	const top = 1<<31 - 1
	for _, d := range ds {
		if d == 0 || d > top {
			continue
		}
		for _, n := range []uint32{0, 1, d - 1, d, d + 1, 2*d - 1, top, top - 1, top - top%d, top - top%d - 1, top / 2} {
			if n > top {
				continue
			}
			if got := div(n, d); got != n/d {
				t.Fatalf("%d / %d = %d, want %d", n, d, got, n/d)
			}
		}
	}
	if r, _ := NewRedShape([]int{6}, []int{1}, []int{7, 3}, []int{18, 6}); r.OutShift[0] != 3 || r.RedMagic[1] == 0 {
		t.Fatalf("NewRedShape left the divisors unset: %+v", r)
	}
	if s, err := NewEwShape([]int{0, 3}, []int{3, 1}, nil, []int{3, 1}); err != nil || s.N != 0 {
		t.Fatalf("empty shape: %+v %v", s, err)
	}
	if r, err := NewRedShape([]int{0}, []int{1}, []int{0, 3}, []int{3, 1}); err != nil || r.NOut != 0 {
		t.Fatalf("empty reduce shape: %+v %v", r, err)
	}
	if s, _ := NewEwShape([]int{3, 5}, []int{1, 3}, nil, []int{5, 1}); s.Magic[1] == 0 || s.Shift[0] != 2 {
		t.Fatalf("NewEwShape left the divisors unset: %+v", s)
	}
}

// Launch bounds are read from the sources: both arguments, one, or none.
func TestEntriesReadLaunchBounds(t *testing.T) {
	want := map[string][2]int{
		"sgemm_128x128x8_f32": {256, 2}, "sgemm_64x64x16_f32": {256, 3},
		"conv2d_fwd_f32": {256, 0}, "adam_step_f32": {0, 0},
	}
	seen := 0
	for _, e := range Entries() {
		if w, ok := want[e.Name]; ok {
			seen++
			if e.MaxThreads != w[0] || e.MinBlocks != w[1] {
				t.Errorf("%s: launch bounds (%d, %d), want (%d, %d)", e.Name, e.MaxThreads, e.MinBlocks, w[0], w[1])
			}
		}
	}
	if seen != len(want) {
		t.Fatalf("found %d of the %d entries", seen, len(want))
	}
}

func TestSgemmKernelsFor(t *testing.T) {
	names := func(cc int) string {
		var n []string
		for _, k := range SgemmKernelsFor(cc) {
			n = append(n, k.Name)
		}
		return strings.Join(n, " ")
	}
	for cc, want := range map[int]string{75: "bk8 bk16 t64", 80: "bk8 bk16 t64 tc tcs tc64 tcs64", 90: "bk8 bk16 t64 tc tcs tc64 tcs64"} {
		if got := names(cc); got != want {
			t.Errorf("compute %d: %q, want %q", cc, got, want)
		}
	}
	t.Setenv(TensorCoresEnv, "0")
	if got := names(90); got != "bk8 bk16 t64" {
		t.Errorf("%s=0: %q, want the FFMA tiles only", TensorCoresEnv, got)
	}
}

func TestPhaseDgradSwitch(t *testing.T) {
	p := ConvParams{N: 2, C: 64, H: 16, W: 16, O: 64, KH: 3, KW: 3, OH: 8, OW: 8, StrideH: 2, StrideW: 2,
		PadH: 1, PadW: 1, DilH: 1, DilW: 1, Groups: 1}
	if pl, _ := PlanConv2d(ConvInputGrad, p, 132); pl.Entry != "conv2d_dgrad_phase128_f32" {
		t.Fatalf("strided input gradient planned as %s", pl.Entry)
	}
	t.Setenv(PhaseDgradEnv, "0")
	if pl, _ := PlanConv2d(ConvInputGrad, p, 132); !strings.HasPrefix(pl.Entry, "conv2d_dgrad") || strings.Contains(pl.Entry, "phase") {
		t.Errorf("%s=0: strided input gradient planned as %s, want a direct kernel", PhaseDgradEnv, pl.Entry)
	}
}

func TestFallbacks(t *testing.T) {
	for entry, want := range map[string]string{"sgemm_tcs64_f32": "tensor-cores", "wino_input_f32": "winograd",
		"upfirdn2d_down2_f4_f32": "upfirdn-streaming", "upfirdn2d_down2_f4_tiled_f32": "", "ema_multi_f32": "multi-tensor",
		"conv2d_dgrad_phase128_f32": "phase-dgrad", "conv2d_dgrad128_f32": "", "sgemm_128x128x8_f32": ""} {
		f, ok := FallbackOf(entry)
		if f.Probe != want || ok != (want != "") {
			t.Errorf("FallbackOf(%s) = %q, %v; want %q", entry, f.Probe, ok, want)
		}
	}
	// Every kernel a fallback names exists (a prefix: at least one does).
	var all []string
	for _, e := range Entries() {
		all = append(all, e.Name)
	}
	for _, f := range Fallbacks {
		for _, k := range f.Entries {
			found := false
			for _, e := range all {
				found = found || (Fallback{Entries: []string{k}}).Runs(e)
			}
			if !found {
				t.Errorf("fallback %s names kernel %s, which no .cu file has", f.Probe, k)
			}
		}
		if f.IsOff() {
			t.Errorf("%s is set in the test's environment", f.Switch())
		}
	}
	t.Setenv("LAFITE_CUDA_UPFIRDN", "tiled")
	if f, _ := FallbackOf("upfirdn2d_up2_f4_f32"); !f.IsOff() || f.Switch() != "LAFITE_CUDA_UPFIRDN=tiled" {
		t.Errorf("upfirdn-streaming: off %v, switch %s", f.IsOff(), f.Switch())
	}
}

// TestNewEwRows: the row-broadcast kernels' divisor finds each unit's row,
// and sizes past their 32-bit indices are refused.
func TestNewEwRows(t *testing.T) {
	for _, cols := range []int{1, 3, 7, 16, 1024, 4096} {
		p, err := NewEwRows(1000, cols, true)
		if err != nil || p.N != int64(1000*cols) || p.Left != 1 {
			t.Fatalf("cols %d: %+v %v", cols, p, err)
		}
		for _, q := range []int{0, cols - 1, cols, 5*cols + 2, 1000*cols - 1} {
			if q < 0 || q >= 1000*cols {
				continue
			}
			got := int((uint64(uint32(q))*uint64(p.Magic)>>32 + uint64(q)) >> p.Shift)
			if got != q/cols {
				t.Errorf("cols %d: unit %d in row %d, want %d", cols, q, got, q/cols)
			}
		}
	}
	if _, err := NewEwRows(1<<20, 1<<12, false); err == nil {
		t.Error("2^32 units accepted")
	}
	if _, err := NewEwRows(0, 4, false); err == nil {
		t.Error("0 rows accepted")
	}
}
