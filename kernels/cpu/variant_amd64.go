//go:build amd64

package cpu

func archVariants() []variant {
	return []variant{
		{name: VariantAVX512, supported: hasAVX512(), install: installAVX512},
		{name: VariantAVX2, supported: hasAVX2FMA(), install: installAVX2},
	}
}

func installAVX512() {
	installGeneric()
	Gemm, activeGemm = gemmAVX512, avx512Kernel
	GemmBatched = gemmBatchedAVX512
	Unary = avx512Vec.unary
	Binary = avx512Vec.binary
	BiasAct = avx512Vec.biasAct.biasAct
	BiasActGrad = avx512Vec.biasAct.biasActGrad
	ReduceRows = avx512Vec.sum.reduceRows
	SumOuterInner = avx512Vec.sum.sumOuterInner
	SumMiddle = avx512Vec.sum.sumMiddle
	SoftmaxRows = avx512Rows.softmaxRows
	LogSoftmaxRows = avx512Rows.logSoftmaxRows
	LayerNormRows = avx512Rows.layerNormRows
	firRows2, firRows4, firPairs = firRows2AVX2, firRows4AVX2, firPairsAVX2 // in cache: 8 lanes keep up
	firRows4Block, firShiftedRows = 8, firShiftedRowsAVX2
	winoInputBlocks, winoOutputBlocks, winoGradOutputBlocks, winoBlockTiles = winoInput16AVX512, winoOutput16AVX512, winoGradOutput16AVX512, 16
	transpose8x8, transpose8x8Rows, gatherRows, scatterRow, pack6Rows = transpose8x8AVX2, transpose8x8RowsAVX2, gatherRowsAVX2, scatterRowAVX2, pack6RowsAVX2
	addInto = avx512Vec.addInto
	AdamUpdate, EMAUpdate = adamUpdateAVX2, emaUpdateAVX2
	gatherStride2Rows, scatterAddStride2Rows = gatherStride2RowsAVX2, scatterAddStride2RowsAVX2
}

func installAVX2() {
	installGeneric()
	Gemm, activeGemm = gemmAVX2, avx2Kernel
	GemmBatched = gemmBatchedAVX2
	Unary = avx2Vec.unary
	Binary = avx2Vec.binary
	BiasAct = avx2Vec.biasAct.biasAct
	BiasActGrad = avx2Vec.biasAct.biasActGrad
	ReduceRows = avx2Vec.sum.reduceRows
	SumOuterInner = avx2Vec.sum.sumOuterInner
	SumMiddle = avx2Vec.sum.sumMiddle
	SoftmaxRows = avx2Rows.softmaxRows
	LogSoftmaxRows = avx2Rows.logSoftmaxRows
	LayerNormRows = avx2Rows.layerNormRows
	firRows2, firRows4, firPairs = firRows2AVX2, firRows4AVX2, firPairsAVX2
	firRows4Block, firShiftedRows = 8, firShiftedRowsAVX2
	winoInputBlocks, winoOutputBlocks, winoGradOutputBlocks, winoBlockTiles = winoInput8AVX2, winoOutput8AVX2, winoGradOutput8AVX2, 8
	transpose8x8, transpose8x8Rows, gatherRows, scatterRow, pack6Rows = transpose8x8AVX2, transpose8x8RowsAVX2, gatherRowsAVX2, scatterRowAVX2, pack6RowsAVX2
	addInto = avx2Vec.addInto
	AdamUpdate, EMAUpdate = adamUpdateAVX2, emaUpdateAVX2
	gatherStride2Rows, scatterAddStride2Rows = gatherStride2RowsAVX2, scatterAddStride2RowsAVX2
}
