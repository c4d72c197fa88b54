package cpu

import "math"

// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3"):
// a counter-based generator, so element i of a draw depends only on (key,
// counter+i) and any split of the work across goroutines gives the same numbers.

const (
	philoxM0 = 0xD2511F53
	philoxM1 = 0xCD9E8D57
	philoxW0 = 0x9E3779B9
	philoxW1 = 0xBB67AE85
)

// Philox returns the four 32-bit outputs for a 128-bit counter and 64-bit key.
func Philox(ctr [4]uint32, key [2]uint32) [4]uint32 {
	for r := 0; r < 10; r++ {
		p0 := uint64(philoxM0) * uint64(ctr[0])
		p1 := uint64(philoxM1) * uint64(ctr[2])
		ctr = [4]uint32{
			uint32(p1>>32) ^ ctr[1] ^ key[0], uint32(p1),
			uint32(p0>>32) ^ ctr[3] ^ key[1], uint32(p0),
		}
		key[0] += philoxW0
		key[1] += philoxW1
	}
	return ctr
}

func philoxBlock(seed, block uint64) [4]uint32 {
	return Philox([4]uint32{uint32(block), uint32(block >> 32), 0, 0}, [2]uint32{uint32(seed), uint32(seed >> 32)})
}

// uniform01 maps 32 random bits to (0, 1], never 0, so log() is safe.
func uniform01(u uint32) float64 { return (float64(u>>8) + 1) / (1 << 24) }

// FillNormal writes N(0,1) samples: element i uses block counter+i/2 and the
// lane pair (i%2)*2, (i%2)*2+1 via Box-Muller.
func FillNormal(dst []float32, seed, counter uint64) {
	ParallelFor(len(dst), 40, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			b := philoxBlock(seed, counter+uint64(i/2))
			lane := (i % 2) * 2
			u1, u2 := uniform01(b[lane]), uniform01(b[lane+1])
			dst[i] = float32(math.Sqrt(-2*math.Log(u1)) * math.Cos(2*math.Pi*u2))
		}
	})
}

// FillUniform writes samples uniform in [lo, hi): element i uses block
// counter+i/4, lane i%4.
func FillUniform(dst []float32, lo, hi float32, seed, counter uint64) {
	ParallelFor(len(dst), 20, func(a, b int) {
		for i := a; i < b; i++ {
			blk := philoxBlock(seed, counter+uint64(i/4))
			u := float64(blk[i%4]>>8) / (1 << 24)
			dst[i] = lo + float32(u)*(hi-lo)
		}
	})
}
