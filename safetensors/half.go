package safetensors

import "math"

// HalfToFloat32 widens an IEEE 754 binary16 value to float32. The conversion
// is exact for every input: subnormals become normal float32 values,
// infinities stay infinite and NaNs keep their sign and payload.
func HalfToFloat32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch exp {
	case 0:
		// Zero or subnormal: mant·2⁻²⁴, exactly representable in float32.
		f := float32(mant) * (1.0 / (1 << 24))
		if sign != 0 {
			f = -f
		}
		return f
	case 0x1f:
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	}
	return math.Float32frombits(sign | (exp+127-15)<<23 | mant<<13)
}

// BFloat16ToFloat32 widens a bfloat16 value (the upper half of a float32) to
// float32; exact for every input.
func BFloat16ToFloat32(b uint16) float32 {
	return math.Float32frombits(uint32(b) << 16)
}
