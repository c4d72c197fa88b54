package cuda

import (
	"fmt"
	"math"
	"strings"
)

// Go mirrors of the parameter structs of the .cu files, passed by value to
// Launch. Field order and types follow the C structs exactly (the `c` tags
// name the C fields; TestParamLayouts has NVRTC check every offset).

// MaxDims is the most dimensions a strided elementwise or reduce kernel takes.
const MaxDims = 8

// EwShape mirrors struct EwShape of elementwise.cu.
type EwShape struct {
	NDim int32          `c:"ndim"`
	_    int32          `c:"pad_"`
	N    int64          `c:"n"`
	Size [MaxDims]int32 `c:"size"`
	A    [MaxDims]int32 `c:"a"` // strides of a (or x), elements; 0 broadcasts
	B    [MaxDims]int32 `c:"b"`
	O    [MaxDims]int32 `c:"o"` // strides of the output
	// Magic and Shift divide by Size[d] without a division instruction
	// (see divMagic).
	Magic [MaxDims]uint32 `c:"magic"`
	Shift [MaxDims]int32  `c:"shift"`
}

// EwRows mirrors struct EwRows of elementwise.cu: ew_binary_rows_f32 and
// ew_binary_rows4_f32's [rows, cols] of units (floats or float4s).
type EwRows struct {
	N     int64  `c:"n"`
	Cols  int32  `c:"cols"`
	Magic uint32 `c:"magic"`
	Shift int32  `c:"shift"`
	Left  int32  `c:"left"`
}

// NewEwRows describes rows x cols units for the row-broadcast kernels, the
// per-row value as op's left operand when left. Units are counted in 32-bit
// indices: rows*cols must stay below 2^31.
func NewEwRows(rows, cols int, left bool) (EwRows, error) {
	n := int64(rows) * int64(cols)
	if rows < 1 || cols < 1 || n >= 1<<31 {
		return EwRows{}, fmt.Errorf("cuda: %d rows of %d units for the row-broadcast kernels (need 1 to 2^31-1 in all)", rows, cols)
	}
	m, sh := divMagic(uint32(cols))
	r := EwRows{N: n, Cols: int32(cols), Magic: m, Shift: sh}
	if left {
		r.Left = 1
	}
	return r, nil
}

// divMagic returns the multiplier and shift with which
// (umulhi(n, magic) + n) >> shift == n / d for every n below 2^31 and d
// from 1 to 2^31 - 1: the strided kernels decompose each element's index
// with them, an integer multiply-high where a 32-bit division costs tens of
// instructions per dim and element. shift is ceil(log2 d); magic is
// 2^32 (2^shift - d) / d rounded down, plus 1.
func divMagic(d uint32) (magic uint32, shift int32) {
	for shift < 32 && uint64(1)<<shift < uint64(d) {
		shift++
	}
	m := (uint64(1)<<32)*((uint64(1)<<shift)-uint64(d))/uint64(d) + 1
	return uint32(m), shift
}

// NewEwShape builds an EwShape from an output shape and per-operand strides
// (nil for an unused operand). The kernels index in 32 bits.
func NewEwShape(size, a, b, out []int) (EwShape, error) {
	var s EwShape
	if len(size) > MaxDims {
		return s, fmt.Errorf("cuda: %d dims, kernels take at most %d", len(size), MaxDims)
	}
	n := int64(1)
	for _, v := range size {
		n *= int64(v)
	}
	if n >= 1<<31 {
		return s, fmt.Errorf("cuda: %d elements, strided kernels take fewer than 2^31", n)
	}
	if len(size) == 0 { // a scalar: one element at offset 0 of every operand
		s.NDim, s.N, s.Size[0] = 1, 1, 1
		s.Magic[0], s.Shift[0] = divMagic(1)
		return s, nil
	}
	s.NDim, s.N = int32(len(size)), n
	for i, v := range size {
		s.Size[i] = int32(v)
	}
	for _, op := range []struct {
		src []int
		dst *[MaxDims]int32
	}{{a, &s.A}, {b, &s.B}, {out, &s.O}} {
		if op.src == nil {
			continue
		}
		if len(op.src) != len(size) {
			return s, fmt.Errorf("cuda: %d strides for %d dims", len(op.src), len(size))
		}
		for i, v := range op.src {
			op.dst[i] = int32(v)
		}
	}
	s.coalesce()
	return s, nil
}

// coalesce drops size-1 dims and merges each pair of adjacent dims that
// every operand walks as one (stride[i] == stride[i+1] * size[i+1]), so that
// the strided kernels, which divide once per dim per element, see as few
// dims as the layouts allow: a bias broadcast over [N, C, H, W] becomes
// [N, C, H*W]. The element order, and so every offset, is unchanged.
func (s *EwShape) coalesce() {
	var out EwShape
	out.N = s.N
	nd := 0
	for i := 0; i < int(s.NDim); i++ {
		if s.Size[i] == 1 {
			continue
		}
		if j := nd - 1; j >= 0 && out.A[j] == s.A[i]*s.Size[i] && out.B[j] == s.B[i]*s.Size[i] && out.O[j] == s.O[i]*s.Size[i] {
			out.Size[j] *= s.Size[i]
			out.A[j], out.B[j], out.O[j] = s.A[i], s.B[i], s.O[i]
			continue
		}
		out.Size[nd], out.A[nd], out.B[nd], out.O[nd] = s.Size[i], s.A[i], s.B[i], s.O[i]
		nd++
	}
	if nd == 0 { // all dims of size 1: one element
		out.Size[0] = 1
		nd = 1
	}
	out.NDim = int32(nd)
	for i := 0; i < nd; i++ {
		if out.Size[i] > 0 { // an empty shape launches nothing
			out.Magic[i], out.Shift[i] = divMagic(uint32(out.Size[i]))
		}
	}
	*s = out
}

// Unary op codes of ew_unary_f32 / ew_unary_strided_f32 (alpha, beta as noted).
const (
	EwCopy      int32 = 0
	EwNeg       int32 = 1
	EwAbs       int32 = 2
	EwExp       int32 = 3
	EwLog       int32 = 4
	EwSqrt      int32 = 5
	EwRsqrt     int32 = 6
	EwSin       int32 = 7
	EwCos       int32 = 8
	EwTanh      int32 = 9
	EwSigmoid   int32 = 10
	EwRelu      int32 = 11
	EwSquare    int32 = 12
	EwRecip     int32 = 13
	EwSign      int32 = 14
	EwAffine    int32 = 15 // alpha*x + beta
	EwPow       int32 = 16 // x^alpha
	EwLrelu     int32 = 17 // x > 0 ? x : alpha*x
	EwClamp     int32 = 18 // min(max(x, alpha), beta)
	EwNanToNum  int32 = 19 // NaN -> 0, +-inf -> +-MaxFloat32
	EwFloor     int32 = 20
	EwCeil      int32 = 21
	EwSoftplus  int32 = 22
	EwGelu      int32 = 23 // erf form
	EwQuickGelu int32 = 24 // x*sigmoid(1.702x)
	EwErf       int32 = 25
	EwStep      int32 = 26 // x > 0 ? 1 : 0
	EwGeluTanh  int32 = 27 // tanh approximation of gelu
	EwInRange   int32 = 28 // alpha <= x <= beta ? 1 : 0
	EwNanTo     int32 = 29 // NaN -> alpha
	EwInfTo     int32 = 30 // +inf -> alpha, -inf -> beta
	EwIsFinite  int32 = 31 // 1 for finite x, else 0
)

// Binary op codes of ew_binary_f32 / ew_binary_strided_f32; comparisons
// yield 1 or 0.
const (
	EwAdd  int32 = 0
	EwSub  int32 = 1
	EwMul  int32 = 2
	EwDiv  int32 = 3
	EwMax  int32 = 4
	EwMin  int32 = 5
	EwPowB int32 = 6
	EwEq   int32 = 7
	EwNe   int32 = 8
	EwLt   int32 = 9
	EwLe   int32 = 10
	EwGt   int32 = 11
	EwGe   int32 = 12
)

// RedShape mirrors struct RedShape of reduce.cu.
type RedShape struct {
	OutNDim   int32          `c:"out_ndim"`
	RedNDim   int32          `c:"red_ndim"`
	NOut      int32          `c:"n_out"`
	NRed      int32          `c:"n_red"`
	OutSize   [MaxDims]int32 `c:"out_size"`
	OutStride [MaxDims]int32 `c:"out_stride"` // strides of x along kept dims
	RedSize   [MaxDims]int32 `c:"red_size"`
	RedStride [MaxDims]int32 `c:"red_stride"` // strides of x along reduced dims
	// Division by OutSize[d] and RedSize[d] by multiply-high (divMagic).
	OutMagic [MaxDims]uint32 `c:"out_magic"`
	OutShift [MaxDims]int32  `c:"out_shift"`
	RedMagic [MaxDims]uint32 `c:"red_magic"`
	RedShift [MaxDims]int32  `c:"red_shift"`
}

// NewRedShape builds a RedShape: kept dims (outSize, their x strides) and
// reduced dims (redSize, their x strides).
func NewRedShape(outSize, outStride, redSize, redStride []int) (RedShape, error) {
	var s RedShape
	if len(outSize) > MaxDims || len(redSize) > MaxDims || len(outStride) != len(outSize) || len(redStride) != len(redSize) {
		return s, fmt.Errorf("cuda: bad reduce shape (%d kept, %d reduced dims; at most %d each)", len(outSize), len(redSize), MaxDims)
	}
	no, nr := int64(1), int64(1)
	for i, v := range outSize {
		no *= int64(v)
		s.OutSize[i], s.OutStride[i] = int32(v), int32(outStride[i])
		if v > 0 {
			s.OutMagic[i], s.OutShift[i] = divMagic(uint32(v))
		}
	}
	for i, v := range redSize {
		nr *= int64(v)
		s.RedSize[i], s.RedStride[i] = int32(v), int32(redStride[i])
		if v > 0 {
			s.RedMagic[i], s.RedShift[i] = divMagic(uint32(v))
		}
	}
	if no*nr >= 1<<31 {
		return s, fmt.Errorf("cuda: %d elements, reduce kernels take fewer than 2^31", no*nr)
	}
	s.OutNDim, s.RedNDim, s.NOut, s.NRed = int32(len(outSize)), int32(len(redSize)), int32(no), int32(nr)
	return s, nil
}

// Reduce op codes of reduce.cu.
const (
	RedSum   int32 = 0
	RedMax   int32 = 1
	RedMin   int32 = 2
	RedSumSq int32 = 3
)

// GemmParams mirrors struct GemmParams of sgemm.cu: C = alpha*A*B + beta*C
// with strides in elements.
type GemmParams struct {
	M          int32   `c:"M"`
	N          int32   `c:"N"`
	K          int32   `c:"K"`
	BatchInner int32   `c:"batch_inner"` // > 1: gridDim.z spans two batch dims, this one inner
	ABatch     int64   `c:"a_batch"`
	ARow       int64   `c:"a_row"`
	ACol       int64   `c:"a_col"`
	BBatch     int64   `c:"b_batch"`
	BRow       int64   `c:"b_row"`
	BCol       int64   `c:"b_col"`
	CBatch     int64   `c:"c_batch"`
	CRow       int64   `c:"c_row"`
	CCol       int64   `c:"c_col"`
	Alpha      float32 `c:"alpha"`
	Beta       float32 `c:"beta"`
	AOuter     int64   `c:"a_outer"` // strides of the outer batch dim (BatchInner > 1)
	BOuter     int64   `c:"b_outer"`
	COuter     int64   `c:"c_outer"`
}

// ConvParams mirrors struct ConvParams of conv2d.cu.
type ConvParams struct {
	N       int32 `c:"N"`
	C       int32 `c:"C"`
	H       int32 `c:"H"`
	W       int32 `c:"W"`
	O       int32 `c:"O"`
	KH      int32 `c:"KH"`
	KW      int32 `c:"KW"`
	Groups  int32 `c:"groups"`
	OH      int32 `c:"OH"`
	OW      int32 `c:"OW"`
	StrideH int32 `c:"stride_h"`
	StrideW int32 `c:"stride_w"`
	PadH    int32 `c:"pad_h"`
	PadW    int32 `c:"pad_w"`
	DilH    int32 `c:"dil_h"`
	DilW    int32 `c:"dil_w"`
}

// ConvOutSize is PyTorch's output size of a convolution along one axis.
func ConvOutSize(in, k, stride, pad, dil int) int {
	return (in+2*pad-dil*(k-1)-1)/stride + 1
}

// BiasActParams mirrors struct BiasActParams of bias_act.cu.
type BiasActParams struct {
	Act   int32   `c:"act"`
	Grad  int32   `c:"grad"`
	Alpha float32 `c:"alpha"`
	Gain  float32 `c:"gain"`
	Clamp float32 `c:"clamp"` // < 0: none
	SizeX int32   `c:"size_x"`
	SizeB int32   `c:"size_b"`
	StepB int32   `c:"step_b"`
}

// Activation codes of bias_act.cu (StyleGAN2's numbering).
const (
	ActLinear   int32 = 1
	ActRelu     int32 = 2
	ActLrelu    int32 = 3
	ActTanh     int32 = 4
	ActSigmoid  int32 = 5
	ActElu      int32 = 6
	ActSelu     int32 = 7
	ActSoftplus int32 = 8
	ActSwish    int32 = 9
)

// UpfirdnParams mirrors struct UpfirdnParams of upfirdn2d.cu.
type UpfirdnParams struct {
	Major int32   `c:"major"`
	InH   int32   `c:"in_h"`
	InW   int32   `c:"in_w"`
	OutH  int32   `c:"out_h"`
	OutW  int32   `c:"out_w"`
	UpX   int32   `c:"up_x"`
	UpY   int32   `c:"up_y"`
	DownX int32   `c:"down_x"`
	DownY int32   `c:"down_y"`
	PadX0 int32   `c:"pad_x0"`
	PadX1 int32   `c:"pad_x1"`
	PadY0 int32   `c:"pad_y0"`
	PadY1 int32   `c:"pad_y1"`
	FH    int32   `c:"fh"`
	FW    int32   `c:"fw"`
	Flip  int32   `c:"flip"`
	Gain  float32 `c:"gain"`
}

// UpfirdnOutSize is the output size along one axis (REFERENCE.md section 2).
func UpfirdnOutSize(in, up, down, p0, p1, taps int) int {
	return (in*up + p0 + p1 - taps + down) / down
}

// upfirdn tile of the shared-memory kernels (UF_TW x UF_TH in upfirdn2d.cu).
const upfirdnTile = 32

// Output rows (row pairs for up 2) per thread of the row-streaming upfirdn
// kernels: UF_STRIP_* in upfirdn2d.cu.
const (
	upfirdnStripUp2    = 8
	upfirdnStripDown2  = 8
	upfirdnStripFilter = 16
)

// upfirdnBlocksPerSM caps the down-2 and filter grids at about this many
// blocks per SM, each looping over planes: a thread's setup (its filter taps,
// column bounds and halo) is ~150 instructions against ~45 a row, so one plane
// per block (16 rows of the filter at 64x64) spent a fifth of the kernel on
// it. 16 is two or more waves at those kernels' occupancy (8 and 4 blocks of
// 128 threads per SM).
const upfirdnBlocksPerSM = 16

// UpfirdnSharedBytes is the dynamic shared memory of the tiled upfirdn2d
// kernels for p: the input tile plus the filter.
func UpfirdnSharedBytes(p UpfirdnParams) int {
	tw := ((upfirdnTile-1)*int(p.DownX)+int(p.FW)-1)/int(p.UpX) + 1
	th := ((upfirdnTile-1)*int(p.DownY)+int(p.FH)-1)/int(p.UpY) + 1
	return 4 * (tw*th + int(p.FH)*int(p.FW))
}

// PoolParams mirrors struct PoolParams of pool.cu: the geometry of
// kernels/cpu's PoolGeom (CountIncludePad as 0 or 1).
type PoolParams struct {
	Planes          int32 `c:"planes"`
	H               int32 `c:"h"`
	W               int32 `c:"w"`
	OH              int32 `c:"oh"`
	OW              int32 `c:"ow"`
	KH              int32 `c:"kh"`
	KW              int32 `c:"kw"`
	SH              int32 `c:"sh"`
	SW              int32 `c:"sw"`
	PH              int32 `c:"ph"`
	PW              int32 `c:"pw"`
	CountIncludePad int32 `c:"count_include_pad"`
}

// ResizeParams mirrors struct ResizeParams of interpolate.cu: one axis pass
// of a separable resize, source and destination read and written through
// strides (contiguous destination: DPlane = OutH*OutW, DH = OutW).
type ResizeParams struct {
	Planes int32 `c:"planes"`
	InH    int32 `c:"in_h"`
	InW    int32 `c:"in_w"`
	OutH   int32 `c:"out_h"`
	OutW   int32 `c:"out_w"`
	Axis   int32 `c:"axis"` // 0: resample H, 1: resample W
	SPlane int32 `c:"s_plane"`
	SH     int32 `c:"s_h"`
	SW     int32 `c:"s_w"`
	DPlane int32 `c:"d_plane"`
	DH     int32 `c:"d_h"`
}

// AxisLengths are the pass's source and destination lengths along its
// axis and the source stride along it.
func (p ResizeParams) AxisLengths() (n, m, step int) {
	if p.Axis == 1 {
		return int(p.InW), int(p.OutW), int(p.SW)
	}
	return int(p.InH), int(p.OutH), int(p.SH)
}

// BicubicAdjointRange is resize_bicubic_adj_f32's loop over j in Go: the
// outputs j of a bicubic table (in, out) whose taps may land on input i,
// a superset of the exact ones (the kernel recomputes each j's taps and
// keeps those on i). TestBicubicAdjointRange checks it against the table.
func BicubicAdjointRange(i, in, out int) (lo, hi int) {
	r := float32(out) / float32(in)
	lo = max(int(math.Floor(float64((float32(i)-1.5)*r-0.5)))-1, 0)
	hi = min(int(math.Ceil(float64((float32(i)+2.5)*r-0.5)))+1, out-1)
	return lo, hi
}

// LaunchPlan is a kernel choice with its geometry.
type LaunchPlan struct {
	File, Entry string
	Grid, Block Dim3
	Shared      int // dynamic shared memory, bytes
}

// maxGridZ is CUDA's limit on gridDim.z.
const maxGridZ = 65535

// GridStride returns a 1-D grid for a grid-stride kernel over n items with
// the given block: enough blocks to cover n, at most 32 per SM.
func GridStride(n int64, block, sms int) Dim3 {
	b := (n + int64(block) - 1) / int64(block)
	if lim := int64(32 * max(sms, 1)); b > lim {
		b = lim
	}
	return D1(int(max(b, 1)))
}

// PlanUpfirdn2d picks the upfirdn2d kernel for p: the specialised 4x4 up-2,
// down-2 or plain-filter kernel (row streaming), the general tiled one, or the direct one when the tile would
// exceed maxShared bytes (the device's opt-in limit, DeviceProps.MaxSharedOptin).
func PlanUpfirdn2d(p UpfirdnParams, maxShared, sms int) LaunchPlan {
	return PlanUpfirdn2dKind(p, maxShared, sms, false)
}

// PlanUpfirdn2dKind is PlanUpfirdn2d with the 4x4 cases' shared-memory tile
// kernels (upfirdn2d_*_f4_tiled_f32) in place of the streaming ones when
// tiled is set.
func PlanUpfirdn2dKind(p UpfirdnParams, maxShared, sms int, tiled bool) LaunchPlan {
	entry := "upfirdn2d_f32"
	switch {
	case p.UpX == 2 && p.UpY == 2 && p.DownX == 1 && p.DownY == 1 && p.FH == 4 && p.FW == 4:
		entry = "upfirdn2d_up2_f4_f32"
	case p.UpX == 1 && p.UpY == 1 && p.DownX == 2 && p.DownY == 2 && p.FH == 4 && p.FW == 4:
		entry = "upfirdn2d_down2_f4_f32"
	case p.UpX == 1 && p.UpY == 1 && p.DownX == 1 && p.DownY == 1 && p.FH == 4 && p.FW == 4:
		entry = "upfirdn2d_filter_f4_f32"
	}
	if entry != "upfirdn2d_f32" && tiled {
		entry = strings.TrimSuffix(entry, "_f32") + "_tiled_f32"
	}
	if entry != "upfirdn2d_f32" && !tiled {
		// Row-streaming kernels: a thread per column unit (a column pair for
		// up 2) walking a strip of rows; a warp per strip, 4 per block.
		units, strips := int(p.OutW), CeilDiv(int(p.OutH), upfirdnStripFilter)
		switch entry {
		case "upfirdn2d_up2_f4_f32":
			units, strips = CeilDiv(int(p.OutW), 2), CeilDiv(CeilDiv(int(p.OutH), 2), upfirdnStripUp2)
		case "upfirdn2d_down2_f4_f32":
			strips = CeilDiv(int(p.OutH), upfirdnStripDown2)
		}
		gx, gy := CeilDiv(units, 32), CeilDiv(strips, 4)
		planes := min(int(p.Major), maxGridZ)
		if entry != "upfirdn2d_up2_f4_f32" {
			planes = min(planes, max(1, CeilDiv(upfirdnBlocksPerSM*max(sms, 1), gx*gy)))
		}
		return LaunchPlan{File: "upfirdn2d.cu", Entry: entry, Block: D3(32, 4, 1), Grid: D3(gx, gy, planes)}
	}
	sh := UpfirdnSharedBytes(p)
	if sh > maxShared {
		n := int64(p.Major) * int64(p.OutH) * int64(p.OutW)
		return LaunchPlan{File: "upfirdn2d.cu", Entry: "upfirdn2d_direct_f32", Grid: GridStride(n, 256, sms), Block: D1(256)}
	}
	return LaunchPlan{
		File: "upfirdn2d.cu", Entry: entry,
		Grid:   D3(CeilDiv(int(p.OutW), upfirdnTile), CeilDiv(int(p.OutH), upfirdnTile), min(int(p.Major), maxGridZ)),
		Block:  D3(32, 8, 1),
		Shared: sh,
	}
}

// MultiMax is how many tensors one multi-tensor launch takes (MULTI_MAX
// of adam.cu), and MultiChunk how many elements each of its blocks
// updates.
const (
	MultiMax   = 48
	MultiChunk = 4096
)

// MultiTensor mirrors struct MultiTensor of adam.cu: up to MultiMax
// tensors of one multi-tensor launch (adam_multi_f32: p, g, m, v in A, B,
// C, D; ema_multi_f32: avg, src in A, B).
type MultiTensor struct {
	Count      int32               `c:"count"`
	Chunk      int32               `c:"chunk"`
	BlockStart [MultiMax + 1]int32 `c:"block_start"`
	N          [MultiMax]int64     `c:"n"`
	A          [MultiMax]DevicePtr `c:"a"`
	B          [MultiMax]DevicePtr `c:"b"`
	C          [MultiMax]DevicePtr `c:"c"`
	D          [MultiMax]DevicePtr `c:"d"`
}

// MultiTensorBatches packs tensors of sizes n (ptrs[i] holds tensor i's
// pointers, A to D) into launches of at most MultiMax tensors, empty
// tensors left out; each batch's grid is Grid(). Tensors too large for one
// launch's 2^31 blocks do not occur (2^43 elements).
func MultiTensorBatches(n []int64, ptrs [][4]DevicePtr) []MultiTensor {
	var out []MultiTensor
	var cur MultiTensor
	flush := func() {
		if cur.Count > 0 {
			out = append(out, cur)
		}
		cur = MultiTensor{}
	}
	for i, ni := range n {
		if ni == 0 {
			continue
		}
		if cur.Count == MultiMax {
			flush()
		}
		k := cur.Count
		cur.Chunk = MultiChunk
		cur.N[k] = ni
		cur.A[k], cur.B[k], cur.C[k], cur.D[k] = ptrs[i][0], ptrs[i][1], ptrs[i][2], ptrs[i][3]
		cur.BlockStart[k+1] = cur.BlockStart[k] + int32((ni+MultiChunk-1)/MultiChunk)
		cur.Count++
	}
	flush()
	return out
}

// Grid is the launch grid of a multi-tensor batch: one block per chunk.
func (t MultiTensor) Grid() Dim3 { return D1(int(t.BlockStart[t.Count])) }

// SgemmKernel is one of the GEMM kernels for operands of 64 or more rows
// and columns, by the short name that LAFITE_CUDA_GEMM and the autotuner
// use.
type SgemmKernel struct {
	Name, Entry string
	Tile        int  // output tile edge
	MinCC       int  // the oldest compute capability it runs on (0: any)
	TensorCores bool // runs on the TF32 tensor cores (off with LAFITE_CUDA_TENSOR_CORES=0)
}

// SgemmKernels: the 128x128 tile with 8 or 16 k per stage, the 64x64 tile
// (16 k per stage) for grids that a 128x128 tile leaves short of a block
// per SM, and the 128x128 tile on TF32 tensor cores at float32 accuracy
// (three products per multiply-add, see sgemm.cu), from sm_80: operands
// split into their TF32 parts as fragments are read (tc) or once, as they
// are staged (tcs), and the same at 64x64 (tc64, tcs64).
var SgemmKernels = []SgemmKernel{
	{Name: "bk8", Entry: "sgemm_128x128x8_f32", Tile: 128},
	{Name: "bk16", Entry: "sgemm_128x128x16_f32", Tile: 128},
	{Name: "t64", Entry: "sgemm_64x64x16_f32", Tile: 64},
	{Name: "tc", Entry: "sgemm_tc128_f32", Tile: 128, MinCC: 80, TensorCores: true},
	{Name: "tcs", Entry: "sgemm_tcs128_f32", Tile: 128, MinCC: 80, TensorCores: true},
	{Name: "tc64", Entry: "sgemm_tc64_f32", Tile: 64, MinCC: 80, TensorCores: true},
	{Name: "tcs64", Entry: "sgemm_tcs64_f32", Tile: 64, MinCC: 80, TensorCores: true},
}

// TensorCoresEnv names the switch that keeps every GEMM off the tensor
// cores ("0"): a fallback should the tensor-core tiles fail on a card (the
// GPU check's probes set it for the rest of a run).
const TensorCoresEnv = "LAFITE_CUDA_TENSOR_CORES"

// TensorCoresOff reports whether LAFITE_CUDA_TENSOR_CORES=0.
func TensorCoresOff() bool { return FallbackNamed("tensor-cores").IsOff() }

// SgemmKernelsFor returns the kernels of SgemmKernels that run on a device
// of compute capability cc (e.g. 90), in the same order, without the
// tensor-core tiles when LAFITE_CUDA_TENSOR_CORES=0.
func SgemmKernelsFor(cc int) []SgemmKernel {
	var out []SgemmKernel
	off := TensorCoresOff()
	for _, k := range SgemmKernels {
		if cc >= k.MinCC && !(off && k.TensorCores) {
			out = append(out, k)
		}
	}
	return out
}

// PlanSgemmKernel is the launch of kernel k for p over batch matrices.
func PlanSgemmKernel(p GemmParams, batch int, k SgemmKernel) LaunchPlan {
	return LaunchPlan{File: "sgemm.cu", Entry: k.Entry,
		Grid: D3(CeilDiv(int(p.N), k.Tile), CeilDiv(int(p.M), k.Tile), batch), Block: D1(256)}
}

// PlanSgemm picks the GEMM kernel: the 128x128 tile when both M and N are
// large enough to fill it (the caller may swap in another of SgemmKernels),
// else the 16x16 one.
func PlanSgemm(p GemmParams, batch int) LaunchPlan {
	if p.M >= 64 && p.N >= 64 {
		return LaunchPlan{File: "sgemm.cu", Entry: "sgemm_128x128x8_f32",
			Grid: D3(CeilDiv(int(p.N), 128), CeilDiv(int(p.M), 128), batch), Block: D1(256)}
	}
	return LaunchPlan{File: "sgemm.cu", Entry: "sgemm_small_f32",
		Grid: D3(CeilDiv(int(p.N), 16), CeilDiv(int(p.M), 16), batch), Block: D3(16, 16, 1)}
}

// PlanSgemmSkinny is sgemm_skinny_f32's launch for p over batch matrices:
// 16 x 32 tiles of C, K split over a block's 8 warps.
func PlanSgemmSkinny(p GemmParams, batch int) LaunchPlan {
	return LaunchPlan{File: "sgemm.cu", Entry: "sgemm_skinny_f32",
		Grid: D3(CeilDiv(int(p.N), 32), CeilDiv(int(p.M), 16), batch), Block: D1(256)}
}

// SkinnyGemm reports whether the rules run a GEMM that PlanSgemm gives the
// 16x16 tile on sgemm_skinny_f32 instead: at most 32 rows (fully-connected
// layers at small batch) and at least 32 columns, so that its 32-wide tiles
// are full; never when LAFITE_CUDA_SKINNY_GEMM=0. (Its speed is a
// prediction until a card times it: the 16x16 tile waits a load's latency
// per 16 k, this kernel per 256; the autotuner times both.)
func SkinnyGemm(p GemmParams) bool {
	return p.M <= 32 && p.N >= 32 && !FallbackNamed("skinny-gemm").IsOff()
}

// SplitK is how many slices of K a GEMM (M x N x K, batch matrices) should
// be cut into, each slice's product written to a workspace and the slices
// summed after, so that a grid too small for the card fills it: CLIP's
// 400 x 768 x 768 layers at batch 8 are 84 blocks of the 64x64 tile, 21% of
// an H200's 396 slots (3 per SM); four slices of 192 make 336. 1 (no split)
// unless the GEMM takes the large tiles (M, N >= 64), is worth a second
// launch (2·M·N·K·batch >= 64 MFLOP), and its 64x64 grid is under half a
// wave. The factor is the largest of 2..8 whose grid still fits one wave and
// that cuts K into equal slices of a multiple of 16, at least 128 deep.
func SplitK(m, n, k, batch, sms int) int {
	if m < 64 || n < 64 || 2*float64(m)*float64(n)*float64(k)*float64(batch) < 64e6 {
		return 1
	}
	slots := 3 * sms // the 64x64 tile's residency
	blocks := CeilDiv(m, 64) * CeilDiv(n, 64) * batch
	if 2*blocks >= slots {
		return 1
	}
	for s := min(8, slots/blocks); s >= 2; s-- {
		if k%s == 0 && k/s >= 128 && (k/s)%16 == 0 {
			return s
		}
	}
	return 1
}

// WinoParams mirrors struct WinoParams of winograd.cu: one F(m x m, 3x3)
// convolution, stride 1, as (m+2)^2 GEMMs between its transforms.
type WinoParams struct {
	N     int32 `c:"N"`
	K     int32 `c:"K"`
	H     int32 `c:"H"`
	W     int32 `c:"W"`
	R     int32 `c:"R"`
	OH    int32 `c:"OH"`
	OW    int32 `c:"OW"`
	PadH  int32 `c:"pad_h"`
	PadW  int32 `c:"pad_w"`
	M     int32 `c:"m"`
	TH    int32 `c:"TH"`
	TW    int32 `c:"TW"`
	Tiles int32 `c:"P"`
	// Stride-2 convs by phases (see winograd.cu): the input's channels are
	// the four phases of a [N, K/4, H0, W0] tensor (Gather), or the
	// output's those of a [N, R/4, H0, W0] one (Scatter), padded by Pad0.
	Gather  int32 `c:"gather"`
	Scatter int32 `c:"scatter"`
	H0      int32 `c:"H0"`
	W0      int32 `c:"W0"`
	Pad0    int32 `c:"pad0"`
}

// NewWinoParams describes the stride-1 3x3 convolution of n images of k
// channels h x w into r channels with the given padding, in m x m output
// tiles (m = 2 or 4).
func NewWinoParams(n, k, h, w, r, padH, padW, m int) WinoParams {
	return newWinoParams(n, k, h, w, r, padH, padW, m, 3)
}

// NewWinoPhaseParams describes the stride-2 3x3 convolution of n images of c
// channels h0 x w0 with padding pad into o channels by phases (F(4x4, 2x2)), as
// the stride-1 2x2 convolution of its 4c phase channels. With dgrad it is
// that convolution's input gradient instead: the stride-1 2x2 conv of dy
// (o channels, the forward's output size) with padding 1 into the 4c phases
// of dx.
func NewWinoPhaseParams(n, c, h0, w0, o, pad int, dgrad bool) WinoParams {
	oh, ow := (h0+2*pad-3)/2+1, (w0+2*pad-3)/2+1
	var p WinoParams
	if dgrad {
		p = newWinoParams(n, o, oh, ow, 4*c, 1, 1, 4, 2)
		p.Scatter = 1
	} else {
		p = newWinoParams(n, 4*c, oh+1, ow+1, o, 0, 0, 4, 2)
		p.Gather = 1
	}
	p.H0, p.W0, p.Pad0 = int32(h0), int32(w0), int32(pad)
	return p
}

// newWinoParams is a stride-1 r x r convolution in m x m output tiles.
func newWinoParams(n, k, h, w, r, padH, padW, m, kernel int) WinoParams {
	oh, ow := h+2*padH-(kernel-1), w+2*padW-(kernel-1)
	th, tw := CeilDiv(max(oh, 0), m), CeilDiv(max(ow, 0), m)
	return WinoParams{N: int32(n), K: int32(k), H: int32(h), W: int32(w), R: int32(r), OH: int32(oh), OW: int32(ow),
		PadH: int32(padH), PadW: int32(padW), M: int32(m), TH: int32(th), TW: int32(tw), Tiles: int32(n * th * tw)}
}

// Phases says whether p is a stride-2 conv by phases (F(4x4, 2x2)).
func (p WinoParams) Phases() bool { return p.Gather != 0 || p.Scatter != 0 }

// Points is the number of transform points, (m+r-1)^2: the GEMMs per pass.
func (p WinoParams) Points() int {
	a := int(p.M) + 2
	if p.Phases() {
		a = int(p.M) + 1
	}
	return a * a
}

// WinogradWorthIt says whether a stride-1 3x3 convolution with k input and r
// output channels over the given number of output pixels (all images) should
// run as Winograd GEMMs rather than the direct implicit GEMM: the 16 GEMMs
// need channels to fill 128-row tiles, and the transforms' memory passes and
// 4 extra launches must stay small beside the 2.25x saved multiply-adds. At
// 1024 pixels (8x8 at batch 16) the 16 GEMMs still have as many blocks as
// the direct kernel's 64x64 grid.
func WinogradWorthIt(k, r, outPixels int) bool {
	return k >= 128 && r >= 128 && outPixels >= 1024
}

// PlanWinogradGemm is the launch of the (m+2)^2 GEMMs M[xi] = U[xi] V[xi] of p.
func PlanWinogradGemm(p WinoParams) (GemmParams, LaunchPlan) {
	r, k, t := int64(p.R), int64(p.K), int64(p.Tiles)
	g := GemmParams{M: p.R, N: p.Tiles, K: p.K,
		ABatch: r * k, ARow: k, ACol: 1,
		BBatch: k * t, BRow: t, BCol: 1,
		CBatch: r * t, CRow: t, CCol: 1, Alpha: 1}
	return g, PlanSgemm(g, p.Points())
}

// PlanWinogradWgradGemm is the launch of the weight gradient's (m+2)^2 GEMMs
// Z[xi] (R x K) = E[xi] (R x P) V[xi]^T, accumulating into Z with beta.
func PlanWinogradWgradGemm(p WinoParams, beta float32) (GemmParams, LaunchPlan) {
	r, k, t := int64(p.R), int64(p.K), int64(p.Tiles)
	g := GemmParams{M: p.R, N: p.K, K: p.Tiles,
		ABatch: r * t, ARow: t, ACol: 1,
		BBatch: k * t, BRow: 1, BCol: t,
		CBatch: r * k, CRow: k, CCol: 1, Alpha: 1, Beta: beta}
	return g, PlanSgemm(g, p.Points())
}

// Conv kernels of conv2d.cu.
const (
	ConvForward = iota
	ConvInputGrad
	ConvWeightGrad
	ConvModForward // conv2d_modfwd_f32: the forward with modulation, demodulation and noise fused
)

// PlanConv2d returns the launch of one conv2d kernel; for ConvWeightGrad also
// the k_split argument, chosen so that the grid has about 4 blocks per SM. It
// takes the 128x128 tile (ConvTile128) when the output rows fill it and its
// grid still has a block for every SM, else the 64x64 one; a strided input
// gradient without dilation goes to the phase kernel (planDgradPhase) unless
// LAFITE_CUDA_PHASE_DGRAD=0.
func PlanConv2d(kind int, p ConvParams, sms int) (plan LaunchPlan, kSplit int32) {
	g := int(p.Groups)
	cg, og := int(p.C)/g, int(p.O)/g
	rows, cols := og, int(p.N*p.OH*p.OW)
	switch kind {
	case ConvInputGrad:
		rows, cols = cg, int(p.N*p.H*p.W)
	case ConvWeightGrad:
		cols = cg * int(p.KH*p.KW)
	}
	if kind == ConvInputGrad && (p.StrideH > 1 || p.StrideW > 1) && p.DilH == 1 && p.DilW == 1 && !PhaseDgradOff() {
		return planDgradPhase(p), 0
	}
	tile := ConvTile64
	if rows >= ConvTile128 && cols >= ConvTile128 &&
		(kind == ConvWeightGrad || CeilDiv(rows, ConvTile128)*CeilDiv(cols, ConvTile128)*g >= max(sms, 1)) {
		tile = ConvTile128
	}
	return PlanConv2dTile(kind, p, sms, tile)
}

// PhaseDgradEnv names the switch ("0") that sends strided input gradients
// to the direct kernels, which visit every tap, instead of the phase kernel:
// a fallback should the phase kernel fail on a card.
const PhaseDgradEnv = "LAFITE_CUDA_PHASE_DGRAD"

// PhaseDgradOff reports whether LAFITE_CUDA_PHASE_DGRAD=0.
func PhaseDgradOff() bool { return FallbackNamed("phase-dgrad").IsOff() }

// planDgradPhase plans conv2d_dgrad_phase128_f32, the strided input gradient
// that visits only the taps meeting each pixel (1/s^2 of the direct kernel's
// multiply-adds). Its grid has as many blocks as the direct 128x128 kernel's,
// each doing the multiply-adds of a 64x64 direct block at stride 2 (four
// times the tile, a quarter of the taps), so it is used at every size.
func planDgradPhase(p ConvParams) LaunchPlan {
	g := int(p.Groups)
	sh, sw := int(p.StrideH), int(p.StrideW)
	classCols := int(p.N) * CeilDiv(int(p.H), sh) * CeilDiv(int(p.W), sw)
	return LaunchPlan{File: "conv2d.cu", Entry: "conv2d_dgrad_phase128_f32", Block: D1(256),
		Grid: D3(CeilDiv(classCols, ConvTile128), CeilDiv(int(p.C)/g, ConvTile128), g*sh*sw)}
}

// Output tiles of the conv kernels: conv2d_*_f32 and conv2d_*128_f32; and
// the Winograd paths F(2x2, 3x3) and F(4x4, 3x3) of winograd.cu, named by
// their output tile, for tests that force them on shapes the planner would
// give the direct kernels.
const (
	ConvWinograd2 = 2
	ConvWinograd4 = 4
	ConvTile64    = 64
	ConvTile128   = 128
)

// PlanConv2dTile is PlanConv2d with the tile given (ConvTile64 or ConvTile128).
func PlanConv2dTile(kind int, p ConvParams, sms, tile int) (plan LaunchPlan, kSplit int32) {
	g := int(p.Groups)
	cg, og := int(p.C)/g, int(p.O)/g
	suffix := "_f32"
	if tile == ConvTile128 {
		suffix = "128_f32"
	} else {
		tile = ConvTile64
	}
	plan = LaunchPlan{File: "conv2d.cu", Block: D1(256)}
	switch kind {
	case ConvForward, ConvModForward:
		plan.Entry = "conv2d_fwd" + suffix
		if kind == ConvModForward {
			plan.Entry = "conv2d_modfwd" + suffix
		}
		plan.Grid = D3(CeilDiv(int(p.N*p.OH*p.OW), tile), CeilDiv(og, tile), g)
	case ConvInputGrad:
		plan.Entry = "conv2d_dgrad" + suffix
		plan.Grid = D3(CeilDiv(int(p.N*p.H*p.W), tile), CeilDiv(cg, tile), g)
	default:
		plan.Entry = "conv2d_wgrad" + suffix
		k := int(p.N * p.OH * p.OW)
		tiles := CeilDiv(cg*int(p.KH*p.KW), tile) * CeilDiv(og, tile) * g
		splits := max(1, min(CeilDiv(4*max(sms, 1), tiles), CeilDiv(k, 256)))
		ks := CeilDiv(CeilDiv(k, splits), 8) * 8
		splits = CeilDiv(k, ks)
		for splits*g > maxGridZ {
			ks *= 2
			splits = CeilDiv(k, ks)
		}
		plan.Grid = D3(CeilDiv(cg*int(p.KH*p.KW), tile), CeilDiv(og, tile), g*splits)
		kSplit = int32(ks)
	}
	return plan, kSplit
}
