package tensor

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/lafite-go/lafite/kernels/cuda"
	"github.com/lafite-go/lafite/kernels/cuda/emu"
)

// Tests of the CUDA device's host-side logic. They need no GPU: dispatch is
// checked with tensors that merely claim to live on the GPU, and the rest
// runs against the kernel emulator (kernels/cuda/emu).

// useEmulator makes an emulated GPU the CUDA device until restore.
func useEmulator() (*emu.Device, func()) {
	e := emu.New()
	return e, UseCUDABackend(e, e.Props())
}

// fakeCUDA is a tensor whose storage says CUDA but holds nothing: enough for
// the dispatch check, which must panic before any memory is touched.
func fakeCUDA(shape ...int) *Tensor {
	return &Tensor{shape: shape, strides: contiguousStrides(shape), storage: &Storage{device: CUDA}}
}

func TestDispatchRules(t *testing.T) {
	host, scalar, gpu := Ones(2, 3), Scalar(2), fakeCUDA(2, 3)
	if dispatchCUDA("Add", host, host, nil) {
		t.Fatal("host inputs dispatched to CUDA")
	}
	if !dispatchCUDA("Add", gpu, scalar) || !dispatchCUDA("Add", scalar, nil, gpu) {
		t.Fatal("GPU input with a 0-d host scalar must run on CUDA")
	}
	if dispatchCUDA("Add", scalar, scalar) {
		t.Fatal("0-d host scalars alone must stay on the host")
	}
	expectPanic(t, "tensor.Conv2d: inputs on different devices (cuda, cpu, nil)", func() {
		dispatchCUDA("Conv2d", gpu, host, nil)
	})
	// The public ops check before touching storage.
	expectPanic(t, "tensor.Add: inputs on different devices (cpu, cuda)", func() { Add(host, gpu) })
	expectPanic(t, "tensor.Matmul: inputs on different devices", func() { Matmul(gpu, Ones(3, 2)) })
	expectPanic(t, "tensor.Where: inputs on different devices (cpu, cuda, cpu 0-d)", func() {
		Where(host, gpu, scalar)
	})
	expectPanic(t, "tensor.Concat: inputs on different devices", func() { Concat([]*Tensor{gpu, host}, 0) })
	expectPanic(t, "tensor.AdamStep: inputs on different devices", func() {
		AdamStep(gpu, host, gpu, gpu, AdamParams{Step: 1})
	})
	expectPanic(t, "To(tensor.CPU) first", func() { gpu.Data() })
	expectPanic(t, "To(tensor.CPU) first", func() { gpu.StorageData() })
}

func TestToSameDeviceIsIdentity(t *testing.T) {
	x := New([]float32{1, 2, 3, 4, 5, 6}, 2, 3)
	if x.To(CPU) != x {
		t.Fatal("To(CPU) of a host tensor must return the tensor itself")
	}
	v := x.Transpose(0, 1)
	if v.To(CPU) != v {
		t.Fatal("To(CPU) of a host view must return the view itself")
	}
	if CPU.String() != "cpu" || CUDA.String() != "cuda" {
		t.Fatal("device names")
	}
}

func TestNoGPUIsOneClearLine(t *testing.T) {
	err := CUDAAvailable()
	if err == nil {
		t.Skip("a GPU is usable here")
	}
	if msg := err.Error(); msg == "" || strings.Contains(msg, "\n") || !strings.Contains(msg, "CPU") {
		t.Fatalf("reason %q: want one line saying it runs on the CPU", msg)
	}
	expectPanic(t, "tensor: CUDA device unavailable: "+err.Error(), func() { Ones(2).To(CUDA) })
	if live, peak := CUDAMemoryStats(); live != 0 || peak != 0 {
		t.Fatalf("memory stats without a GPU: %d %d", live, peak)
	}
}

func ramp(shape ...int) *Tensor {
	t := Empty(shape...)
	for i := range t.storage.data {
		t.storage.data[i] = float32(i)*0.5 - 3
	}
	return t
}

// closeValues compares within rtol of the largest magnitude: the emulator
// accumulates in float64, the host kernels in float32.
func closeValues(t *testing.T, what string, got, want *Tensor, rtol float64) {
	t.Helper()
	g, w := got.ToSlice(), want.ToSlice()
	if len(g) != len(w) {
		t.Fatalf("%s: %d values, want %d", what, len(g), len(w))
	}
	scale := 0.0
	for _, v := range w {
		scale = math.Max(scale, math.Abs(float64(v)))
	}
	for i := range w {
		if d := math.Abs(float64(g[i]) - float64(w[i])); !(d <= rtol*scale) {
			t.Fatalf("%s[%d] = %v, want %v", what, i, g[i], w[i])
		}
	}
}

func sameValues(t *testing.T, what string, got, want *Tensor) {
	t.Helper()
	if !SameShape(got.Shape(), want.Shape()) {
		t.Fatalf("%s: shape %v, want %v", what, got.Shape(), want.Shape())
	}
	g, w := got.ToSlice(), want.ToSlice()
	for i := range w {
		if g[i] != w[i] && !(g[i] != g[i] && w[i] != w[i]) {
			t.Fatalf("%s[%d] = %v, want %v", what, i, g[i], w[i])
		}
	}
}

func TestCUDARoundTripOfViews(t *testing.T) {
	dev, restore := useEmulator()
	defer restore()
	x := ramp(4, 5, 6)
	xg := x.To(CUDA)
	if xg.Device() != CUDA || xg == x {
		t.Fatal("To(CUDA) must give a new GPU tensor")
	}
	if xg.To(CUDA) != xg {
		t.Fatal("To(CUDA) of a GPU tensor must return it")
	}
	sameValues(t, "round trip", xg.To(CPU), x)
	views := map[string]func(*Tensor) *Tensor{
		"transposed":  func(a *Tensor) *Tensor { return a.Transpose(0, 2) },
		"slice step":  func(a *Tensor) *Tensor { return a.Slice(1, 1, 5, 2) },
		"narrow row":  func(a *Tensor) *Tensor { return a.Select(0, 2).Narrow(1, 1, 3) },
		"one column":  func(a *Tensor) *Tensor { return a.Select(2, 4).Select(1, 0) }, // span ≫ size: gathered on the GPU
		"broadcast":   func(a *Tensor) *Tensor { return a.Select(0, 1).Unsqueeze(0).Expand(3, 5, 6) },
		"reshape":     func(a *Tensor) *Tensor { return a.Transpose(1, 2).Reshape(4, 30) },
		"flip":        func(a *Tensor) *Tensor { return Flip(a, 0, 2) },
		"repeat":      func(a *Tensor) *Tensor { return Repeat(a.Narrow(0, 0, 2), 2, 1, 1, 2) },
		"contiguous":  func(a *Tensor) *Tensor { return a.Permute(2, 0, 1).Contiguous() },
		"scatter":     func(a *Tensor) *Tensor { return ScatterSlice(a, []int{4, 11, 6}, 1, 1, 2) },
		"zeros like":  func(a *Tensor) *Tensor { return ZerosLike(a) },
		"pad":         func(a *Tensor) *Tensor { return Pad(a, []int{1, -2, 0, 3}, -1) },
		"concat self": func(a *Tensor) *Tensor { return Concat([]*Tensor{a, a.Narrow(1, 0, 2)}, 1) },
	}
	for name, view := range views {
		got := view(xg)
		if got.Device() != CUDA {
			t.Fatalf("%s: result on %v", name, got.Device())
		}
		sameValues(t, name, got.To(CPU), view(x))
	}
	if v := xg.At(3, 2, 1); v != x.At(3, 2, 1) {
		t.Fatalf("At = %v, want %v", v, x.At(3, 2, 1))
	}
	if v := xg.Select(0, 1).Select(0, 4).Select(0, 5).Item(); v != x.At(1, 4, 5) {
		t.Fatalf("Item = %v, want %v", v, x.At(1, 4, 5))
	}
	if s := Ones(2).To(CUDA).String(); s != "Tensor[2]@cuda[1 1]" {
		t.Fatalf("String = %q", s)
	}
	if got := dev.Launches(); len(got) == 0 {
		t.Fatal("no kernel launched for the strided views")
	}
}

func TestCUDACopyFromAcrossDevices(t *testing.T) {
	_, restore := useEmulator()
	defer restore()
	dst := Zeros(3, 4).To(CUDA)
	dst.Narrow(1, 1, 2).CopyFrom(New([]float32{7, 8}, 2)) // host source, broadcast
	dst.Select(0, 2).CopyFrom(Scalar(-1))
	want := New([]float32{0, 7, 8, 0, 0, 7, 8, 0, -1, -1, -1, -1}, 3, 4)
	sameValues(t, "GPU view from host", dst.To(CPU), want)
	host := Zeros(4, 3)
	host.CopyFrom(dst.Transpose(0, 1)) // GPU source into a host tensor
	sameValues(t, "host from GPU", host, want.Transpose(0, 1))
	g2 := EmptyOn(CUDA, 3, 4)
	g2.CopyFrom(dst)
	sameValues(t, "GPU from GPU", g2.To(CPU), want)
	sameValues(t, "FullOn", FullOn(CUDA, 2.5, 2, 2).To(CPU), Full(2.5, 2, 2))
	sameValues(t, "OnesLike", OnesLike(dst).To(CPU), Ones(3, 4))
}

func TestCUDAScopeAndRelease(t *testing.T) {
	dev, restore := useEmulator()
	defer restore()
	live0, _ := dev.Stats()
	x := ramp(8, 8).To(CUDA)
	liveX, _ := dev.Stats()
	outer := OpenScope()
	s := OpenScope()
	y := Mul(Exp(x), x)
	z := Sum(Matmul(y, x.Transpose(0, 1)), []int{1}, false)
	kept := Add(z, z)
	if live, _ := dev.Stats(); live <= liveX {
		t.Fatal("temporaries allocated nothing")
	}
	s.Close(kept)
	if live, _ := dev.Stats(); live != liveX+4*int64(8) {
		t.Fatalf("after Close(kept): %d live bytes, want x plus kept's 32", live-live0)
	}
	hostZ := Sum(Matmul(Mul(Exp(ramp(8, 8)), ramp(8, 8)), ramp(8, 8).Transpose(0, 1)), []int{1}, false)
	closeValues(t, "kept value", kept.To(CPU), Add(hostZ, hostZ), 1e-5)
	expectPanic(t, "not the innermost open scope", func() { s.Close() })
	outer.Close() // kept passed to the outer scope and goes now
	if live, _ := dev.Stats(); live != liveX {
		t.Fatalf("after the outer Close: %d bytes above x", live-liveX)
	}
	expectPanic(t, "released CUDA tensor", func() { kept.To(CPU) })
	x.Release()
	x.Release() // a second release is harmless
	if live, _ := dev.Stats(); live != live0 {
		t.Fatalf("after Release: %d bytes still live", live-live0)
	}
}

func TestCUDAFallbackCountedAndLoggedOnce(t *testing.T) {
	_, restore := useEmulator()
	defer restore()
	var logged []string
	fallbackMu.Lock()
	prevLog, prevCounts := fallbackLogf, fallbackCounts
	fallbackLogf = func(format string, a ...any) { logged = append(logged, fmt.Sprintf(format, a...)) }
	fallbackCounts = map[string]int{}
	fallbackMu.Unlock()
	defer func() {
		fallbackMu.Lock()
		fallbackLogf, fallbackCounts = prevLog, prevCounts
		fallbackMu.Unlock()
	}()
	gy := ramp(2, 3, 3, 3)
	in := []int{2, 3, 6, 6}
	for i := 0; i < 3; i++ {
		got := AvgPool2dBackward(gy.To(CUDA), in, 2, 2, 2, 2, 0, 0, true)
		if got.Device() != CUDA {
			t.Fatal("fallback result must come back to the GPU")
		}
		sameValues(t, "AvgPool2dBackward", got.To(CPU), AvgPool2dBackward(gy, in, 2, 2, 2, 2, 0, 0, true))
	}
	Exp(gy.To(CUDA))                                             // has a kernel: neither counted nor logged
	AvgPool2d(ramp(1, 1, 4, 4).To(CUDA), 2, 2, 2, 2, 0, 0, true) // nor this one (pool.cu)
	if len(logged) != 1 || !strings.Contains(logged[0], "AvgPool2dBackward has no CUDA kernel") {
		t.Fatalf("logged %q, want one line about AvgPool2dBackward", logged)
	}
	if got := CUDAFallbacks(); len(got) != 1 || got[0] != "AvgPool2dBackward=3" {
		t.Fatalf("CUDAFallbacks() = %v, want [AvgPool2dBackward=3]", got)
	}
}

func TestCUDAPoisonAndScalars(t *testing.T) {
	_, restore := useEmulator()
	defer restore()
	SetCUDAPoison(true)
	e := EmptyOn(CUDA, 5)
	SetCUDAPoison(false)
	for i, v := range e.To(CPU).ToSlice() {
		if math.Float32bits(v) != poisonBits {
			t.Fatalf("poisoned element %d = %v", i, v)
		}
	}
	// 0-d host scalars join GPU ops and are uploaded once per value.
	x := ramp(3, 3).To(CUDA)
	g := theGPU()
	n0 := len(g.scalars)
	for i := 0; i < 4; i++ {
		x = Add(Mul(x, Scalar(0.5)), Scalar(1))
	}
	if n := len(g.scalars) - n0; n != 2 {
		t.Fatalf("%d scalars uploaded, want 2", n)
	}
	want := ramp(3, 3)
	for i := 0; i < 4; i++ {
		want = Add(Mul(want, Scalar(0.5)), Scalar(1))
	}
	closeValues(t, "scalar ops", x.To(CPU), want, 1e-6)
}

func TestCUDAValidationMatchesHost(t *testing.T) {
	_, restore := useEmulator()
	defer restore()
	x := Ones(2, 3, 5, 5).To(CUDA)
	expectPanic(t, "tensor.Conv2d: weight [4 2 3 3] expects 2 x channels", func() {
		Conv2d(x, Ones(4, 2, 3, 3).To(CUDA), nil, Conv2dParams{})
	})
	expectPanic(t, "tensor.Matmul: inner dimensions differ", func() { Matmul(x, Ones(4, 2).To(CUDA)) })
	expectPanic(t, "out of range", func() { IndexSelect(x, 1, []int{3}) })
	expectPanic(t, "unknown activation", func() { BiasAct(x, nil, BiasActParams{Act: "nope"}) })
	expectPanic(t, "tensor.AdamStep: p, m and v are updated in place and must be contiguous", func() {
		AdamStep(x.Transpose(2, 3), x, x, x, AdamParams{Step: 1})
	})
}

// TestEmulatorChecksKernelSignatures makes sure that a launch whose arguments
// do not match the kernel's C parameters fails under the emulator, as it
// would (or worse, silently misbehave) on a GPU.
func TestEmulatorChecksKernelSignatures(t *testing.T) {
	_, restore := useEmulator()
	defer restore()
	g := theGPU()
	x := Ones(4).To(CUDA)
	expectPanic(t, "argument 1 is int32, the kernel takes int64", func() {
		g.launch("elementwise.cu", "ew_unary_f32", g.grid1(4), cuda.D1(256), 0,
			cuda.EwExp, int32(4), float32(0), float32(0), x.ptr(), x.ptr())
	})
	expectPanic(t, "takes 6 arguments, launched with 5", func() {
		g.launch("elementwise.cu", "ew_unary_f32", g.grid1(4), cuda.D1(256), 0,
			cuda.EwExp, int64(4), float32(0), x.ptr(), x.ptr())
	})
	expectPanic(t, "no entry point", func() { g.fn("elementwise.cu", "ew_nonexistent_f32") })
}

func TestCUDATransfersCounted(t *testing.T) {
	_, restore := useEmulator()
	defer restore()
	c0 := CUDATransfers()
	x := ramp(2, 3).To(CUDA)               // one upload of 6 floats
	y := Exp(Add(x, Scalar(0.25)))         // a new scalar constant: one upload of 1 float
	z := Exp(Add(x, Scalar(0.25)))         // the same constant: cached, no copy
	v := Sum(Mul(y, z), nil, false).Item() // one download of 1 float
	if math.IsNaN(float64(v)) {
		t.Fatal("NaN")
	}
	got := CUDATransfers().Sub(c0)
	want := CUDATransferCounts{HtoD: 2, DtoH: 1, HtoDBytes: 28, DtoHBytes: 4}
	if got != want {
		t.Fatalf("transfers %+v, want %+v", got, want)
	}
}

// TestRowBroadcast: which coalesced shapes take the row-broadcast kernels.
func TestRowBroadcast(t *testing.T) {
	for _, c := range []struct {
		sh     []int
		sts    [][]int
		perRow int
		ok     bool
	}{
		{[]int{8, 16}, [][]int{{16, 1}, {1, 0}, {16, 1}}, 1, true},  // x * s[n, c]
		{[]int{8, 16}, [][]int{{1, 0}, {16, 1}, {16, 1}}, 0, true},  // s[n, c] - x
		{[]int{8, 16}, [][]int{{16, 1}, {0, 1}, {16, 1}}, 0, false}, // one value per column
		{[]int{8, 16}, [][]int{{1, 8}, {1, 0}, {16, 1}}, 0, false},  // a transposed
		{[]int{2, 8, 16}, [][]int{{128, 16, 1}, {0, 1, 0}, {128, 16, 1}}, 0, false},
	} {
		k, ok := rowBroadcast(c.sh, c.sts)
		if ok != c.ok || ok && k != c.perRow {
			t.Errorf("%v %v: (%d, %v), want (%d, %v)", c.sh, c.sts, k, ok, c.perRow, c.ok)
		}
	}
}
