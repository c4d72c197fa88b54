package cpu

// Packing copies a block of A or B into the micro-kernels' panel order:
// kc groups of w values, one value per row of A (w = mr) or per column of B
// (w = nr). When the values of one group are contiguous in the source this is
// a copy per group; otherwise it is a transpose, done four source lines at a
// time so each group receives four values from four sequential streams.

// packA copies rows [0,rows) x [0,kc) of A into dst as kc groups of mr values,
// zero-padding the rows past the edge.
func packA(dst []float32, mr, kc, rows int, a []float32, off, aRow, aCol int) {
	packPanel(dst, mr, kc, rows, a, off, aRow, aCol)
}

// packB copies rows [0,kc) x columns [0,cols) of B into dst as kc groups of nr
// values, zero-padding the columns past the edge.
func packB(dst []float32, nr, kc, cols int, b []float32, off, bRow, bCol int) {
	packPanel(dst, nr, kc, cols, b, off, bCol, bRow)
}

// packPanel writes dst[p*w+l] = src[off + l*laneStride + p*groupStride] for
// p < kc and l < lanes, and zeroes lanes [lanes, w).
func packPanel(dst []float32, w, kc, lanes int, src []float32, off, laneStride, groupStride int) {
	dst = dst[:kc*w]
	if lanes < w {
		clear(dst)
	}
	if kc == 0 || lanes == 0 {
		return
	}
	if laneStride == 1 { // a group is contiguous in the source
		if lanes == w && packGroups(dst, w, kc, src, off, groupStride) {
			return
		}
		for p := 0; p < kc; p++ {
			s := off + p*groupStride
			copy(dst[p*w:p*w+lanes], src[s:s+lanes])
		}
		return
	}
	if groupStride != 1 {
		for l := 0; l < lanes; l++ {
			for p := 0; p < kc; p++ {
				dst[p*w+l] = src[off+l*laneStride+p*groupStride]
			}
		}
		return
	}
	l := 0
	for ; l+4 <= lanes; l += 4 {
		s := off + l*laneStride
		r0 := src[s : s+kc]
		r1 := src[s+laneStride : s+laneStride+kc]
		r2 := src[s+2*laneStride : s+2*laneStride+kc]
		r3 := src[s+3*laneStride : s+3*laneStride+kc]
		r1, r2, r3 = r1[:len(r0)], r2[:len(r0)], r3[:len(r0)]
		for p := range r0 {
			d := dst[p*w+l : p*w+l+4]
			d[0], d[1], d[2], d[3] = r0[p], r1[p], r2[p], r3[p]
		}
	}
	for ; l < lanes; l++ {
		row := src[off+l*laneStride : off+l*laneStride+kc]
		for p, v := range row {
			dst[p*w+l] = v
		}
	}
}

// packGroups copies kc whole groups of the micro-kernels' widths element by
// element from fixed-length slices (no bounds checks, no call), where copy
// would call memmove for every 24 to 128 bytes. It reports false for other
// widths.
func packGroups(dst []float32, w, kc int, src []float32, off, groupStride int) bool {
	switch w {
	case 6:
		for p := 0; p < kc; p++ {
			s := off + p*groupStride
			d, v := dst[p*6:p*6+6:p*6+6], src[s:s+6:s+6]
			d[0], d[1], d[2], d[3] = v[0], v[1], v[2], v[3]
			d[4], d[5] = v[4], v[5]
		}
	case 14:
		for p := 0; p < kc; p++ {
			s := off + p*groupStride
			d, v := dst[p*14:p*14+14:p*14+14], src[s:s+14:s+14]
			d[0], d[1], d[2], d[3] = v[0], v[1], v[2], v[3]
			d[4], d[5], d[6], d[7] = v[4], v[5], v[6], v[7]
			d[8], d[9], d[10], d[11] = v[8], v[9], v[10], v[11]
			d[12], d[13] = v[12], v[13]
		}
	case 16:
		for p := 0; p < kc; p++ {
			s := off + p*groupStride
			d, v := dst[p*16:p*16+16:p*16+16], src[s:s+16:s+16]
			d[0], d[1], d[2], d[3] = v[0], v[1], v[2], v[3]
			d[4], d[5], d[6], d[7] = v[4], v[5], v[6], v[7]
			d[8], d[9], d[10], d[11] = v[8], v[9], v[10], v[11]
			d[12], d[13], d[14], d[15] = v[12], v[13], v[14], v[15]
		}
	case 32:
		for p := 0; p < kc; p++ {
			s := off + p*groupStride
			d, v := dst[p*32:p*32+32:p*32+32], src[s:s+32:s+32]
			d[0], d[1], d[2], d[3] = v[0], v[1], v[2], v[3]
			d[4], d[5], d[6], d[7] = v[4], v[5], v[6], v[7]
			d[8], d[9], d[10], d[11] = v[8], v[9], v[10], v[11]
			d[12], d[13], d[14], d[15] = v[12], v[13], v[14], v[15]
			d[16], d[17], d[18], d[19] = v[16], v[17], v[18], v[19]
			d[20], d[21], d[22], d[23] = v[20], v[21], v[22], v[23]
			d[24], d[25], d[26], d[27] = v[24], v[25], v[26], v[27]
			d[28], d[29], d[30], d[31] = v[28], v[29], v[30], v[31]
		}
	default:
		return false
	}
	return true
}
