package cuda

import (
	"math"
	"math/bits"
)

// Philox4x32-10 as in Random123 and kernels/philox.cu. The Go version is the
// definition of the engine's random sequence: CPU code that must draw the same
// numbers as the GPU (tests, reproducible runs) calls these.

const (
	philoxM0 = 0xD2511F53
	philoxM1 = 0xCD9E8D57
	philoxW0 = 0x9E3779B9
	philoxW1 = 0xBB67AE85
)

// Philox4x32 applies the 10-round Philox4x32 bijection to a counter under a key.
func Philox4x32(ctr [4]uint32, key [2]uint32) [4]uint32 {
	c, k0, k1 := ctr, key[0], key[1]
	for r := 0; r < 10; r++ {
		if r > 0 {
			k0 += philoxW0
			k1 += philoxW1
		}
		hi0, lo0 := bits.Mul32(philoxM0, c[0])
		hi1, lo1 := bits.Mul32(philoxM1, c[2])
		c = [4]uint32{hi1 ^ c[1] ^ k0, lo1, hi0 ^ c[3] ^ k1, lo0}
	}
	return c
}

// PhiloxBlock returns the four words of block j of stream (seed, offset).
func PhiloxBlock(seed, offset, j uint64) [4]uint32 {
	return Philox4x32([4]uint32{uint32(j), uint32(j >> 32), uint32(offset), uint32(offset >> 32)},
		[2]uint32{uint32(seed), uint32(seed >> 32)})
}

// philoxU01 maps a word to (0, 1) exactly as the kernel does.
func philoxU01(w uint32) float32 {
	return (float32(w>>8) + 0.5) * (1.0 / (1 << 24))
}

// PhiloxUniform fills dst with element i of the uniform [lo, hi) stream
// (seed, offset), starting at element 0, like philox_uniform_f32: bit-exact
// for [0, 1); for other ranges the kernel's float32 fma and this float64 fma
// may round differently, by at most 1 ulp.
func PhiloxUniform(dst []float32, seed, offset uint64, lo, hi float32) {
	for j := 0; 4*j < len(dst); j++ {
		w := PhiloxBlock(seed, offset, uint64(j))
		for q := 0; q < 4 && 4*j+q < len(dst); q++ {
			dst[4*j+q] = float32(math.FMA(float64(hi-lo), float64(philoxU01(w[q])), float64(lo)))
		}
	}
}

// PhiloxNormal fills dst like philox_normal_f32 (Box-Muller on word pairs).
// It is computed in float64, so it matches the GPU to float32 rounding of the
// transcendental functions (a few ulp), not bit for bit.
func PhiloxNormal(dst []float32, seed, offset uint64, mean, std float32) {
	for j := 0; 4*j < len(dst); j++ {
		w := PhiloxBlock(seed, offset, uint64(j))
		var z [4]float64
		for p := 0; p < 2; p++ {
			r := math.Sqrt(-2 * math.Log(float64(philoxU01(w[2*p]))))
			s, c := math.Sincos(2 * math.Pi * float64(philoxU01(w[2*p+1])))
			z[2*p], z[2*p+1] = r*c, r*s
		}
		for q := 0; q < 4 && 4*j+q < len(dst); q++ {
			dst[4*j+q] = float32(float64(mean) + float64(std)*z[q])
		}
	}
}
