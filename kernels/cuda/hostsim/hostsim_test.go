package hostsim

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lafite-go/lafite/kernels/cuda"
)

// startUnits builds a device process from changed sources and starts it for
// the test.
func startUnits(t *testing.T, us []unit) *Device {
	t.Helper()
	bin, err := build(us)
	if err != nil {
		t.Fatal(err)
	}
	d, err := start(bin)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// withKernel starts a device whose process also holds the test's own kernel
// file src with the entry point e.
func withKernel(t *testing.T, e cuda.Entry, src string) *Device {
	t.Helper()
	ForTest(t) // skips without a compiler
	tu, err := translate(e.File, src, []cuda.Entry{e})
	if err != nil {
		t.Fatal(err)
	}
	// The device process with the test's kernel alone (none of the engine's):
	// a small build of its own.
	d := startUnits(t, []unit{{"server.cpp", serverSource}, {strings.TrimSuffix(e.File, ".cu") + ".cpp", tu}})
	ps, err := e.Parameters()
	if err != nil {
		t.Fatal(err)
	}
	d.params[e.Name] = ps
	return d
}

// faultOf launches e and returns the error the launch or the next
// synchronisation reports (nil when the kernel ran clean).
func faultOf(d *Device, e cuda.Entry, block int, args ...any) error {
	if err := d.Launch(&cuda.Function{Name: e.Name}, cuda.D1(1), cuda.D1(block), 0, args...); err != nil {
		return err
	}
	return d.Synchronize()
}

// wantFault fails t unless err mentions every one of parts.
func wantFault(t *testing.T, what string, err error, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if err == nil || !strings.Contains(err.Error(), p) {
			t.Fatalf("%s: got %v, want an error with %q", what, err, p)
		}
	}
}

func upload(t *testing.T, d *Device, v []float32) cuda.DevicePtr {
	t.Helper()
	p, err := d.Alloc(int64(4 * len(v)))
	if err != nil {
		t.Fatal(err)
	}
	if err := d.CopyHtoDF32(p, v); err != nil {
		t.Fatal(err)
	}
	return p
}

func function(t *testing.T, d *Device, file, entry string) *cuda.Function {
	t.Helper()
	f, err := d.Function(file, entry)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// A block-per-row sum goes through a strided loop, warp shuffles, shared
// memory and __syncthreads; rows end at different lengths, so warps and
// blocks see partial work.
func TestRunsABlockReduction(t *testing.T) {
	d := ForTest(t)
	const rows, cols = 5, 1000
	x := make([]float32, rows*cols)
	want := make([]float64, rows)
	for i := range x {
		x[i] = float32(math.Sin(float64(i) * 0.37))
		want[i/cols] += float64(x[i])
	}
	xp := upload(t, d, x)
	yp := upload(t, d, make([]float32, rows))
	f := function(t, d, "reduce.cu", "reduce_lastdim_block_f32")
	for _, threads := range []int{32, 256, 1024} {
		if err := d.Launch(f, cuda.D1(rows), cuda.D1(threads), 0, cuda.RedSum, int32(rows), int32(cols), float32(1), xp, yp); err != nil {
			t.Fatal(err)
		}
		got := make([]float32, rows)
		if err := d.CopyDtoHF32(got, yp); err != nil {
			t.Fatal(err)
		}
		for r := range got {
			if math.Abs(float64(got[r])-want[r]) > 1e-4 {
				t.Errorf("%d threads: row %d sum %g, want %g", threads, r, got[r], want[r])
			}
		}
	}
}

// A kernel that reads past the end of its buffer hits the guard page; the
// error names the kernel, and the dead device says so from then on.
func TestFaultNamesTheKernel(t *testing.T) {
	d := ForTest(t)
	x := upload(t, d, make([]float32, 1024))
	y := upload(t, d, make([]float32, 1024))
	f := function(t, d, "elementwise.cu", "ew_unary_f32")
	if err := d.Launch(f, cuda.D1(4), cuda.D1(256), 0, cuda.EwNeg, int64(1024), float32(0), float32(0), x, y); err != nil {
		t.Fatalf("in-bounds launch: %v", err)
	}
	err := d.Launch(f, cuda.D1(64), cuda.D1(256), 0, cuda.EwNeg, int64(64*256), float32(0), float32(0), x, y)
	if err == nil || !strings.Contains(err.Error(), "ew_unary_f32") || !strings.Contains(err.Error(), "outside its buffers") {
		t.Fatalf("out-of-bounds launch: %v", err)
	}
	if _, err2 := d.Alloc(16); err2 == nil || !strings.Contains(err2.Error(), "died") {
		t.Fatalf("alloc after the fault: %v", err2)
	}
}

// Launches the GPU would refuse, and copies outside any allocation, are
// errors, not faults.
func TestRefusesBadLaunchesAndCopies(t *testing.T) {
	d := ForTest(t)
	x := upload(t, d, make([]float32, 256))
	f := function(t, d, "elementwise.cu", "ew_unary_f32")
	for _, c := range []struct {
		name        string
		grid, block cuda.Dim3
		shared      int
		args        []any
		want        string
	}{
		{"block too big", cuda.D1(1), cuda.D1(2048), 0, []any{cuda.EwNeg, int64(1), float32(0), float32(0), x, x}, "block"},
		{"empty grid", cuda.Dim3{X: 0, Y: 1, Z: 1}, cuda.D1(32), 0, []any{cuda.EwNeg, int64(1), float32(0), float32(0), x, x}, "grid"},
		{"int for long long", cuda.D1(1), cuda.D1(32), 0, []any{cuda.EwNeg, int32(1), float32(0), float32(0), x, x}, "argument 1"},
		{"too few arguments", cuda.D1(1), cuda.D1(32), 0, []any{cuda.EwNeg}, "takes 6 arguments"},
		{"too much shared memory", cuda.D1(1), cuda.D1(32), 1 << 20, []any{cuda.EwNeg, int64(1), float32(0), float32(0), x, x}, "shared memory"},
	} {
		if err := d.Launch(f, c.grid, c.block, c.shared, c.args...); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error naming %q", c.name, err, c.want)
		}
	}
	if _, err := d.Function("elementwise.cu", "no_such_kernel"); err == nil {
		t.Error("Function found a kernel that does not exist")
	}
	big := make([]float32, 512)
	if err := d.CopyDtoHF32(big, x); err == nil || !strings.Contains(err.Error(), "outside the allocations") {
		t.Errorf("read past the allocation: %v", err)
	}
	if err := d.Free(x + 4); err == nil {
		t.Error("free of an inner address succeeded")
	}
	// The device is still alive after refusals.
	if err := d.Launch(f, cuda.D1(1), cuda.D1(256), 0, cuda.EwNeg, int64(256), float32(0), float32(0), x, x); err != nil {
		t.Fatalf("launch after refusals: %v", err)
	}
	if live, _ := d.Stats(); live != 1024 {
		t.Errorf("live bytes %d, want 1024", live)
	}
}

// Dynamic shared memory starts each block as garbage; a kernel that reads
// its tile before writing would show it. upfirdn2d's general path keeps its
// input tile and filter there.
func TestDynamicSharedMemory(t *testing.T) {
	d := ForTest(t)
	// 1 plane, 8x8 input, 2x2 box filter, up 1 down 1, padding 0: 7x7 sums.
	const h, w = 8, 8
	x := make([]float32, h*w)
	for i := range x {
		x[i] = float32(i % 7)
	}
	xp := upload(t, d, x)
	fp := upload(t, d, []float32{1, 1, 1, 1})
	yp := upload(t, d, make([]float32, 49))
	p := cuda.UpfirdnParams{Major: 1, InH: h, InW: w, OutH: 7, OutW: 7, UpX: 1, UpY: 1, DownX: 1, DownY: 1, FH: 2, FW: 2, Flip: 1, Gain: 1}
	plan := cuda.PlanUpfirdn2d(p, d.Props().MaxSharedOptin, d.Props().SMs)
	if plan.Shared == 0 {
		t.Fatalf("plan %+v uses no dynamic shared memory", plan)
	}
	f := function(t, d, "upfirdn2d.cu", plan.Entry)
	if err := d.Launch(f, plan.Grid, plan.Block, plan.Shared, p, xp, fp, yp); err != nil {
		t.Fatal(err)
	}
	got := make([]float32, 49)
	if err := d.CopyDtoHF32(got, yp); err != nil {
		t.Fatal(err)
	}
	for oy := 0; oy < 7; oy++ {
		for ox := 0; ox < 7; ox++ {
			want := x[oy*w+ox] + x[oy*w+ox+1] + x[(oy+1)*w+ox] + x[(oy+1)*w+ox+1]
			if got[oy*7+ox] != want {
				t.Fatalf("y[%d,%d] = %g, want %g", oy, ox, got[oy*7+ox], want)
			}
		}
	}
}

// The coroutine scheduler runs a block's threads one after another between
// barriers, so a missing __syncthreads shows as a wrong answer: the same
// reduction with its barrier removed must fail.
func TestMissingBarrierShows(t *testing.T) {
	ForTest(t) // skips without a compiler
	us, err := units()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for i, u := range us {
		if u.name != "reduce.cpp" {
			continue
		}
		at := strings.Index(u.source, "reduce_lastdim_block_f32(int op")
		bar := strings.Index(u.source[at:], "__syncthreads();")
		if at < 0 || bar < 0 {
			t.Fatal("reduce_lastdim_block_f32 or its barrier not found")
		}
		us[i].source = u.source[:at+bar] + u.source[at+bar+len("__syncthreads();"):]
		found = true
	}
	if !found {
		t.Fatal("no reduce.cpp unit")
	}
	d := startUnits(t, us)
	const rows, cols = 2, 4096
	x := make([]float32, rows*cols)
	for i := range x {
		x[i] = 1
	}
	xp := upload(t, d, x)
	yp := upload(t, d, make([]float32, rows))
	f := function(t, d, "reduce.cu", "reduce_lastdim_block_f32")
	if err := d.Launch(f, cuda.D1(rows), cuda.D1(256), 0, cuda.RedSum, int32(rows), int32(cols), float32(1), xp, yp); err != nil {
		t.Fatal(err)
	}
	got := make([]float32, rows)
	if err := d.CopyDtoHF32(got, yp); err != nil {
		t.Fatal(err)
	}
	if got[0] == cols && got[1] == cols {
		t.Fatalf("without its barrier the reduction still gave %v: races do not show", got)
	}
}

// A vector load off its alignment faults on a GPU; the simulator's __ldg
// checks it and names the kernel. The kernel here is the test's own.
func TestMisalignedVectorLoadNamesTheKernel(t *testing.T) {
	e := cuda.Entry{File: "misaligned.cu", Name: "test_misaligned_f32", Params: "const float* x, float* y"}
	src := `extern "C" __global__ void test_misaligned_f32(const float* __restrict__ x, float* __restrict__ y)
{
    float2 v = __ldg(reinterpret_cast<const float2*>(x + 1));
    y[0] = v.x + v.y;
}
`
	d := withKernel(t, e, src)
	x := upload(t, d, []float32{1, 2, 3, 4})
	y := upload(t, d, []float32{0})
	err := d.Launch(&cuda.Function{Name: e.Name}, cuda.D1(1), cuda.D1(1), 0, x, y)
	if err == nil || !strings.Contains(err.Error(), "test_misaligned_f32") || !strings.Contains(err.Error(), "misaligned 8-byte vector load") {
		t.Fatalf("misaligned load: %v", err)
	}
}

// Plain vector accesses through a cast pointer (a store here) are checked
// too: the kernels are compiled with -fsanitize=alignment, which stops the
// simulator at the first access off its type's alignment, as the GPU would.
func TestMisalignedVectorStoreIsCaught(t *testing.T) {
	e := cuda.Entry{File: "misaligned_store.cu", Name: "test_misaligned_store_f32", Params: "float* y"}
	src := `extern "C" __global__ void test_misaligned_store_f32(float* __restrict__ y)
{
    *reinterpret_cast<float4*>(y + 1) = make_float4(1.0f, 2.0f, 3.0f, 4.0f);
}
`
	d := withKernel(t, e, src)
	y := upload(t, d, make([]float32, 8))
	wantFault(t, "misaligned float4 store", faultOf(d, e, 1, y), "misaligned", e.Name)
}

// An index past a fixed-size array (shared memory here) stops the simulator
// too (-fsanitize=bounds), where a GPU would read or write a neighbour's
// data without a word.
func TestSharedArrayOverrunIsCaught(t *testing.T) {
	e := cuda.Entry{File: "overrun.cu", Name: "test_shared_overrun_f32", Params: "float* y"}
	src := `extern "C" __global__ void test_shared_overrun_f32(float* __restrict__ y)
{
    __shared__ float s[32];
    s[threadIdx.x + 1] = 1.0f; // thread 31 writes s[32]
    __syncthreads();
    y[threadIdx.x] = s[threadIdx.x];
}
`
	d := withKernel(t, e, src)
	y := upload(t, d, make([]float32, 32))
	wantFault(t, "shared-memory overrun", faultOf(d, e, 32, y), "out of bounds", e.Name)
}

// A full-mask shuffle after some lanes returned is undefined on a GPU (the
// returned lanes' values are whatever the hardware has); the simulator
// stops at it, naming the lane.
func TestShuffleAfterALaneReturnedIsCaught(t *testing.T) {
	e := cuda.Entry{File: "shuffle_exit.cu", Name: "test_shuffle_exit_f32", Params: "int n, float* y"}
	src := `extern "C" __global__ void test_shuffle_exit_f32(int n, float* __restrict__ y)
{
    if ((int)threadIdx.x >= n) return;
    float v = (float)threadIdx.x;
    v += __shfl_xor_sync(0xffffffffu, v, 1);
    y[threadIdx.x] = v;
}
`
	d := withKernel(t, e, src)
	y := upload(t, d, make([]float32, 32))
	// All 32 lanes present: a valid shuffle.
	if err := faultOf(d, e, 32, int32(32), y); err != nil {
		t.Fatal(err)
	}
	got := make([]float32, 32)
	if err := d.CopyDtoHF32(got, y); err != nil {
		t.Fatal(err)
	}
	if got[4] != 9 || got[5] != 9 {
		t.Fatalf("lanes 4, 5 = %v, %v; want 9, 9", got[4], got[5])
	}
	wantFault(t, "shuffle after lanes returned", faultOf(d, e, 32, int32(30), y), "lane 30 has returned", e.Name)
}

// Threads of one block meeting at different __syncthreads calls is
// undefined on a GPU (a hang, or a barrier that does not order what it
// seems to); the simulator stops at it, naming both lines.
func TestDivergentBarriersAreCaught(t *testing.T) {
	e := cuda.Entry{File: "divergent.cu", Name: "test_divergent_barrier_f32", Params: "int split, float* y"}
	src := `extern "C" __global__ void test_divergent_barrier_f32(int split, float* __restrict__ y)
{
    __shared__ float s[64];
    s[threadIdx.x] = (float)threadIdx.x;
    if ((int)threadIdx.x < split) {
        __syncthreads();
    } else {
        __syncthreads();
    }
    y[threadIdx.x] = s[63 - threadIdx.x];
}
`
	d := withKernel(t, e, src)
	y := upload(t, d, make([]float32, 64))
	// Every thread takes the same branch: one barrier.
	if err := faultOf(d, e, 64, int32(64), y); err != nil {
		t.Fatal(err)
	}
	wantFault(t, "divergent barriers", faultOf(d, e, 64, int32(40), y), "different barriers (divergent.cu:6 and divergent.cu:8)", e.Name)
}

// Old builds of other sources and abandoned build folders are pruned; the
// build in use and recent ones stay.
func TestPruneKeepsRecentBuilds(t *testing.T) {
	root := t.TempDir()
	mk := func(name string, age time.Duration, device bool) {
		dir := filepath.Join(root, name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		when := time.Now().Add(-age)
		if device {
			f := filepath.Join(dir, "device")
			if err := os.WriteFile(f, nil, 0o755); err != nil {
				t.Fatal(err)
			}
			os.Chtimes(f, when, when)
		}
		os.Chtimes(dir, when, when)
	}
	mk("keep0000", 30*24*time.Hour, true)
	mk("old00000", 8*24*time.Hour, true)
	mk("recent00", 2*24*time.Hour, true)
	mk("build-123", 2*time.Hour, false)
	mk("build-456", time.Minute, false)
	prune(root, filepath.Join(root, "keep0000"))
	for name, want := range map[string]bool{"keep0000": true, "old00000": false, "recent00": true, "build-123": false, "build-456": true} {
		_, err := os.Stat(filepath.Join(root, name))
		if got := err == nil; got != want {
			t.Errorf("%s: present %v, want %v", name, got, want)
		}
	}
}

// Shared memory starts each block undefined on a GPU; here a static shared
// array is NaN when a block first reaches it, so a kernel reading it before
// writing sees NaN instead of the previous block's values.
func TestStaticSharedStartsEachBlockAsNaN(t *testing.T) {
	e := cuda.Entry{File: "stale.cu", Name: "test_stale_shared_f32", Params: "float* y"}
	src := `extern "C" __global__ void test_stale_shared_f32(float* __restrict__ y)
{
    __shared__ float s[4];
    if (threadIdx.x == 0) y[blockIdx.x] = s[1]; // read before any write: undefined
    __syncthreads();
    s[threadIdx.x] = 1.0f;
}
`
	d := withKernel(t, e, src)
	y := upload(t, d, []float32{0, 0, 0})
	if err := d.Launch(&cuda.Function{Name: e.Name}, cuda.D1(3), cuda.D1(4), 0, y); err != nil {
		t.Fatal(err)
	}
	got := make([]float32, 3)
	if err := d.CopyDtoHF32(got, y); err != nil {
		t.Fatal(err)
	}
	for b, v := range got {
		if v == v { // not NaN: a block saw a previous block's value (or zeros)
			t.Errorf("block %d read %g from shared memory it had not written", b, v)
		}
	}
}

// A race that thread-index order hides: each thread reads its right
// neighbour's shared value and then overwrites its own, with no barrier
// between. Taken in index order every read comes before the neighbour's
// write; odd blocks take their threads in reverse order, so there the
// neighbour has already written and the result differs.
func TestWriteAfterReadRaceShowsInReversedBlocks(t *testing.T) {
	e := cuda.Entry{File: "war.cu", Name: "test_war_race_f32", Params: "float* y"}
	src := `extern "C" __global__ void test_war_race_f32(float* __restrict__ y)
{
    __shared__ float s[33];
    const int i = threadIdx.x;
    s[i] = (float)i;
    if (i == 0) s[32] = 32.0f;
    __syncthreads();
    const float right = s[i + 1]; // missing barrier after this read
    s[i] = -1.0f;
    y[blockIdx.x * 32 + i] = right;
}
`
	d := withKernel(t, e, src)
	y := upload(t, d, make([]float32, 2*32))
	if err := d.Launch(&cuda.Function{Name: e.Name}, cuda.D1(2), cuda.D1(32), 0, y); err != nil {
		t.Fatal(err)
	}
	got := make([]float32, 2*32)
	if err := d.CopyDtoHF32(got, y); err != nil {
		t.Fatal(err)
	}
	racy := 0
	for i := 0; i < 32; i++ {
		if got[i] != float32(i+1) {
			t.Fatalf("block 0 (index order) read %g at thread %d, want %d", got[i], i, i+1)
		}
		if got[32+i] != float32(i+1) {
			racy++
		}
	}
	if racy == 0 {
		t.Fatal("block 1 (reverse order) read every neighbour before its write: the race does not show")
	}
}
