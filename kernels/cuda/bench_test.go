package cuda

import (
	"math/rand/v2"
	"sort"
	"testing"
)

// benchKernel times a launch with CUDA events after warm-up and reports the
// median with the given work: flops (GFLOP/s) and/or bytes (GB/s).
func benchKernel(b *testing.B, d *Device, launch func() error, flops, bytes float64) {
	for i := 0; i < 3; i++ {
		if err := launch(); err != nil {
			b.Fatal(err)
		}
	}
	var ms []float64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t, err := d.Time(launch)
		if err != nil {
			b.Fatal(err)
		}
		ms = append(ms, float64(t))
	}
	sort.Float64s(ms)
	med := ms[len(ms)/2]
	b.ReportMetric(med*1e3, "us/launch")
	if flops > 0 {
		b.ReportMetric(flops/(med*1e-3)/1e9, "GFLOP/s")
	}
	if bytes > 0 {
		b.ReportMetric(bytes/(med*1e-3)/1e9, "GB/s")
	}
}

func BenchmarkGPUSgemm4096(b *testing.B) {
	d := gpu(b)
	const n = 4096
	r := rand.New(rand.NewPCG(1, 1))
	A, B, C := upload(b, d, randn(r, n*n)), upload(b, d, randn(r, n*n)), buf(b, d, n*n)
	p := GemmParams{M: n, N: n, K: n, ARow: n, ACol: 1, BRow: n, BCol: 1, CRow: n, CCol: 1, Alpha: 1}
	pl := PlanSgemm(p, 1)
	f, err := d.Function(pl.File, pl.Entry)
	if err != nil {
		b.Fatal(err)
	}
	benchKernel(b, d, func() error { return d.Launch(f, pl.Grid, pl.Block, 0, p, A, B, C) }, 2*n*n*n, 0)
}

func BenchmarkGPUConv3x3x512(b *testing.B) {
	d := gpu(b)
	p := ConvParams{N: 8, C: 512, H: 32, W: 32, O: 512, KH: 3, KW: 3, Groups: 1, OH: 32, OW: 32,
		StrideH: 1, StrideW: 1, PadH: 1, PadW: 1, DilH: 1, DilW: 1}
	r := rand.New(rand.NewPCG(1, 2))
	x, w, y := upload(b, d, randn(r, 8*512*32*32)), upload(b, d, randn(r, 512*512*9)), buf(b, d, 8*512*32*32)
	pl, _ := PlanConv2d(ConvForward, p, d.Props.SMs)
	f, err := d.Function(pl.File, pl.Entry)
	if err != nil {
		b.Fatal(err)
	}
	benchKernel(b, d, func() error { return d.Launch(f, pl.Grid, pl.Block, 0, p, x, w, DevicePtr(0), y, float32(0)) },
		2*8*512*32*32*512*9, 0)
}

func BenchmarkGPUUpfirdnUp2(b *testing.B) {
	d := gpu(b)
	p := UpfirdnParams{Major: 16 * 128, InH: 128, InW: 128, UpX: 2, UpY: 2, DownX: 1, DownY: 1,
		PadX0: 2, PadX1: 1, PadY0: 2, PadY1: 1, FH: 4, FW: 4, Gain: 4, OutH: 256, OutW: 256}
	r := rand.New(rand.NewPCG(1, 3))
	x, f4, y := upload(b, d, randn(r, 16*128*128*128)), upload(b, d, randn(r, 16)), buf(b, d, 16*128*256*256)
	pl := PlanUpfirdn2d(p, d.Props.MaxSharedOptin, d.Props.SMs)
	f, err := d.Function(pl.File, pl.Entry)
	if err != nil {
		b.Fatal(err)
	}
	bytes := 4.0 * 16 * 128 * (128*128 + 256*256)
	benchKernel(b, d, func() error { return d.Launch(f, pl.Grid, pl.Block, pl.Shared, p, x, f4, y) }, 0, bytes)
}

func BenchmarkGPUBiasActLrelu(b *testing.B) {
	d := gpu(b)
	n := 16 * 128 * 64 * 64
	r := rand.New(rand.NewPCG(1, 4))
	x, bias, y := upload(b, d, randn(r, n)), upload(b, d, randn(r, 128)), buf(b, d, n)
	p := BiasActParams{Act: ActLrelu, Alpha: 0.2, Gain: 1.4142135, Clamp: 256, SizeX: int32(n), SizeB: 128, StepB: 64 * 64}
	f, err := d.Function("bias_act", "bias_act_f32")
	if err != nil {
		b.Fatal(err)
	}
	grid := GridStride(int64(n/4), 256, d.Props.SMs)
	benchKernel(b, d, func() error {
		return d.Launch(f, grid, D1(256), 0, p, x, bias, DevicePtr(0), DevicePtr(0), DevicePtr(0), y)
	}, 0, 8*float64(n))
}
