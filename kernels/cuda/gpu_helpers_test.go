package cuda

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"testing"
)

var (
	gpuOnce sync.Once
	gpuDev  *Device
	gpuErr  error
)

// gpu returns the shared test device or skips with one line saying why.
func gpu(t testing.TB) *Device {
	t.Helper()
	gpuOnce.Do(func() {
		if _, err := LoadNVRTC(); err != nil {
			if _, derr := loadDriver(); derr != nil {
				gpuErr = derr
				return
			}
			gpuErr = fmt.Errorf("GPU present but NVRTC missing: %s", NVRTCInstallHint)
			return
		}
		gpuDev, gpuErr = Open(0)
	})
	if gpuErr != nil {
		if errors.Is(gpuErr, ErrNoDriver) || errors.Is(gpuErr, ErrNoDevice) {
			t.Skip(gpuErr.Error())
		}
		if gpuDev == nil && !errors.As(gpuErr, new(*Error)) {
			t.Skip(gpuErr.Error())
		}
		t.Fatal(gpuErr)
	}
	return gpuDev
}

const poison = 0x7fc00bad // a NaN that marks never-written outputs

// buf is a device buffer freed at the end of the test.
func buf(t testing.TB, d *Device, n int) DevicePtr {
	t.Helper()
	p, err := d.Alloc(int64(4 * max(n, 1)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Free(p) })
	if err := d.MemsetD32(p, poison, int64(max(n, 1))); err != nil {
		t.Fatal(err)
	}
	return p
}

func upload(t testing.TB, d *Device, v []float32) DevicePtr {
	t.Helper()
	p := buf(t, d, len(v))
	if err := d.CopyHtoDF32(p, v); err != nil {
		t.Fatal(err)
	}
	return p
}

func download(t testing.TB, d *Device, p DevicePtr, n int) []float32 {
	t.Helper()
	out := make([]float32, n)
	if err := d.CopyDtoHF32(out, p); err != nil {
		t.Fatal(err)
	}
	return out
}

// run launches one kernel and waits, so that a fault names the kernel.
func run(t testing.TB, d *Device, file, entry string, grid, block Dim3, shared int, args ...any) {
	t.Helper()
	f, err := d.Function(file, entry)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Launch(f, grid, block, shared, args...); err != nil {
		t.Fatal(err)
	}
	if err := d.Synchronize(); err != nil {
		t.Fatalf("%s: %v", entry, err)
	}
}

func runPlan(t testing.TB, d *Device, p LaunchPlan, args ...any) {
	t.Helper()
	run(t, d, p.File, p.Entry, p.Grid, p.Block, p.Shared, args...)
}

func randn(r *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(r.NormFloat64())
	}
	return v
}

// near compares a GPU result with a float64 reference: |got-want| <= atol +
// rtol*|want| everywhere (NaN only where want is NaN).
func near(t testing.TB, what string, got []float32, want []float64, atol, rtol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	worst, wi := 0.0, -1
	for i := range got {
		g, w := float64(got[i]), want[i]
		if math.IsNaN(w) {
			if !math.IsNaN(g) {
				t.Errorf("%s[%d] = %v, want NaN", what, i, g)
				return
			}
			continue
		}
		e := math.Abs(g - w)
		if math.IsNaN(g) || e > atol+rtol*math.Abs(w) {
			t.Errorf("%s[%d] = %v, want %v (|err| %.3g); %d values", what, i, g, w, e, len(got))
			return
		}
		if e > worst {
			worst, wi = e, i
		}
	}
	if wi >= 0 {
		t.Logf("%s: %d values ok, max |err| %.3g at %d", what, len(got), worst, wi)
	}
}

func f64(v []float32) []float64 {
	o := make([]float64, len(v))
	for i, x := range v {
		o[i] = float64(x)
	}
	return o
}
