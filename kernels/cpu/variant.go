package cpu

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/klauspost/cpuid/v2"
)

// Names of the kernel variants. A variant is a set of implementations of the
// dispatch vars (Gemm, ...) for one instruction set; the scalar references stay
// the ground truth every variant is tested against.
const (
	VariantGeneric = "generic"
	VariantAVX2    = "avx2"
	VariantAVX512  = "avx512"
)

// variant is one instruction set's kernels. install writes them into the
// dispatch vars; supported says whether this CPU and OS can run them.
type variant struct {
	name      string
	supported bool
	install   func()
}

// variants lists every variant of this build, best first; archVariants is
// defined per architecture (the assembly ones only exist on amd64).
var variants = append(archVariants(), variant{
	name:      VariantGeneric,
	supported: true,
	install:   installGeneric,
})

var activeVariant string

// installGeneric sets every dispatch var to its portable kernel; the other
// variants start from it and replace what they have in assembly.
func installGeneric() {
	Gemm, activeGemm = gemmGeneric, genericKernel
	GemmBatched = gemmBatchedGeneric
	Unary = unaryParallelRef
	Binary = BinaryRef
	BiasAct = BiasActRef
	BiasActGrad = BiasActGradRef
	ReduceRows = ReduceRowsRef
	SumOuterInner = SumOuterInnerRef
	SumMiddle = SumMiddleRef
	Conv2dForward = conv2dForwardGemm
	Conv2dInputGrad = conv2dInputGradGemm
	Conv2dWeightGrad = conv2dWeightGradGemm
	Upfirdn2d = upfirdn2dFast
	firRows2, firRows4, firPairs = firRows2Generic, firRows4Generic, firPairsGeneric
	firRows4Block, firShiftedRows = 1, firShiftedRowsGeneric
	SoftmaxRows = SoftmaxRowsRef
	LogSoftmaxRows = LogSoftmaxRowsRef
	LayerNormRows = LayerNormRowsRef
	winoInputBlocks, winoOutputBlocks, winoGradOutputBlocks, winoBlockTiles = nil, nil, nil, 16
	transpose8x8, transpose8x8Rows, gatherRows, scatterRow, pack6Rows = nil, nil, nil, nil, nil
	addInto = addIntoScalar
	AdamUpdate, EMAUpdate = AdamUpdateRef, EMAUpdateRef
	gatherStride2Rows, scatterAddStride2Rows = gatherStride2RowsScalar, scatterAddStride2RowsScalar
}

// hasAVX2FMA reports AVX2 and FMA3 with the OS saving YMM state (cpuid checks XCR0).
func hasAVX2FMA() bool { return cpuid.CPU.Supports(cpuid.AVX, cpuid.AVX2, cpuid.FMA3) }

// hasAVX512 reports the AVX-512 subsets the kernels use, with ZMM state enabled by the OS.
func hasAVX512() bool {
	return hasAVX2FMA() && cpuid.CPU.Supports(cpuid.AVX512F, cpuid.AVX512BW, cpuid.AVX512DQ, cpuid.AVX512VL)
}

// The variant is chosen once at start-up: the best the CPU supports, or the
// one named by LAFITE_CPU (generic, avx2, avx512) when that one is supported.
func init() {
	want := strings.TrimSpace(strings.ToLower(os.Getenv("LAFITE_CPU")))
	if want != "" {
		if err := UseVariant(want); err == nil {
			return
		} else {
			fmt.Fprintf(os.Stderr, "lafite: LAFITE_CPU=%s ignored: %v\n", want, err)
		}
	}
	if err := UseVariant(Variants()[0]); err != nil {
		panic(err) // unreachable: generic is always supported
	}
}

// Variants lists the kernel variants this machine can run, best first; the
// last is always VariantGeneric.
func Variants() []string {
	var out []string
	for _, v := range variants {
		if v.supported {
			out = append(out, v.name)
		}
	}
	return out
}

// UseVariant installs the named variant's kernels into the dispatch vars. It
// must not run concurrently with kernels; tests and benchmarks use it to
// compare variants in one process.
func UseVariant(name string) error {
	for _, v := range variants {
		if v.name != name {
			continue
		}
		if !v.supported {
			return fmt.Errorf("cpu variant %q is not supported by this CPU (features: %s)", name, strings.Join(Features(), ","))
		}
		v.install()
		activeVariant = name
		return nil
	}
	var names []string
	for _, v := range variants {
		names = append(names, v.name)
	}
	return fmt.Errorf("unknown cpu variant %q (known: %s)", name, strings.Join(names, ", "))
}

// ActiveVariant is the name of the variant whose kernels are installed.
func ActiveVariant() string { return activeVariant }

// Settings describes the choices made from the environment at start-up, each
// with the variable that sets it (for `lafite doctor`).
func Settings() string {
	return fmt.Sprintf("%s of [%s] (LAFITE_CPU); Winograd F(%dx%d,3x3) from %d channels (LAFITE_CPU_WINOGRAD); idle workers poll %v before they sleep, %v while threads wait for cores (LAFITE_CPU_SPIN)",
		activeVariant, strings.Join(Variants(), " "), winogradTile, winogradTile, winogradMinChannels, spinWindow.Load(), min(spinWindow.Load(), contendedSpin))
}

// Features lists the instruction-set features relevant to the kernels that
// this CPU has, lower-case and sorted, for benchmark records.
func Features() []string {
	ids := []cpuid.FeatureID{cpuid.SSE2, cpuid.AVX, cpuid.AVX2, cpuid.FMA3,
		cpuid.AVX512F, cpuid.AVX512BW, cpuid.AVX512DQ, cpuid.AVX512VL, cpuid.ASIMD}
	var out []string
	for _, id := range ids {
		if cpuid.CPU.Supports(id) {
			out = append(out, strings.ToLower(id.String()))
		}
	}
	slices.Sort(out)
	return out
}

// CPUModel is the processor's brand string and its logical core count.
func CPUModel() (brand string, logicalCores int) {
	return cpuid.CPU.BrandName, cpuid.CPU.LogicalCores
}
