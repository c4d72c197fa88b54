// Package emu emulates the CUDA device and kernels of package cuda in Go, so
// that the code above the kernels — the tensor layer's GPU paths and
// everything built on them — runs and is tested on machines without a GPU.
//
// Device memory is host memory behind fake addresses, and each kernel entry
// point is interpreted from the contract in its .cu header. A launch is
// checked as the GPU would not check it: argument types against the C
// parameters, grids against the launch rules, every access against the
// bounds of its block. What it cannot check is the kernels' own arithmetic
// and speed; kernels/cuda's GPU tests compare the real kernels with float64
// references on a GPU.
package emu

import (
	"fmt"
	"math"
	"strings"
	"sync"

	"github.com/lafite-go/lafite/kernels/cpu"
	"github.com/lafite-go/lafite/kernels/cuda"
)

// Device is an emulated GPU. It has the memory, copy and launch methods of
// *cuda.Device that the tensor layer uses (tensor.CUDABackend).
type Device struct {
	mu       sync.Mutex
	next     uint64
	mem      map[uint64][]float32
	live     int64
	peak     int64
	launches map[string]int
	props    cuda.DeviceProps
	drop     map[string]bool // entry points that run no work: a fault to be caught
}

// Props describes the emulated device (what launch planning reads).
func (e *Device) Props() cuda.DeviceProps { return e.props }

// Drop turns the given entry points into no-ops that leave their outputs as
// they were: a fault that tests of the layers above must catch.
func (e *Device) Drop(entries ...string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, n := range entries {
		e.drop[n] = true
	}
}

// emuSpan separates the fake addresses of two blocks, so that any address
// names its block.
const emuSpan = 1 << 40

// New returns an emulated GPU with empty memory.
func New() *Device {
	return &Device{mem: map[uint64][]float32{}, launches: map[string]int{}, drop: map[string]bool{},
		props: cuda.DeviceProps{Name: "emulated GPU", Major: 8, Minor: 0, SMs: 4, MaxSharedOptin: 99 << 10, TotalMem: 1 << 30}}
}

// Alloc returns a block of at least bytes bytes (zeroed, unlike a GPU's).
func (e *Device) Alloc(bytes int64) (cuda.DevicePtr, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.next++
	base := e.next * emuSpan
	e.mem[base] = make([]float32, (bytes+3)/4)
	e.live += bytes
	e.peak = max(e.peak, e.live)
	return cuda.DevicePtr(base), nil
}

// Free releases a block from Alloc.
func (e *Device) Free(p cuda.DevicePtr) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	b, ok := e.mem[uint64(p)]
	if !ok {
		return fmt.Errorf("emu: Free(%#x): not a live block", uint64(p))
	}
	e.live -= 4 * int64(len(b))
	delete(e.mem, uint64(p))
	return nil
}

// Stats returns the bytes allocated now and at peak.
func (e *Device) Stats() (live, peak int64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.live, e.peak
}

// buf is a kernel's view of an address: the block and the element index of
// the address in it. Indexing past the block panics, which is how a wrong
// offset or extent shows.
type buf struct {
	d []float32
	o int
}

func (b buf) at(i int) float32     { return b.d[b.o+i] }
func (b buf) set(i int, v float32) { b.d[b.o+i] = v }
func (b buf) add(i int, v float32) { b.d[b.o+i] += v }
func (b buf) ok() bool             { return b.d != nil }

func (e *Device) buf(p cuda.DevicePtr) buf {
	if p == 0 {
		return buf{}
	}
	base := uint64(p) &^ (emuSpan - 1)
	e.mu.Lock()
	d, ok := e.mem[base]
	e.mu.Unlock()
	if !ok {
		panic(fmt.Sprintf("emu: address %#x is in no live block", uint64(p)))
	}
	off := uint64(p) - base
	if off%4 != 0 {
		panic(fmt.Sprintf("emu: address %#x is not float-aligned", uint64(p)))
	}
	return buf{d, int(off / 4)}
}

// CopyHtoDF32 copies floats to the device.
func (e *Device) CopyHtoDF32(dst cuda.DevicePtr, src []float32) error {
	b := e.buf(dst)
	copy(b.d[b.o:b.o+len(src)], src)
	return nil
}

// CopyDtoHF32 copies floats from the device.
func (e *Device) CopyDtoHF32(dst []float32, src cuda.DevicePtr) error {
	b := e.buf(src)
	copy(dst, b.d[b.o:b.o+len(dst)])
	return nil
}

// CopyHtoDI32 copies int32s (kernel indices) to the device.
func (e *Device) CopyHtoDI32(dst cuda.DevicePtr, src []int32) error {
	b := e.buf(dst)
	for i, v := range src {
		b.set(i, math.Float32frombits(uint32(v)))
	}
	return nil
}

// CopyDtoD copies between device blocks.
func (e *Device) CopyDtoD(dst, src cuda.DevicePtr, bytes int64) error {
	d, s := e.buf(dst), e.buf(src)
	n := int(bytes / 4)
	copy(d.d[d.o:d.o+n], s.d[s.o:s.o+n])
	return nil
}

// MemsetD32 sets n 32-bit words.
func (e *Device) MemsetD32(dst cuda.DevicePtr, v uint32, n int64) error {
	d := e.buf(dst)
	f := math.Float32frombits(v)
	for i := 0; i < int(n); i++ {
		d.set(i, f)
	}
	return nil
}

// Synchronize returns at once: launches run to completion when queued.
func (e *Device) Synchronize() error { return nil }

// Function looks up an entry point of an embedded kernel file.
func (e *Device) Function(file, entry string) (*cuda.Function, error) {
	f, err := cuda.StandInFunction(file, entry)
	if err != nil {
		return nil, fmt.Errorf("emu: %w", err)
	}
	return f, nil
}

// Launches returns "entry=n" for every kernel launched so far, sorted.
func (e *Device) Launches() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return cuda.LaunchCounts(e.launches)
}

// need panics unless the grid covers want blocks along one axis.
func need(entry, axis string, got uint32, want int) {
	if int(got) < want {
		panic(fmt.Sprintf("emu: %s launched with grid.%s = %d, needs %d", entry, axis, got, want))
	}
}

// Launch checks a launch and runs its emulation; the arguments follow the
// kernel's C parameters exactly, as for (*cuda.Device).Launch.
func (e *Device) Launch(f *cuda.Function, grid, block cuda.Dim3, shared int, args ...any) error {
	if err := cuda.CheckLaunch(f.Name, grid, block, shared, e.props.MaxSharedOptin, args); err != nil {
		return fmt.Errorf("emu: %w", err)
	}
	e.mu.Lock()
	e.launches[f.Name]++
	dropped := e.drop[f.Name]
	e.mu.Unlock()
	if dropped {
		return nil
	}
	ptr := func(i int) buf { return e.buf(args[i].(cuda.DevicePtr)) }
	i32 := func(i int) int { return int(args[i].(int32)) }
	f32 := func(i int) float32 { return args[i].(float32) }
	if tm, tn, ok := sgemmTile(f.Name); ok {
		e.sgemm(f.Name, tm, tn, grid, args)
		return nil
	}
	switch f.Name {
	case "ew_unary_f32":
		op, n, a, b, x, y := args[0].(int32), int(args[1].(int64)), f32(2), f32(3), ptr(4), ptr(5)
		for i := 0; i < n; i++ {
			y.set(i, emuUnary(op, x.at(i), a, b))
		}
	case "ew_unary_strided_f32":
		op, s, a, b, x, y := args[0].(int32), args[1].(cuda.EwShape), f32(2), f32(3), ptr(4), ptr(5)
		emuStrided(s, func(xo, _, yo int) { y.set(yo, emuUnary(op, x.at(xo), a, b)) })
	case "ew_binary_f32":
		op, n, a, b, o := args[0].(int32), int(args[1].(int64)), ptr(2), ptr(3), ptr(4)
		for i := 0; i < n; i++ {
			o.set(i, emuBinary(op, a.at(i), b.at(i)))
		}
	case "ew_binary_strided_f32":
		op, s, a, b, o := args[0].(int32), args[1].(cuda.EwShape), ptr(2), ptr(3), ptr(4)
		emuStrided(s, func(ao, bo, oo int) { o.set(oo, emuBinary(op, a.at(ao), b.at(bo))) })
	case "ew_binary_rows_f32", "ew_binary_rows4_f32":
		op, p, a, v, o := args[0].(int32), args[1].(cuda.EwRows), ptr(2), ptr(3), ptr(4)
		w := 1 // floats per unit
		if f.Name == "ew_binary_rows4_f32" {
			w = 4
		}
		for q := 0; q < int(p.N); q++ {
			r := q / int(p.Cols)
			for j := q * w; j < (q+1)*w; j++ {
				if p.Left != 0 {
					o.set(j, emuBinary(op, v.at(r), a.at(j)))
				} else {
					o.set(j, emuBinary(op, a.at(j), v.at(r)))
				}
			}
		}
	case "ew_where_strided_f32":
		s, c, a, b, o := args[0].(cuda.EwShape), ptr(1), ptr(2), ptr(3), ptr(4)
		emuStrided(s, func(ao, bo, oo int) {
			if c.at(oo) != 0 {
				o.set(oo, a.at(ao))
			} else {
				o.set(oo, b.at(bo))
			}
		})
	case "reduce_lastdim_f32", "reduce_lastdim_block_f32":
		op, rows, cols, scale, x, y := args[0].(int32), i32(1), i32(2), f32(3), ptr(4), ptr(5)
		if f.Name == "reduce_lastdim_f32" {
			need(f.Name, "x", grid.X, (rows+7)/8)
		} else {
			need(f.Name, "x", grid.X, rows)
		}
		for r := 0; r < rows; r++ {
			acc := emuRedInit(op)
			for c := 0; c < cols; c++ {
				acc = emuRedAdd(op, acc, float64(x.at(r*cols+c)))
			}
			y.set(r, float32(acc)*scale)
		}
	case "reduce_strided_warp_f32", "reduce_strided_thread_f32", "reduce_strided_block_f32":
		op, s, scale, x, y := args[0].(int32), args[1].(cuda.RedShape), f32(2), ptr(3), ptr(4)
		if f.Name == "reduce_strided_warp_f32" {
			need(f.Name, "x", grid.X, (int(s.NOut)+7)/8)
		} else if f.Name == "reduce_strided_block_f32" {
			need(f.Name, "x", grid.X, int(s.NOut))
		} else {
			need(f.Name, "x", grid.X, (int(s.NOut)+255)/256)
		}
		for o := 0; o < int(s.NOut); o++ {
			xo := emuOffset(o, s.OutNDim, s.OutSize[:], s.OutStride[:])
			acc := emuRedInit(op)
			for r := 0; r < int(s.NRed); r++ {
				acc = emuRedAdd(op, acc, float64(x.at(xo+emuOffset(r, s.RedNDim, s.RedSize[:], s.RedStride[:]))))
			}
			y.set(o, float32(acc)*scale)
		}
	case "conv2d_fwd_f32", "conv2d_modfwd_f32", "conv2d_dgrad_f32", "conv2d_wgrad_f32":
		e.conv(f.Name, cuda.ConvTile64, grid, args)
	case "conv2d_fwd128_f32", "conv2d_modfwd128_f32", "conv2d_dgrad128_f32", "conv2d_wgrad128_f32":
		e.conv(strings.Replace(f.Name, "128_f32", "_f32", 1), cuda.ConvTile128, grid, args)
	case "conv2d_dgrad_phase128_f32":
		// The input gradient, one pixel class of the stride per grid.z slice.
		p := args[0].(cuda.ConvParams)
		if p.DilH != 1 || p.DilW != 1 {
			panic(fmt.Sprintf("emu: %s launched with dilation %dx%d; it takes 1", f.Name, p.DilH, p.DilW))
		}
		sh, sw := int(p.StrideH), int(p.StrideW)
		classCols := int(p.N) * ((int(p.H) + sh - 1) / sh) * ((int(p.W) + sw - 1) / sw)
		need(f.Name, "x", grid.X, (classCols+127)/128)
		need(f.Name, "y", grid.Y, (int(p.C/p.Groups)+127)/128)
		if int(grid.Z) != int(p.Groups)*sh*sw {
			panic(fmt.Sprintf("emu: %s launched with grid.z = %d, needs groups*stride_h*stride_w = %d", f.Name, grid.Z, int(p.Groups)*sh*sw))
		}
		whole := cuda.Dim3{X: uint32((int(p.N*p.H*p.W) + 127) / 128), Y: grid.Y, Z: uint32(p.Groups)}
		e.conv("conv2d_dgrad_f32", cuda.ConvTile128, whole, args)
	case "softmax_fwd_warp_f32", "softmax_fwd_block_f32":
		rows, cols, log, x, y := i32(0), i32(1), i32(2), ptr(3), ptr(4)
		if f.Name == "softmax_fwd_warp_f32" {
			need(f.Name, "x", grid.X, (rows+7)/8)
		} else {
			need(f.Name, "x", grid.X, rows)
		}
		for r := 0; r < rows; r++ {
			m := math.Inf(-1)
			for c := 0; c < cols; c++ {
				m = math.Max(m, float64(x.at(r*cols+c)))
			}
			var s float64
			for c := 0; c < cols; c++ {
				s += math.Exp(float64(x.at(r*cols+c)) - m)
			}
			for c := 0; c < cols; c++ {
				v := float64(x.at(r*cols + c))
				if log == 1 {
					y.set(r*cols+c, float32(v-m-math.Log(s)))
				} else {
					y.set(r*cols+c, float32(math.Exp(v-m)/s))
				}
			}
		}
	case "layernorm_fwd_f32":
		rows, cols, eps, x, gm, bt, y, mean, rstd := i32(0), i32(1), f32(2), ptr(3), ptr(4), ptr(5), ptr(6), ptr(7), ptr(8)
		need(f.Name, "x", grid.X, rows)
		for r := 0; r < rows; r++ {
			var s, q float64
			for c := 0; c < cols; c++ {
				s += float64(x.at(r*cols + c))
			}
			mu := s / float64(cols)
			for c := 0; c < cols; c++ {
				d := float64(x.at(r*cols+c)) - mu
				q += d * d
			}
			rs := 1 / math.Sqrt(q/float64(cols)+float64(eps))
			for c := 0; c < cols; c++ {
				h := (float64(x.at(r*cols+c)) - mu) * rs
				if gm.ok() {
					h *= float64(gm.at(c))
				}
				if bt.ok() {
					h += float64(bt.at(c))
				}
				y.set(r*cols+c, float32(h))
			}
			if mean.ok() {
				mean.set(r, float32(mu))
			}
			if rstd.ok() {
				rstd.set(r, float32(rs))
			}
		}
	case "embedding_fwd_f32", "embedding_bwd_f32":
		n, dim, vocab, idx, src, dst := i32(0), i32(1), i32(2), ptr(3), ptr(4), ptr(5)
		for i := 0; i < n; i++ {
			t := int(int32(math.Float32bits(idx.at(i))))
			for j := 0; j < dim; j++ {
				switch {
				case t < 0 || t >= vocab:
					if f.Name == "embedding_fwd_f32" {
						dst.set(i*dim+j, 0)
					}
				case f.Name == "embedding_fwd_f32":
					dst.set(i*dim+j, src.at(t*dim+j))
				default:
					dst.add(t*dim+j, src.at(i*dim+j))
				}
			}
		}
	case "bias_act_f32":
		p, x, b, xref, yref, dy, y := args[0].(cuda.BiasActParams), ptr(1), ptr(2), ptr(3), ptr(4), ptr(5), ptr(6)
		for i := 0; i < int(p.SizeX); i++ {
			var bv, xr, yr, d float32 = 0, 0, 0, 1
			if b.ok() {
				bv = b.at((i / int(p.StepB)) % int(p.SizeB))
			}
			if xref.ok() {
				xr = xref.at(i)
			}
			if yref.ok() {
				yr = yref.at(i)
			}
			if dy.ok() {
				d = dy.at(i)
			}
			y.set(i, emuBiasAct(p, x.at(i), bv, xr, yr, d))
		}
	case "upfirdn2d_f32", "upfirdn2d_up2_f4_f32", "upfirdn2d_down2_f4_f32", "upfirdn2d_filter_f4_f32", "upfirdn2d_direct_f32",
		"upfirdn2d_up2_f4_tiled_f32", "upfirdn2d_down2_f4_tiled_f32", "upfirdn2d_filter_f4_tiled_f32":
		p, x, fl, y := args[0].(cuda.UpfirdnParams), ptr(1), ptr(2), ptr(3)
		switch strings.Replace(f.Name, "_tiled", "", 1) {
		case "upfirdn2d_up2_f4_f32":
			if p.UpX != 2 || p.UpY != 2 || p.DownX != 1 || p.DownY != 1 || p.FH != 4 || p.FW != 4 {
				panic(fmt.Sprintf("emu: %s with %+v", f.Name, p))
			}
		case "upfirdn2d_down2_f4_f32":
			if p.UpX != 1 || p.UpY != 1 || p.DownX != 2 || p.DownY != 2 || p.FH != 4 || p.FW != 4 {
				panic(fmt.Sprintf("emu: %s with %+v", f.Name, p))
			}
		case "upfirdn2d_filter_f4_f32":
			if p.UpX != 1 || p.UpY != 1 || p.DownX != 1 || p.DownY != 1 || p.FH != 4 || p.FW != 4 {
				panic(fmt.Sprintf("emu: %s with %+v", f.Name, p))
			}
		}
		switch f.Name {
		case "upfirdn2d_up2_f4_f32", "upfirdn2d_down2_f4_f32", "upfirdn2d_filter_f4_f32":
			// Row streaming: block (32, 4), a column unit per lane, a strip
			// of rows (row pairs for up 2) per warp.
			if block.X != 32 || block.Y != 4 || block.Z != 1 {
				panic(fmt.Sprintf("emu: %s launched with block %v, needs (32, 4, 1)", f.Name, block))
			}
			units, rows := int(p.OutW), int(p.OutH)
			strip := map[string]int{"upfirdn2d_up2_f4_f32": 8, "upfirdn2d_down2_f4_f32": 8, "upfirdn2d_filter_f4_f32": 16}[f.Name]
			if f.Name == "upfirdn2d_up2_f4_f32" {
				units, rows = (units+1)/2, (rows+1)/2
			}
			need(f.Name, "x", grid.X, (units+31)/32)
			need(f.Name, "y", grid.Y, ((rows+strip-1)/strip+3)/4)
			if grid.Z < 1 || int(grid.Z) > max(int(p.Major), 1) {
				panic(fmt.Sprintf("emu: %s grid z %d for %d planes", f.Name, grid.Z, p.Major))
			}
		case "upfirdn2d_f32", "upfirdn2d_up2_f4_tiled_f32", "upfirdn2d_down2_f4_tiled_f32", "upfirdn2d_filter_f4_tiled_f32":
			need(f.Name, "x", grid.X, (int(p.OutW)+31)/32)
			need(f.Name, "y", grid.Y, (int(p.OutH)+31)/32)
			if shared < cuda.UpfirdnSharedBytes(p) {
				panic(fmt.Sprintf("emu: %s given %d bytes of shared memory, needs %d", f.Name, shared, cuda.UpfirdnSharedBytes(p)))
			}
		}
		emuUpfirdn(p, x, fl, y)
	case "wino_weight_f32":
		p, dgrad, w, U := args[0].(cuda.WinoParams), i32(1) != 0, ptr(2), ptr(3)
		need(f.Name, "x", grid.X*block.X, int(p.R)*int(p.K))
		emuWinoWeight(winoOf(p), int(p.R), int(p.K), dgrad, w, U)
	case "wino_input_f32":
		p, x, sIn, V := args[0].(cuda.WinoParams), ptr(1), ptr(2), ptr(3)
		need(f.Name, "x", grid.X*block.X, int(p.K)*int(p.Tiles))
		emuWinoInput(p, x, sIn, V)
	case "wino_output_f32":
		p, M, sOut, bias, noise, gain := args[0].(cuda.WinoParams), ptr(1), ptr(2), ptr(3), ptr(4), ptr(5)
		nStride, beta, y, z := int(args[6].(int32)), f32(7), ptr(8), ptr(9)
		need(f.Name, "x", grid.X*block.X, int(p.R)*int(p.Tiles))
		emuWinoOutput(p, M, sOut, bias, noise, gain, nStride, beta, y, z)
	case "wino_dy_f32":
		p, dy, E := args[0].(cuda.WinoParams), ptr(1), ptr(2)
		need(f.Name, "x", grid.X*block.X, int(p.R)*int(p.Tiles))
		emuWinoDy(p, dy, E)
	case "wino_wgrad_f32":
		p, Z, dw := args[0].(cuda.WinoParams), ptr(1), ptr(2)
		need(f.Name, "x", grid.X*block.X, int(p.R)*int(p.K))
		emuWinoWgrad(winoOf(p), int(p.R), int(p.K), Z, dw)
	case "avg_pool2d_f32", "max_pool2d_f32":
		p, x, y := args[0].(cuda.PoolParams), ptr(1), ptr(2)
		g := cpu.PoolGeom{Planes: int(p.Planes), H: int(p.H), W: int(p.W), OH: int(p.OH), OW: int(p.OW), KH: int(p.KH), KW: int(p.KW),
			SH: int(p.SH), SW: int(p.SW), PH: int(p.PH), PW: int(p.PW), CountIncludePad: p.CountIncludePad != 0}
		in, out := x.d[x.o:x.o+g.Planes*g.H*g.W], y.d[y.o:y.o+g.Planes*g.OH*g.OW]
		if f.Name == "avg_pool2d_f32" {
			cpu.AvgPool2dRef(g, in, out)
		} else {
			cpu.MaxPool2dRef(g, in, out)
		}
	case "resize_bicubic_f32", "resize_bicubic_adj_f32":
		emuResizeBicubic(args[0].(cuda.ResizeParams), ptr(1), ptr(2), f.Name == "resize_bicubic_adj_f32")
	case "rng_uniform_f32":
		n, seed, ctr, lo, hi, out := int(args[0].(int64)), args[1].(uint64), args[2].(uint64), f32(3), f32(4), ptr(5)
		v := make([]float32, n)
		cpu.FillUniform(v, lo, hi, seed, ctr)
		for i, x := range v {
			out.set(i, x)
		}
	case "rng_normal_f32":
		n, seed, ctr, out := int(args[0].(int64)), args[1].(uint64), args[2].(uint64), ptr(3)
		v := make([]float32, n)
		cpu.FillNormal(v, seed, ctr)
		for i, x := range v {
			out.set(i, x)
		}
	case "ema_update_f32":
		emuEMA(int(args[0].(int64)), f32(1), ptr(2), ptr(3))
	case "ema_multi_f32":
		t := args[0].(cuda.MultiTensor)
		emuMulti(f.Name, grid, t, func(k int) { emuEMA(int(t.N[k]), f32(1), e.buf(t.A[k]), e.buf(t.B[k])) })
	case "adam_multi_f32":
		t := args[0].(cuda.MultiTensor)
		emuMulti(f.Name, grid, t, func(k int) {
			emuAdam(int(t.N[k]), f32(1), f32(2), f32(3), f32(4), f32(5), f32(6), f32(7), f32(8), f32(9),
				e.buf(t.A[k]), e.buf(t.B[k]), e.buf(t.C[k]), e.buf(t.D[k]))
		})
	case "modconv_wsq_f32":
		o, in, kk, w, wsq := i32(0), i32(1), i32(2), ptr(3), ptr(4)
		need(f.Name, "x", grid.X*block.X, o*in)
		for oi := 0; oi < o*in; oi++ {
			var s float64
			for k := 0; k < kk; k++ {
				v := float64(w.at(oi*kk + k))
				s += v * v
			}
			wsq.set(oi, float32(s))
		}
	case "modconv_demod_f32":
		n, o, in, eps, st, wsq, d := i32(0), i32(1), i32(2), f32(3), ptr(4), ptr(5), ptr(6)
		need(f.Name, "x", grid.X*(block.X/32), n*o)
		for no := 0; no < n*o; no++ {
			b, c := no/o, no%o
			var s float64
			for i := 0; i < in; i++ {
				v := float64(st.at(b*in + i))
				s += v * v * float64(wsq.at(c*in+i))
			}
			d.set(no, float32(1/math.Sqrt(s+float64(eps))))
		}
	case "modconv_weight_f32":
		n, o, in, kk, w, st, d, out := i32(0), i32(1), i32(2), i32(3), ptr(4), ptr(5), args[6].(cuda.DevicePtr), ptr(7)
		for j := 0; j < n*o*in*kk; j++ {
			b, r := j/(o*in*kk), j%(o*in*kk)
			c, i := r/(in*kk), r/kk%in
			v := w.at(r) * st.at(b*in+i)
			if d != 0 {
				v *= e.buf(d).at(b*o + c)
			}
			out.set(j, v)
		}
	case "adam_step_f32":
		emuAdam(int(args[0].(int64)), f32(1), f32(2), f32(3), f32(4), f32(5), f32(6), f32(7), f32(8), f32(9),
			ptr(10), ptr(11), ptr(12), ptr(13))
	default:
		return fmt.Errorf("emu: no emulation of %s", f.Name)
	}
	return nil
}

// emuEMA is ema_update_f32 on n elements: rounded op by op, as the kernel.
func emuEMA(n int, beta float32, avg, src buf) {
	for i := 0; i < n; i++ {
		s := src.at(i)
		avg.set(i, s+float32(beta*float32(avg.at(i)-s)))
	}
}

// emuAdam is adam_step_f32 on n elements.
func emuAdam(n int, lr, b1, b2, eps, wd, bc1, bc2, gs, infTo float32, p, g, m, v buf) {
	for i := 0; i < n; i++ {
		gi := float64(g.at(i) * gs)
		if infTo > 0 {
			if math.IsNaN(gi) {
				gi = 0
			} else if math.IsInf(gi, 0) {
				gi = math.Copysign(float64(infTo), gi)
			}
		}
		gi += float64(wd) * float64(p.at(i))
		mi := float64(b1)*float64(m.at(i)) + (1-float64(b1))*gi
		vi := float64(b2)*float64(v.at(i)) + (1-float64(b2))*gi*gi
		m.set(i, float32(mi))
		v.set(i, float32(vi))
		p.set(i, float32(float64(p.at(i))-float64(lr)/float64(bc1)*mi/(math.Sqrt(vi)/math.Sqrt(float64(bc2))+float64(eps))))
	}
}

// emuMulti checks a multi-tensor launch's table (counts, block ranges that
// cover each tensor in chunks, the grid) and runs each tensor with run.
func emuMulti(entry string, grid cuda.Dim3, t cuda.MultiTensor, run func(k int)) {
	if t.Count < 1 || t.Count > cuda.MultiMax || t.Chunk < 1 || t.BlockStart[0] != 0 {
		panic(fmt.Sprintf("emu: %s: table with count %d, chunk %d, first block %d", entry, t.Count, t.Chunk, t.BlockStart[0]))
	}
	for k := 0; k < int(t.Count); k++ {
		if blocks := int64(t.BlockStart[k+1] - t.BlockStart[k]); blocks*int64(t.Chunk) < t.N[k] || (blocks-1)*int64(t.Chunk) >= t.N[k] {
			panic(fmt.Sprintf("emu: %s: tensor %d of %d elements has %d blocks of %d", entry, k, t.N[k], blocks, t.Chunk))
		}
		run(k)
	}
	need(entry, "x", grid.X, int(t.BlockStart[t.Count]))
}

// emuStrided calls f with the (a, b, o) offsets of every element of s.
func emuStrided(s cuda.EwShape, f func(ao, bo, oo int)) {
	for i := 0; i < int(s.N); i++ {
		r, ao, bo, oo := i, 0, 0, 0
		for d := int(s.NDim) - 1; d >= 0; d-- {
			c := r % int(s.Size[d])
			r /= int(s.Size[d])
			ao += c * int(s.A[d])
			bo += c * int(s.B[d])
			oo += c * int(s.O[d])
		}
		f(ao, bo, oo)
	}
}

func emuOffset(i int, ndim int32, size, stride []int32) int {
	off := 0
	for d := int(ndim) - 1; d >= 0; d-- {
		c := i % int(size[d])
		i /= int(size[d])
		off += c * int(stride[d])
	}
	return off
}

func emuRedInit(op int32) float64 {
	switch op {
	case cuda.RedMax:
		return math.Inf(-1)
	case cuda.RedMin:
		return math.Inf(1)
	}
	return 0
}

func emuRedAdd(op int32, acc, v float64) float64 {
	switch op {
	case cuda.RedMax:
		if v != v || v > acc {
			return v
		}
		return acc
	case cuda.RedMin:
		if v != v || v < acc {
			return v
		}
		return acc
	case cuda.RedSumSq:
		return acc + v*v
	}
	return acc + v
}

func emuUnary(op int32, x32, a, b float32) float32 {
	x := float64(x32)
	var y float64
	switch op {
	case cuda.EwCopy:
		return x32
	case cuda.EwNeg:
		y = -x
	case cuda.EwAbs:
		y = math.Abs(x)
	case cuda.EwExp:
		y = math.Exp(x)
	case cuda.EwLog:
		y = math.Log(x)
	case cuda.EwSqrt:
		y = math.Sqrt(x)
	case cuda.EwRsqrt:
		y = 1 / math.Sqrt(x)
	case cuda.EwSin:
		y = math.Sin(x)
	case cuda.EwCos:
		y = math.Cos(x)
	case cuda.EwTanh:
		y = math.Tanh(x)
	case cuda.EwSigmoid:
		y = 1 / (1 + math.Exp(-x))
	case cuda.EwRelu:
		y = math.Max(x, 0)
	case cuda.EwSquare:
		y = x * x
	case cuda.EwRecip:
		y = 1 / x
	case cuda.EwSign:
		switch {
		case x > 0:
			y = 1
		case x < 0:
			y = -1
		}
	case cuda.EwAffine:
		y = float64(a)*x + float64(b)
	case cuda.EwPow:
		y = math.Pow(x, float64(a))
	case cuda.EwLrelu:
		y = x
		if !(x > 0) {
			y = float64(a) * x
		}
	case cuda.EwClamp:
		y = x
		if x == x {
			y = math.Min(math.Max(x, float64(a)), float64(b))
		}
	case cuda.EwFloor:
		y = math.Floor(x)
	case cuda.EwCeil:
		y = math.Ceil(x)
	case cuda.EwSoftplus:
		y = math.Max(x, 0) + math.Log1p(math.Exp(-math.Abs(x)))
	case cuda.EwGelu:
		y = 0.5 * x * (1 + math.Erf(x/math.Sqrt2))
	case cuda.EwGeluTanh:
		y = 0.5 * x * (1 + math.Tanh(0.7978845608028654*(x+0.044715*x*x*x)))
	case cuda.EwQuickGelu:
		y = x / (1 + math.Exp(-1.702*x))
	case cuda.EwErf:
		y = math.Erf(x)
	case cuda.EwStep:
		if x > 0 {
			y = 1
		}
	case cuda.EwInRange:
		if x >= float64(a) && x <= float64(b) {
			y = 1
		}
	case cuda.EwNanTo:
		y = x
		if x != x {
			y = float64(a)
		}
	case cuda.EwInfTo:
		y = x
		if math.IsInf(x, 1) {
			y = float64(a)
		} else if math.IsInf(x, -1) {
			y = float64(b)
		}
	case cuda.EwIsFinite:
		if x-x == 0 {
			y = 1
		}
	default:
		panic(fmt.Sprintf("emu: unary op %d", op))
	}
	return float32(y)
}

func emuBinary(op int32, a, b float32) float32 {
	bf := func(c bool) float32 {
		if c {
			return 1
		}
		return 0
	}
	switch op {
	case cuda.EwAdd:
		return a + b
	case cuda.EwSub:
		return a - b
	case cuda.EwMul:
		return a * b
	case cuda.EwDiv:
		return a / b
	case cuda.EwMax:
		if a != a || a > b {
			return a
		}
		return b
	case cuda.EwMin:
		if a != a || a < b {
			return a
		}
		return b
	case cuda.EwPowB:
		return float32(math.Pow(float64(a), float64(b)))
	case cuda.EwEq:
		return bf(a == b)
	case cuda.EwNe:
		return bf(a != b)
	case cuda.EwLt:
		return bf(a < b)
	case cuda.EwLe:
		return bf(a <= b)
	case cuda.EwGt:
		return bf(a > b)
	case cuda.EwGe:
		return bf(a >= b)
	}
	panic(fmt.Sprintf("emu: binary op %d", op))
}

// sgemmTile is the output tile (rows m, columns n) of a GEMM entry point:
// one of cuda.SgemmKernels, the 16x16 sgemm_small_f32 or the 16x32
// sgemm_skinny_f32; ok false for any other entry.
func sgemmTile(entry string) (m, n int, ok bool) {
	switch entry {
	case "sgemm_small_f32":
		return 16, 16, true
	case "sgemm_skinny_f32":
		return 16, 32, true
	}
	for _, k := range cuda.SgemmKernels {
		if k.Entry == entry {
			return k.Tile, k.Tile, true
		}
	}
	return 0, 0, false
}

// sgemm emulates every GEMM kernel: the grid must cover C in tiles of tm x
// tn; C = alpha A B (+ beta C) per batch matrix, sums in float64.
func (e *Device) sgemm(entry string, tm, tn int, grid cuda.Dim3, args []any) {
	p := args[0].(cuda.GemmParams)
	A, B, C := e.buf(args[1].(cuda.DevicePtr)), e.buf(args[2].(cuda.DevicePtr)), e.buf(args[3].(cuda.DevicePtr))
	need(entry, "x", grid.X, (int(p.N)+tn-1)/tn)
	need(entry, "y", grid.Y, (int(p.M)+tm-1)/tm)
	for z := 0; z < int(grid.Z); z++ {
		zi, zo := int64(z), int64(0)
		if p.BatchInner > 1 {
			zo, zi = zi/int64(p.BatchInner), zi%int64(p.BatchInner)
		}
		ao, bo, co := zi*p.ABatch+zo*p.AOuter, zi*p.BBatch+zo*p.BOuter, zi*p.CBatch+zo*p.COuter
		for m := 0; m < int(p.M); m++ {
			for n := 0; n < int(p.N); n++ {
				var acc float64
				for k := 0; k < int(p.K); k++ {
					acc += float64(A.at(int(ao+int64(m)*p.ARow+int64(k)*p.ACol))) *
						float64(B.at(int(bo+int64(k)*p.BRow+int64(n)*p.BCol)))
				}
				ci := int(co + int64(m)*p.CRow + int64(n)*p.CCol)
				v := p.Alpha * float32(acc)
				if p.Beta != 0 {
					v += p.Beta * C.at(ci)
				}
				C.set(ci, v)
			}
		}
	}
}

// conv interprets the conv2d.cu kernels with their documented
// layouts, checking the grid against the launch rules.
// conv computes conv2d.cu's entry (named by its 64x64 version) and checks the
// grid of the given output tile.
func (e *Device) conv(entry string, tile int, grid cuda.Dim3, args []any) {
	p := args[0].(cuda.ConvParams)
	N, C, H, W, O := int(p.N), int(p.C), int(p.H), int(p.W), int(p.O)
	KH, KW, G, OH, OW := int(p.KH), int(p.KW), int(p.Groups), int(p.OH), int(p.OW)
	cg, og := C/G, O/G
	ptr := func(i int) buf { return e.buf(args[i].(cuda.DevicePtr)) }
	xAt := func(n, c, ih, iw int) (int, bool) {
		if ih < 0 || ih >= H || iw < 0 || iw >= W {
			return 0, false
		}
		return ((n*C+c)*H+ih)*W + iw, true
	}
	// each visits every (n, o, oh, ow, ci, kh, kw) term with its x index.
	each := func(f func(yi, wi, xi int)) {
		for n := 0; n < N; n++ {
			for o := 0; o < O; o++ {
				gi := o / og
				for oh := 0; oh < OH; oh++ {
					for ow := 0; ow < OW; ow++ {
						yi := ((n*O+o)*OH+oh)*OW + ow
						for c := 0; c < cg; c++ {
							for kh := 0; kh < KH; kh++ {
								for kw := 0; kw < KW; kw++ {
									xi, ok := xAt(n, gi*cg+c, oh*int(p.StrideH)-int(p.PadH)+kh*int(p.DilH), ow*int(p.StrideW)-int(p.PadW)+kw*int(p.DilW))
									if ok {
										f(yi, ((o*cg+c)*KH+kh)*KW+kw, xi)
									}
								}
							}
						}
					}
				}
			}
		}
	}
	switch entry {
	case "conv2d_fwd_f32":
		need(entry, "x", grid.X, (N*OH*OW+tile-1)/tile)
		need(entry, "y", grid.Y, (og+tile-1)/tile)
		need(entry, "z", grid.Z, G)
		x, w, bias, y, beta := ptr(1), ptr(2), ptr(3), ptr(4), args[5].(float32)
		acc := make([]float64, N*O*OH*OW)
		each(func(yi, wi, xi int) { acc[yi] += float64(x.at(xi)) * float64(w.at(wi)) })
		for i, v := range acc {
			if bias.ok() {
				v += float64(bias.at((i / (OH * OW)) % O))
			}
			if beta != 0 {
				v += float64(beta) * float64(y.at(i))
			}
			y.set(i, float32(v))
		}
	case "conv2d_modfwd_f32":
		// z = conv(x * in_scale, w); y = z * out_scale + noise * noise_gain.
		need(entry, "x", grid.X, (N*OH*OW+tile-1)/tile)
		need(entry, "y", grid.Y, (og+tile-1)/tile)
		need(entry, "z", grid.Z, G)
		x, w, sIn, sOut, noise, gain := ptr(1), ptr(2), ptr(3), ptr(4), ptr(5), ptr(6)
		nStride, y, z := int(args[7].(int32)), ptr(8), ptr(9)
		if nStride != 0 && nStride != OH*OW {
			panic(fmt.Sprintf("emu: %s: noise_n_stride %d is neither 0 nor OH*OW = %d", entry, nStride, OH*OW))
		}
		acc := make([]float64, N*O*OH*OW)
		each(func(yi, wi, xi int) {
			xv := float64(x.at(xi))
			if sIn.ok() {
				xv *= float64(sIn.at(xi / (H * W))) // x's (n, c) plane is in_scale's (n, c) element
			}
			acc[yi] += xv * float64(w.at(wi))
		})
		g := 1.0
		if gain.ok() {
			g = float64(gain.at(0))
		}
		for i, v := range acc {
			if z.ok() {
				z.set(i, float32(v))
			}
			n, o, r := i/(O*OH*OW), (i/(OH*OW))%O, i%(OH*OW)
			if sOut.ok() {
				v *= float64(sOut.at(n*O + o))
			}
			if noise.ok() {
				v += float64(noise.at(n*nStride+r)) * g
			}
			y.set(i, float32(v))
		}
	case "conv2d_dgrad_f32":
		need(entry, "x", grid.X, (N*H*W+tile-1)/tile)
		need(entry, "y", grid.Y, (cg+tile-1)/tile)
		need(entry, "z", grid.Z, G)
		dy, w, dx, beta := ptr(1), ptr(2), ptr(3), args[4].(float32)
		acc := make([]float64, N*C*H*W)
		each(func(yi, wi, xi int) { acc[xi] += float64(dy.at(yi)) * float64(w.at(wi)) })
		for i, v := range acc {
			if beta != 0 {
				v += float64(beta) * float64(dx.at(i))
			}
			dx.set(i, float32(v))
		}
	case "conv2d_wgrad_f32":
		kSplit := int(args[1].(int32))
		splits := (N*OH*OW + kSplit - 1) / kSplit
		need(entry, "x", grid.X, (cg*KH*KW+tile-1)/tile)
		need(entry, "y", grid.Y, (og+tile-1)/tile)
		need(entry, "z", grid.Z, G*splits)
		x, dy, dw := ptr(2), ptr(3), ptr(4)
		acc := make([]float64, O*cg*KH*KW)
		each(func(yi, wi, xi int) { acc[wi] += float64(dy.at(yi)) * float64(x.at(xi)) })
		for i, v := range acc {
			dw.add(i, float32(v))
		}
	}
}

func emuUpfirdn(p cuda.UpfirdnParams, x, f, y buf) {
	pmod := func(a, b int) int { return ((a % b) + b) % b }
	fh, fw := int(p.FH), int(p.FW)
	for plane := 0; plane < int(p.Major); plane++ {
		xo := plane * int(p.InH) * int(p.InW)
		for oy := 0; oy < int(p.OutH); oy++ {
			for ox := 0; ox < int(p.OutW); ox++ {
				midY, midX := oy*int(p.DownY)-int(p.PadY0), ox*int(p.DownX)-int(p.PadX0)
				var acc float64
				for ky := pmod(-midY, int(p.UpY)); ky < fh; ky += int(p.UpY) {
					iy := (midY + ky) / int(p.UpY)
					if iy < 0 || iy >= int(p.InH) {
						continue
					}
					for kx := pmod(-midX, int(p.UpX)); kx < fw; kx += int(p.UpX) {
						ix := (midX + kx) / int(p.UpX)
						if ix < 0 || ix >= int(p.InW) {
							continue
						}
						fi := (fh-1-ky)*fw + (fw - 1 - kx)
						if p.Flip != 0 {
							fi = ky*fw + kx
						}
						acc += float64(x.at(xo+iy*int(p.InW)+ix)) * float64(f.at(fi))
					}
				}
				y.set((plane*int(p.OutH)+oy)*int(p.OutW)+ox, float32(float64(p.Gain)*acc))
			}
		}
	}
}

// emuResizeBicubic is one axis pass of interpolate.cu: the CPU's bicubic
// table along the axis, the source read through its strides. The adjoint
// gathers as the kernel does, over cuda.BicubicAdjointRange only, so that a
// range missing a term shows here as a wrong gradient.
func emuResizeBicubic(p cuda.ResizeParams, x, y buf, adjoint bool) {
	if p.Axis == 0 && p.InW != p.OutW || p.Axis == 1 && p.InH != p.OutH || p.Axis != 0 && p.Axis != 1 {
		panic(fmt.Sprintf("emu: resize with axis %d resizes the other axis too: %+v", p.Axis, p))
	}
	if p.DH < p.OutW || p.DPlane < p.OutH*p.DH && p.Planes > 1 {
		panic(fmt.Sprintf("emu: resize destination strides (%d, %d) overlap its rows or planes: %+v", p.DPlane, p.DH, p))
	}
	outH, outW := int(p.OutH), int(p.OutW)
	n, m, step := p.AxisLengths()
	tab := cpu.BicubicTable(n, m)
	if adjoint {
		tab = cpu.BicubicTable(m, n)
	}
	for e := 0; e < int(p.Planes)*outH*outW; e++ {
		pl, oy, ox := e/(outH*outW), (e/outW)%outH, e%outW
		base, pos := pl*int(p.SPlane)+ox*int(p.SW), oy
		if p.Axis == 1 {
			base, pos = pl*int(p.SPlane)+oy*int(p.SH), ox
		}
		var acc float64
		if !adjoint {
			for k := 0; k < 4; k++ {
				acc += float64(tab.W[4*pos+k]) * float64(x.at(base+tab.Idx[4*pos+k]*step))
			}
		} else {
			lo, hi := cuda.BicubicAdjointRange(pos, m, n)
			for j := lo; j <= hi; j++ {
				for k := 0; k < 4; k++ {
					if tab.Idx[4*j+k] == pos {
						acc += float64(tab.W[4*j+k]) * float64(x.at(base+j*step))
					}
				}
			}
		}
		y.set(pl*int(p.DPlane)+oy*int(p.DH)+ox, float32(acc))
	}
}

// emuBiasAct is bias_act_one of bias_act.cu.
func emuBiasAct(p cuda.BiasActParams, x, b, xref, yref, dy float32) float32 {
	G, A := p.Grad, p.Act
	if G == 3 {
		return emuBiasActFromInput(p, x*dy, xref+b)
	}
	alpha, gain, clamp := float64(p.Alpha), float64(p.Gain), float64(p.Clamp)
	const seluScale = 1.0507009873554804934193349852946
	const seluAlpha = 1.6732632423543772848170429916717
	xv, xr, yr := float64(x), float64(xref), float64(yref)
	yy := 0.0
	if gain != 0 {
		yy = yr / gain
	}
	if G == 0 {
		xv += float64(b)
	} else {
		xr += float64(b)
	}
	y := 0.0
	switch A {
	case cuda.ActLinear:
		if G <= 1 {
			y = xv
		}
	case cuda.ActRelu:
		if G == 0 {
			y = math.Max(xv, 0)
		} else if G == 1 && yy > 0 {
			y = xv
		}
	case cuda.ActLrelu:
		if G == 0 {
			y = xv
			if !(xv > 0) {
				y = xv * alpha
			}
		} else if G == 1 {
			y = xv
			if !(yy > 0) {
				y = xv * alpha
			}
		}
	case cuda.ActTanh:
		switch G {
		case 0:
			y = math.Tanh(xv)
		case 1:
			y = xv * (1 - yy*yy)
		case 2:
			y = xv * (1 - yy*yy) * (-2 * yy)
		}
	case cuda.ActSigmoid:
		switch G {
		case 0:
			y = 1 / (1 + math.Exp(-xv))
		case 1:
			y = xv * yy * (1 - yy)
		case 2:
			y = xv * yy * (1 - yy) * (1 - 2*yy)
		}
	case cuda.ActElu:
		switch G {
		case 0:
			y = xv
			if xv < 0 {
				y = math.Exp(xv) - 1
			}
		case 1:
			y = xv
			if yy < 0 {
				y = xv * (yy + 1)
			}
		case 2:
			if yy < 0 {
				y = xv * (yy + 1)
			}
		}
	case cuda.ActSelu:
		switch G {
		case 0:
			y = seluScale * xv
			if xv < 0 {
				y = seluScale * seluAlpha * (math.Exp(xv) - 1)
			}
		case 1:
			y = xv * seluScale
			if yy < 0 {
				y = xv * (yy + seluScale*seluAlpha)
			}
		case 2:
			if yy < 0 {
				y = xv * (yy + seluScale*seluAlpha)
			}
		}
	case cuda.ActSoftplus:
		switch G {
		case 0:
			y = xv
			if xv <= 80 {
				y = math.Log(math.Exp(xv) + 1)
			}
		case 1:
			y = xv * (1 - math.Exp(-yy))
		case 2:
			c := math.Exp(-yy)
			y = xv * c * (1 - c)
		}
	case cuda.ActSwish:
		if G == 0 {
			y = xv / (math.Exp(-xv) + 1)
		} else {
			c := math.Exp(xr)
			d := c + 1
			if G == 1 {
				y = xv * c * (xr + d) / (d * d)
				if xr > 40 {
					y = xv
				}
			} else {
				y = xv * c * (xr*(2-d) + 2*d) / (d * d * d)
				if xr > 40 {
					y = 0
				}
			}
			yr = 0
		}
	}
	y *= gain * float64(dy)
	if clamp >= 0 {
		if G == 0 {
			if !(y > -clamp && y < clamp) {
				if y >= 0 {
					y = clamp
				} else {
					y = -clamp
				}
			}
		} else if !(yr > -clamp && yr < clamp) {
			y = 0
		}
	}
	return float32(y)
}

// emuBiasActFromInput is bias_act_from_input of bias_act.cu (grad = 3).
func emuBiasActFromInput(p cuda.BiasActParams, dy, s float32) float32 {
	const seluScale = 1.0507009873554804934193349852946
	const seluAlpha = 1.6732632423543772848170429916717
	sf := float64(s)
	sig := 1 / (1 + math.Exp(-sf))
	var v, d float32
	switch p.Act {
	case cuda.ActLinear:
		v, d = s, 1
	case cuda.ActRelu, cuda.ActLrelu:
		d = 1
		if !(s > 0) {
			d = 0
			if p.Act == cuda.ActLrelu {
				d = p.Alpha
			}
		}
		v = s * d
	case cuda.ActTanh:
		t := math.Tanh(sf)
		v, d = float32(t), float32(1-t*t)
	case cuda.ActSigmoid:
		v, d = float32(sig), float32(sig*(1-sig))
	case cuda.ActElu:
		v, d = s, 1
		if !(s > 0) {
			v = float32(math.Expm1(sf))
		}
		if s <= 0 {
			d = float32(math.Exp(sf))
		}
	case cuda.ActSelu:
		v, d = float32(seluScale*sf), seluScale
		if !(s > 0) {
			v = float32(seluScale * seluAlpha * math.Expm1(sf))
		}
		if s <= 0 {
			d = float32(seluScale * seluAlpha * math.Exp(sf))
		}
	case cuda.ActSoftplus:
		v, d = s, 1
		if !(s > 20) {
			v, d = float32(math.Log1p(math.Exp(sf))), float32(sig)
		}
	default: // swish
		v, d = float32(sf*sig), float32(sig+sf*sig*(1-sig))
	}
	y := v * p.Gain
	if p.Clamp >= 0 {
		if !(y >= -p.Clamp && y <= p.Clamp) {
			return 0
		}
	} else if p.Act <= cuda.ActLrelu && y != y {
		return 0
	}
	return dy * p.Gain * d
}

// winoMats are the transforms of winograd.cu per entry family: F(m x m,
// r x r) with B^T (a x a), G (a x r), A^T (m x a), a = m + r - 1.
type winoMats struct {
	m, r   int
	bt, at [][]float64
	g      [][]float64
}

var winoKinds = map[[2]int]winoMats{
	{2, 3}: {m: 2, r: 3,
		bt: [][]float64{{1, 0, -1, 0}, {0, 1, 1, 0}, {0, -1, 1, 0}, {0, 1, 0, -1}},
		g:  [][]float64{{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}},
		at: [][]float64{{1, 1, 1, 0}, {0, 1, -1, -1}}},
	{4, 3}: {m: 4, r: 3,
		bt: [][]float64{{4, 0, -5, 0, 1, 0}, {0, -4, -4, 1, 1, 0}, {0, 4, -4, -1, 1, 0}, {0, -2, -1, 2, 1, 0}, {0, 2, -1, -2, 1, 0}, {0, 4, 0, -5, 0, 1}},
		g:  [][]float64{{1.0 / 4, 0, 0}, {-1.0 / 6, -1.0 / 6, -1.0 / 6}, {-1.0 / 6, 1.0 / 6, -1.0 / 6}, {1.0 / 24, 1.0 / 12, 1.0 / 6}, {1.0 / 24, -1.0 / 12, 1.0 / 6}, {0, 0, 1}},
		at: [][]float64{{1, 1, 1, 1, 1, 0}, {0, 1, -1, 2, -2, 0}, {0, 1, 1, 4, 4, 0}, {0, 1, -1, 8, -8, 1}}},
	{4, 2}: {m: 4, r: 2,
		bt: [][]float64{{2, -1, -2, 1, 0}, {0, -2, -1, 1, 0}, {0, 2, -3, 1, 0}, {0, -1, 0, 1, 0}, {0, 2, -1, -2, 1}},
		g:  [][]float64{{0.5, 0}, {-0.5, -0.5}, {-1.0 / 6, 1.0 / 6}, {1.0 / 6, 1.0 / 3}, {0, 1}},
		at: [][]float64{{1, 1, 1, 1, 0}, {0, 1, -1, 2, 0}, {0, 1, 1, 4, 0}, {0, 1, -1, 8, 1}}},
}

// winoOf returns the transforms of p's kind: F(m x m, 3x3), or F(4x4, 2x2)
// for the stride-2 convs by phases.
func winoOf(p cuda.WinoParams) winoMats {
	if p.Phases() {
		return winoKinds[[2]int{4, 2}]
	}
	t, ok := winoKinds[[2]int{int(p.M), 3}]
	if !ok {
		panic(fmt.Sprintf("emu: Winograd launched with m = %d", p.M))
	}
	return t
}

func emuWinoFilter(t winoMats, R, K, r0, k int, dgrad bool, w buf) [][]float64 {
	g := make([][]float64, t.r)
	for u := range g {
		g[u] = make([]float64, t.r)
		for v := range g[u] {
			if t.r == 3 {
				if dgrad {
					g[u][v] = float64(w.at((k*R+r0)*9 + (2-u)*3 + 2 - v))
				} else {
					g[u][v] = float64(w.at((r0*K+k)*9 + u*3 + v))
				}
				continue
			}
			ph, o, c0 := k, r0, K/4
			uu, vv := u, v
			if dgrad {
				ph, o, c0 = r0, k, R/4
				uu, vv = 1-u, 1-v
			}
			kh, kw := 2*uu+(ph>>1)&1, 2*vv+ph&1
			if kh < 3 && kw < 3 {
				g[u][v] = float64(w.at((o*c0+ph>>2)*9 + kh*3 + kw))
			}
		}
	}
	return g
}

func emuWinoWeight(t winoMats, R, K int, dgrad bool, w, U buf) {
	a := t.m + t.r - 1
	for r0 := 0; r0 < R; r0++ {
		for k := 0; k < K; k++ {
			g := emuWinoFilter(t, R, K, r0, k, dgrad, w)
			for i := 0; i < a; i++ {
				for j := 0; j < a; j++ {
					var v float64
					for x := 0; x < t.r; x++ {
						for y := 0; y < t.r; y++ {
							v += t.g[i][x] * g[x][y] * t.g[j][y]
						}
					}
					U.set((i*a+j)*R*K+r0*K+k, float32(v))
				}
			}
		}
	}
}

// emuWinoPixel is winograd.cu's wino_pixel.
func emuWinoPixel(p cuda.WinoParams, x buf, n, k, iy, ix int) float64 {
	if iy < 0 || iy >= int(p.H) || ix < 0 || ix >= int(p.W) {
		return 0
	}
	if p.Gather == 0 {
		return float64(x.at(((n*int(p.K)+k)*int(p.H)+iy)*int(p.W) + ix))
	}
	hy, hx := 2*iy+(k>>1)&1-int(p.Pad0), 2*ix+k&1-int(p.Pad0)
	if hy < 0 || hy >= int(p.H0) || hx < 0 || hx >= int(p.W0) {
		return 0
	}
	return float64(x.at(((n*int(p.K)/4+k>>2)*int(p.H0)+hy)*int(p.W0) + hx))
}

func emuWinoInput(p cuda.WinoParams, x, sIn, V buf) {
	t := winoOf(p)
	a, m := t.m+t.r-1, t.m
	K, P := int(p.K), int(p.Tiles)
	d := make([][]float64, a)
	for i := range d {
		d[i] = make([]float64, a)
	}
	for k := 0; k < K; k++ {
		for q := 0; q < P; q++ {
			n, ty, tx := winoTile(p, q)
			y0, x0 := m*ty-int(p.PadH), m*tx-int(p.PadW)
			s := 1.0
			if sIn.ok() {
				s = float64(sIn.at(n*K + k))
			}
			for i := 0; i < a; i++ {
				for j := 0; j < a; j++ {
					d[i][j] = s * emuWinoPixel(p, x, n, k, y0+i, x0+j)
				}
			}
			for i := 0; i < a; i++ {
				for j := 0; j < a; j++ {
					var v float64
					for u := 0; u < a; u++ {
						for w := 0; w < a; w++ {
							v += t.bt[i][u] * d[u][w] * t.bt[j][w]
						}
					}
					V.set((i*a+j)*K*P+k*P+q, float32(v))
				}
			}
		}
	}
}

// winoTile is tile q of the [image][tile row][tile column] order of V, M
// and E: its image and tile row and column.
func winoTile(p cuda.WinoParams, q int) (n, ty, tx int) {
	tiles := int(p.TH * p.TW)
	n, tt := q/tiles, q%tiles
	return n, tt / int(p.TW), tt % int(p.TW)
}

func emuWinoOutput(p cuda.WinoParams, M, sOut, bias, noise, gain buf, nStride int, beta float32, y, z buf) {
	t := winoOf(p)
	a, m := t.m+t.r-1, t.m
	R, OH, OW, P := int(p.R), int(p.OH), int(p.OW), int(p.Tiles)
	g := 1.0
	if gain.ok() {
		g = float64(gain.at(0))
	}
	for r := 0; r < R; r++ {
		for q := 0; q < P; q++ {
			n, ty, tx := winoTile(p, q)
			for i := 0; i < m; i++ {
				for c := 0; c < m; c++ {
					oh, ow := m*ty+i, m*tx+c
					if oh >= OH || ow >= OW {
						continue
					}
					idx := ((n*R+r)*OH+oh)*OW + ow
					if p.Scatter != 0 {
						hy, hx := 2*oh+(r>>1)&1-int(p.Pad0), 2*ow+r&1-int(p.Pad0)
						if hy < 0 || hy >= int(p.H0) || hx < 0 || hx >= int(p.W0) {
							continue
						}
						idx = ((n*R/4+r>>2)*int(p.H0)+hy)*int(p.W0) + hx
					}
					var v float64
					for u := 0; u < a; u++ {
						for w := 0; w < a; w++ {
							v += t.at[i][u] * float64(M.at((u*a+w)*R*P+r*P+q)) * t.at[c][w]
						}
					}
					if z.ok() {
						z.set(idx, float32(v))
					}
					if sOut.ok() {
						v *= float64(sOut.at(n*R + r))
					}
					if bias.ok() {
						v += float64(bias.at(r))
					}
					if noise.ok() {
						v += float64(noise.at(n*nStride+oh*OW+ow)) * g
					}
					if beta != 0 {
						v += float64(beta) * float64(y.at(idx))
					}
					y.set(idx, float32(v))
				}
			}
		}
	}
}

func emuWinoDy(p cuda.WinoParams, dy, E buf) {
	t := winoOf(p)
	a, m := t.m+t.r-1, t.m
	R, OH, OW, P := int(p.R), int(p.OH), int(p.OW), int(p.Tiles)
	for r := 0; r < R; r++ {
		for q := 0; q < P; q++ {
			n, ty, tx := winoTile(p, q)
			for i := 0; i < a; i++ {
				for j := 0; j < a; j++ {
					var v float64
					for u := 0; u < m; u++ {
						for w := 0; w < m; w++ {
							if oh, ow := m*ty+u, m*tx+w; oh < OH && ow < OW {
								v += t.at[u][i] * float64(dy.at(((n*R+r)*OH+oh)*OW+ow)) * t.at[w][j]
							}
						}
					}
					E.set((i*a+j)*R*P+r*P+q, float32(v))
				}
			}
		}
	}
}

func emuWinoWgrad(t winoMats, R, K int, Z, dw buf) {
	a := t.m + t.r - 1
	for e := 0; e < R*K; e++ {
		r0, k := e/K, e%K
		for x := 0; x < t.r; x++ {
			for y := 0; y < t.r; y++ {
				var v float64
				for i := 0; i < a; i++ {
					for j := 0; j < a; j++ {
						v += t.g[i][x] * float64(Z.at((i*a+j)*R*K+e)) * t.g[j][y]
					}
				}
				if t.r == 3 {
					dw.set(e*9+x*3+y, float32(v))
					continue
				}
				if kh, kw := 2*x+(k>>1)&1, 2*y+k&1; kh < 3 && kw < 3 {
					dw.set((r0*K/4+k>>2)*9+kh*3+kw, float32(v))
				}
			}
		}
	}
}
