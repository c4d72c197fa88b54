package cpu

import "fmt"

// PackedB is the right operand B [k, n] of products C = A·B, packed once in
// the layout the active micro-kernel reads: for a B that many products share
// and nobody changes (a frozen model's weight), each product then skips the
// packing, which costs about as much as 32 multiply-adds per value of B
// (13% of a ViT-B/32 forward at batch 8).
type PackedB struct {
	g    *gemmKernel // the kernel it was packed for
	k, n int
	data []float32 // per block of kc rows of B, its column micro-panels of kc·nr values
}

// activeGemm is the gemmKernel behind Gemm (set with it by each variant).
var activeGemm *gemmKernel

// PackB packs B [k, n] at b[bOff + i·bRow + j·bCol] for the active kernel.
func PackB(k, n int, b []float32, bOff, bRow, bCol int) *PackedB {
	if k < 0 || n < 0 {
		panic(fmt.Sprintf("cpu.PackB: shape [%d,%d]", k, n))
	}
	pb := &PackedB{data: make([]float32, packedBSize(k, n))}
	pb.pack(k, n, b, bOff, bRow, bCol)
	return pb
}

// packedBSize is the floats of B [k, n] packed for the active kernel.
func packedBSize(k, n int) int { return k * ceilDiv(n, activeGemm.nr) * activeGemm.nr }

// pack packs B [k, n] for the active kernel into pb.data, which holds
// packedBSize(k, n) floats or more.
func (pb *PackedB) pack(k, n int, b []float32, bOff, bRow, bCol int) {
	g := activeGemm
	panels := ceilDiv(n, g.nr)
	pb.g, pb.k, pb.n = g, k, n
	kcMax := max(1, min(g.kc, k))
	for pc := 0; pc < k; pc += kcMax {
		kc := min(kcMax, k-pc)
		block := pb.data[pc*panels*g.nr:]
		jp := 0
		if full := n / g.nr; bCol == 1 && full > 0 {
			// Rows of contiguous columns: all full panels row by row, one
			// sequential read (panel by panel, a 16-float copy per row of
			// each, was 11% of the 32x32 input gradient).
			packBAcross(block[:full*kc*g.nr], g.nr, kc, full, b, bOff+pc*bRow, bRow)
			jp = full
		}
		for ; jp < panels; jp++ {
			packB(block[jp*kc*g.nr:(jp+1)*kc*g.nr], g.nr, kc, min(g.nr, n-jp*g.nr), b, bOff+pc*bRow+jp*g.nr*bCol, bRow, bCol)
		}
	}
}

// setRow writes row p of B (its n values) where pb.pack would put it, the
// columns past n of the last panel zero; pb's kernel, k and n are set and
// its data holds packedBSize(k, n) floats.
func (pb *PackedB) setRow(p int, row []float32) {
	nr := pb.g.nr
	panels := ceilDiv(pb.n, nr)
	kcMax := max(1, min(pb.g.kc, pb.k))
	pc := p / kcMax * kcMax
	kc := min(kcMax, pb.k-pc)
	row = row[:pb.n]
	base := pc*panels*nr + (p-pc)*nr
	for jp := 0; jp < panels; jp++ {
		d := pb.data[base+jp*kc*nr : base+jp*kc*nr+nr]
		clear(d[copy(d, row[jp*nr:min(pb.n, (jp+1)*nr)]):])
	}
}

// Shape is B's [k, n].
func (pb *PackedB) Shape() (k, n int) { return pb.k, pb.n }

// Current reports whether pb was packed for the kernel Gemm uses now (the
// variant can change, in tests and benchmarks).
func (pb *PackedB) Current() bool { return pb.g == activeGemm }

// Gemm is Gemm(m, n, k, alpha, A, B, beta, C) with this B; pb must be
// Current.
func (pb *PackedB) Gemm(m int, alpha float32, a []float32, aOff, aRow, aCol int,
	beta float32, c []float32, cOff, ldc int) {
	if !pb.Current() {
		panic("cpu.PackedB.Gemm: packed for another kernel variant; pack again")
	}
	runOne(gemmCall{g: pb.g, m: m, n: pb.n, k: pb.k, alpha: alpha, beta: beta,
		a: a, aOff: aOff, aRow: aRow, aCol: aCol,
		c: c, cOff: cOff, ldc: ldc, prepacked: pb.data})
}

// runOne runs the single product call describes (its operands and kernel
// set) after the checks of C and the empty cases every entry point makes.
func runOne(call gemmCall) {
	if call.m <= 0 || call.n <= 0 {
		return
	}
	if emptyProduct(1, call.m, call.n, call.k, call.alpha, call.beta, call.c, call.cOff, call.ldc, 0) {
		return
	}
	call.batch = 1
	call.g.runPooled(call)
}

// PackedA is the left operand A [m, k] packed once in the layout the active
// micro-kernel reads, for an A that several products take in turn: a
// Winograd convolution's transformed weight meets every chunk of samples,
// and packing its 512x512 planes (read down columns) again for each chunk
// was a tenth of a 64x64 generator's time on AVX2.
type PackedA struct {
	g    *gemmKernel // the kernel it was packed for
	m, k int
	data []float32 // per block of kc steps of k, its row micro-panels of mr·kc values
}

// PackA packs A [m, k] at a[aOff + i·aRow + p·aCol] for the active kernel.
func PackA(m, k int, a []float32, aOff, aRow, aCol int) *PackedA {
	if m < 0 || k < 0 {
		panic(fmt.Sprintf("cpu.PackA: shape [%d,%d]", m, k))
	}
	pa := &PackedA{data: make([]float32, packedASize(m, k))}
	pa.pack(m, k, a, aOff, aRow, aCol)
	return pa
}

// packedASize is the floats of A [m, k] packed for the active kernel.
func packedASize(m, k int) int { return ceilDiv(m, activeGemm.mr) * activeGemm.mr * k }

// pack packs A [m, k] for the active kernel into pa.data, which holds
// packedASize(m, k) floats or more: the blocks of kc steps that the
// product's blocking takes, each its row micro-panels in order, so a row
// block starting at row ic (a multiple of mr) is one contiguous run.
func (pa *PackedA) pack(m, k int, a []float32, aOff, aRow, aCol int) {
	pa.g, pa.m, pa.k = activeGemm, m, k
	pa.packPanels(0, ceilDiv(m, activeGemm.mr), a, aOff, aRow, aCol)
}

// packParallel is pack with the row panels split between the workers.
func (pa *PackedA) packParallel(m, k int, a []float32, aOff, aRow, aCol int) {
	pa.g, pa.m, pa.k = activeGemm, m, k
	j := &packAJob{pa: pa, a: a, aOff: aOff, aRow: aRow, aCol: aCol}
	parallelRange(ceilDiv(m, activeGemm.mr), 32*activeGemm.mr*k, j)
}

// packPanels packs row panels [lo,hi) of A (pa's kernel, m and k set).
func (pa *PackedA) packPanels(lo, hi int, a []float32, aOff, aRow, aCol int) {
	g, m, k := pa.g, pa.m, pa.k
	panels := ceilDiv(m, g.mr)
	kcMax := max(1, min(g.kc, k))
	for pc := 0; pc < k; pc += kcMax {
		kc := min(kcMax, k-pc)
		block := pa.data[pc*panels*g.mr:]
		packAPanels(block[lo*kc*g.mr:hi*kc*g.mr], g.mr, kc, min(hi*g.mr, m)-lo*g.mr, a, aOff+lo*g.mr*aRow+pc*aCol, aRow, aCol)
	}
}

// packAJob packs row panels [lo,hi) of a PackedA.
type packAJob struct {
	pa               *PackedA
	a                []float32
	aOff, aRow, aCol int
}

func (j *packAJob) runRange(lo, hi int) { j.pa.packPanels(lo, hi, j.a, j.aOff, j.aRow, j.aCol) }

// Shape is A's [m, k].
func (pa *PackedA) Shape() (m, k int) { return pa.m, pa.k }

// Current reports whether pa was packed for the kernel Gemm uses now.
func (pa *PackedA) Current() bool { return pa.g == activeGemm }

// gemmPackedAB is Gemm(m, n, k, alpha, A, B, beta, C) with both operands
// packed beforehand, for the same kernel and the same depth.
func gemmPackedAB(pa *PackedA, pb *PackedB, alpha, beta float32, c []float32, cOff, ldc int) {
	if !pa.Current() || !pb.Current() || pa.k != pb.k {
		panic(fmt.Sprintf("cpu.gemmPackedAB: A [%d,%d] and B [%d,%d] packed for another kernel variant or depth", pa.m, pa.k, pb.k, pb.n))
	}
	runOne(gemmCall{g: pa.g, m: pa.m, n: pb.n, k: pa.k, alpha: alpha, beta: beta, packedA: pa.data,
		c: c, cOff: cOff, ldc: ldc, prepacked: pb.data})
}

// Gemm is Gemm(m, n, k, alpha, A, B, beta, C) with this A; pa must be
// Current. B is read or packed as Gemm would.
func (pa *PackedA) Gemm(n int, alpha float32, b []float32, bOff, bRow, bCol int,
	beta float32, c []float32, cOff, ldc int) {
	if !pa.Current() {
		panic("cpu.PackedA.Gemm: packed for another kernel variant; pack again")
	}
	runOne(gemmCall{g: pa.g, m: pa.m, n: n, k: pa.k, alpha: alpha, beta: beta, packedA: pa.data,
		b: b, bOff: bOff, bRow: bRow, bCol: bCol,
		c: c, cOff: cOff, ldc: ldc,
		direct: bCol == 1 && pa.g.readsBInPlace(pa.m, pa.k, bRow)})
}
