package cpu

// Packing copies a block of A or B into the micro-kernels' panel order:
// kc groups of w values, one value per row of A (w = mr) or per column of B
// (w = nr). When the values of one group are contiguous in the source this is
// a copy per group; otherwise it is a transpose, done eight source lines at a
// time as 8x8 register transposes where the variant has them, then four at a
// time so each group receives four values from four sequential streams.

// pack6Rows packs blocks of 8 steps of k of a 6-row A panel whose rows are
// srcStride floats apart (pack_amd64.s); nil where the variant has none.
var pack6Rows func(dst *float32, src *float32, srcStride int, blocks int)

// transpose8x8 transposes blocks of 8x8 floats (pack_amd64.s) for the
// transposing pack, eight source lines at a time; nil where the variant has
// none.
var transpose8x8 func(dst *float32, dstStride int, src *float32, srcStride int, blocks int)

// packA copies rows [0,rows) x [0,kc) of A into dst as kc groups of mr values,
// zero-padding the rows past the edge.
func packA(dst []float32, mr, kc, rows int, a []float32, off, aRow, aCol int) {
	packPanel(dst, mr, kc, rows, a, off, aRow, aCol)
}

// packAPanels packs rows [0,rows) x [0,kc) of A as consecutive panels of
// mr rows (packA each, the last zero-padded). Where A's rows are one apart
// (a transposed operand: one step of k is a contiguous run of every row)
// the full panels are packed step by step across all of them
// (packAAcross).
func packAPanels(dst []float32, mr, kc, rows int, a []float32, off, aRow, aCol int) {
	full := 0
	if aRow == 1 && kc > 0 {
		full = rows / mr
		packAAcross(dst[:full*mr*kc], mr, kc, full, a, off, aCol)
	}
	for ip := full; ip*mr < rows; ip++ {
		packA(dst[ip*mr*kc:(ip+1)*mr*kc], mr, kc, min(mr, rows-ip*mr), a, off+ip*mr*aRow, aRow, aCol)
	}
}

// packAAcross packs panels full panels of mr rows of an A whose rows are
// one apart (step p of k at off + p·aCol), panel q into dst[q·kc·mr:]. Step
// by step, one contiguous read each: panel by panel, every step of a
// panel is a short read from a new page when A's steps are far apart (the
// transposed weights of an input gradient: 18 KB at 512 channels).
func packAAcross(dst []float32, mr, kc, panels int, a []float32, off, aCol int) {
	dst = dst[:panels*kc*mr]
	for p := 0; p < kc; p++ {
		row := a[off+p*aCol:][:panels*mr]
		switch mr { // fixed-size moves through a local (see packPanel)
		case 6:
			for q := 0; q < panels; q++ {
				v := *(*[6]float32)(row[q*6:])
				*(*[6]float32)(dst[(q*kc+p)*6:]) = v
			}
		case 14:
			for q := 0; q < panels; q++ {
				v := *(*[14]float32)(row[q*14:])
				*(*[14]float32)(dst[(q*kc+p)*14:]) = v
			}
		default:
			for q := 0; q < panels; q++ {
				copy(dst[(q*kc+p)*mr:][:mr], row[q*mr:(q+1)*mr])
			}
		}
	}
}

// packB copies rows [0,kc) x columns [0,cols) of B into dst as kc groups of nr
// values, zero-padding the columns past the edge.
func packB(dst []float32, nr, kc, cols int, b []float32, off, bRow, bCol int) {
	packPanel(dst, nr, kc, cols, b, off, bCol, bRow)
}

// packBAcross packs panels full-width micro-panels of B that follow each
// other in its rows (columns contiguous, row p of the block at off + p·bRow,
// panel q at column q·nr), panel q into dst[q·kc·nr:]. It walks B row by row
// so B is read as one sequential stream; panel by panel, a deep block whose
// rows are a page apart reads each 64-byte group from a new page and the
// prefetchers cannot follow (1024³ on a Zen 3 VM: packing B was 12% of the
// product that way).
func packBAcross(dst []float32, nr, kc, panels int, b []float32, off, bRow int) {
	dst = dst[:panels*kc*nr]
	if panels == 0 {
		return
	}
	for p := 0; p < kc; p++ {
		row := b[off+p*bRow:][:panels*nr]
		if scatterRow != nil && (nr == 16 || nr == 32) {
			_ = dst[((panels-1)*kc+p)*nr+nr-1] // the last write, checked here
			scatterRow(&dst[p*nr], kc*nr, &row[0], nr, panels)
			continue
		}
		for q := 0; q < panels; q++ {
			copy(dst[(q*kc+p)*nr:][:nr], row[q*nr:(q+1)*nr])
		}
	}
}

// scatterRow copies n groups of nr floats (16 or 32), group q from src +
// q·nr to dst + q·dstStride (pack_amd64.s); nil where the variant has none.
var scatterRow func(dst *float32, dstStride int, src *float32, nr int, n int)

// gatherRows copies n rows of nr floats (16 or 32), row p from src +
// rows[p], to dst + p·nr (pack_amd64.s); nil where the variant has none.
var gatherRows func(dst *float32, nr int, src *float32, rows *int, n int)

// packBRows copies row p of B, cols values from b[off+rows[p]:], into dst as
// group p of nr values for p < len(rows), zero-padding the columns past the
// edge. The caller has checked every row against len(b)
// (gemmBatchedRows).
func packBRows(dst []float32, nr, cols int, b []float32, off int, rows []int) {
	dst = dst[:len(rows)*nr]
	if len(rows) == 0 {
		return
	}
	if cols == nr && gatherRows != nil && (nr == 16 || nr == 32) {
		gatherRows(&dst[0], nr, &b[off], &rows[0], len(rows))
		return
	}
	if cols < nr {
		clear(dst)
	}
	for p, r := range rows {
		s := off + r
		copy(dst[p*nr:p*nr+cols], b[s:s+cols])
	}
}

// transpose8x8Rows is transpose8x8 with the eight source lines at src +
// offs[i] (pack_amd64.s); nil where the variant has none.
var transpose8x8Rows func(dst *float32, dstStride int, src *float32, offs *int, blocks int)

// packBTransposed packs a B whose element (p, j) is b[off + rows[p] +
// cols[j]], for p < len(rows) and j < len(cols) <= nr: a convolution's
// colᵀ read from its padded input, rows the output positions and cols the
// taps. runs[p] is how many rows from p on are one apart (the rest of an
// output row); those go through the 8x8 transposes eight taps at a time.
// The caller has checked every element against len(b) (gemmRowsCols).
func packBTransposed(dst []float32, nr int, b []float32, off int, rows, runs, cols []int) {
	kc := len(rows)
	dst = dst[:kc*nr]
	if len(cols) < nr {
		clear(dst)
	}
	// Eight taps at a time down all the rows: eight input streams the
	// prefetchers follow (run by run across all taps was 15-20% slower).
	j := 0
	if transpose8x8Rows != nil {
		for ; j+8 <= len(cols); j += 8 {
			taps := cols[j : j+8]
			for p := 0; p < kc; {
				run := min(runs[p], kc-p)
				blocks := run / 8
				if blocks > 0 {
					transpose8x8Rows(&dst[p*nr+j], nr, &b[off+rows[p]], &taps[0], blocks)
				}
				for q := p + 8*blocks; q < p+run; q++ {
					for i, t := range taps {
						dst[q*nr+j+i] = b[off+rows[q]+t]
					}
				}
				p += run
			}
		}
	}
	for ; j < len(cols); j++ {
		for p, r := range rows {
			dst[p*nr+j] = b[off+r+cols[j]]
		}
	}
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
		// The kernels' own widths as fixed-size moves: a copy call per
		// group of 6 or 16 floats costs more than the move. (Through a
		// local: array to array, the compiler cannot rule out overlap and
		// calls memmove anyway.)
		switch {
		case lanes == 6 && w == 6:
			for p := 0; p < kc; p++ {
				v := *(*[6]float32)(src[off+p*groupStride:])
				*(*[6]float32)(dst[p*6:]) = v
			}
			return
		case lanes == 16 && w == 16:
			for p := 0; p < kc; p++ {
				v := *(*[16]float32)(src[off+p*groupStride:])
				*(*[16]float32)(dst[p*16:]) = v
			}
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
	if pack6Rows != nil && w == 6 && lanes == 6 && kc >= 8 { // the AVX2 kernel's A panel
		blocks := kc / 8
		_ = src[off+5*laneStride+kc-1] // the last read
		pack6Rows(&dst[0], &src[off], laneStride, blocks)
		for p := 8 * blocks; p < kc; p++ {
			for i := range 6 {
				dst[p*6+i] = src[off+i*laneStride+p]
			}
		}
		return
	}
	if transpose8x8 != nil && kc >= 8 {
		blocks := kc / 8
		for ; l+8 <= lanes; l += 8 {
			s := off + l*laneStride
			_ = src[s+7*laneStride+kc-1] // the last read
			_ = dst[(kc-1)*w+l+7]        // and write, checked here
			transpose8x8(&dst[l], w, &src[s], laneStride, blocks)
			for p := 8 * blocks; p < kc; p++ {
				for i := range 8 {
					dst[p*w+l+i] = src[s+i*laneStride+p]
				}
			}
		}
	}
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
