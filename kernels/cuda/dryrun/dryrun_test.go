package dryrun

import (
	"testing"

	"github.com/lafite-go/lafite/kernels/cuda"
)

// TestWorkOfALaunch: a GEMM's work from its parameters (C read too when
// beta != 0, every batch of the grid), an elementwise launch's bytes from
// its buffers (from each address to its block's end, a block counted once),
// copies and memsets recorded, host copies counted, and Reset.
func TestWorkOfALaunch(t *testing.T) {
	d := New(cuda.DeviceProps{SMs: 4})
	a, _ := d.Alloc(4000)
	b, _ := d.Alloc(1000)
	if live, peak := d.Stats(); live != 5000 || peak != 5000 {
		t.Fatalf("stats %d %d", live, peak)
	}
	f, err := d.Function("sgemm.cu", "sgemm_128x128x8_f32")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Function("sgemm.cu", "no_such_kernel"); err == nil {
		t.Fatal("an unknown entry point was accepted")
	}
	p := cuda.GemmParams{M: 10, N: 20, K: 30, Beta: 1}
	d.Launch(f, cuda.D3(1, 1, 3), cuda.D1(256), 0, p, a, b, a)
	ew := &cuda.Function{Name: "ew_binary_f32"}
	// a's block once, from a: 4000; b: 1000
	if err := d.Launch(ew, cuda.D1(1), cuda.D1(256), 0, int32(0), int64(10), a+400, a, b); err != nil {
		t.Fatal(err)
	}
	// Launches a GPU would refuse are refused, and not recorded.
	for _, bad := range []func() error{
		func() error { return d.Launch(ew, cuda.D1(1), cuda.D1(256), 0, int32(0), 10, a, a, b) }, // int, not int64
		func() error { return d.Launch(ew, cuda.D3(1, 70000, 1), cuda.D1(256), 0, int32(0), int64(10), a, a, b) },
		func() error { return d.Launch(ew, cuda.D1(1), cuda.D1(2048), 0, int32(0), int64(10), a, a, b) },
		func() error { return d.Launch(f, cuda.D1(1), cuda.D1(512), 0, p, a, b, a) }, // __launch_bounds__(256, 2)
	} {
		if err := bad(); err == nil {
			t.Error("a bad launch was accepted")
		}
	}
	d.MemsetD32(b, 0, 250)
	d.CopyDtoD(a, b, 1000)
	got := make([]float32, 3)
	got[1] = 7
	d.CopyDtoHF32(got, a)
	d.CopyHtoDF32(a, []float32{1, 2})
	ls := d.Launches()
	if len(ls) != 4 {
		t.Fatalf("%d launches recorded", len(ls))
	}
	if l := ls[0]; l.FLOPs != 2*10*20*30*3 || l.Bytes != 4*3*(10*30+30*20+2*10*20) {
		t.Errorf("gemm %+v", l)
	}
	if l := ls[1]; l.FLOPs != 0 || l.Bytes != 5000 {
		t.Errorf("elementwise %+v", l)
	}
	if ls[2].Kernel != "memset" || ls[2].Bytes != 1000 || ls[3].Kernel != "copy device-to-device" || ls[3].Bytes != 2000 {
		t.Errorf("memset, copy: %+v %+v", ls[2], ls[3])
	}
	if got[1] != 0 {
		t.Error("a download did not read zeros")
	}
	if tr := d.Transfers(); tr != (Transfers{HtoD: 1, DtoH: 1, HtoDBytes: 8, DtoHBytes: 12}) {
		t.Errorf("transfers %+v", tr)
	}
	d.Reset()
	if len(d.Launches()) != 0 || d.Transfers() != (Transfers{}) {
		t.Error("Reset kept records")
	}
	if err := d.Free(a); err != nil {
		t.Fatal(err)
	}
	if err := d.Free(a); err == nil {
		t.Error("a second Free was accepted")
	}
	if live, _ := d.Stats(); live != 1000 {
		t.Errorf("live %d after freeing a", live)
	}
}
