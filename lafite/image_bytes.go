package lafite

import (
	"fmt"
	"image"

	"github.com/lafite-go/lafite/tensor"
)

// ImageBytes is a stack of N images of C×H×W bytes, each value v read as
// v/127.5 − 1: a dataset's pixels as its file stores them, a quarter of
// the memory of the same images as float32 (118k COCO images at 256x256:
// 23 GB rather than 93).
type ImageBytes struct {
	N, C, H, W int
	Pix        []uint8 // [N, C, H, W]
}

// byteValues maps a stored byte to its value in [−1, 1].
var byteValues = func() (lut [256]float32) {
	for v := range lut {
		lut[v] = float32(v)/127.5 - 1
	}
	return lut
}()

func (b *ImageBytes) validate() error {
	if b.N < 0 || b.C < 1 || b.H < 1 || b.W < 1 || len(b.Pix) != b.N*b.C*b.H*b.W {
		return fmt.Errorf("dataset: %d bytes of pixels for %d images of %dx%dx%d", len(b.Pix), b.N, b.C, b.H, b.W)
	}
	return nil
}

// set stores an RGBA image (alpha dropped) as image i.
func (b *ImageBytes) set(i int, img *image.RGBA) {
	plane := b.H * b.W
	base := i * b.C * plane
	for y := range b.H {
		row := img.Pix[y*img.Stride:]
		for x := range b.W {
			for c := range b.C {
				b.Pix[base+c*plane+y*b.W+x] = row[4*x+c]
			}
		}
	}
}

// batch returns images idx as floats [len(idx), C, H, W] in [−1, 1],
// flipped along x where mirror[k]: the values ImagesToTensor gives the same
// pixels, so training reads the same numbers from either.
func (b *ImageBytes) batch(idx []int, mirror []bool) *tensor.Tensor {
	out := tensor.Empty(len(idx), b.C, b.H, b.W)
	dst := out.Data()
	lut := &byteValues
	size := b.C * b.H * b.W
	for k, i := range idx {
		src, d := b.Pix[i*size:(i+1)*size], dst[k*size:(k+1)*size]
		if k >= len(mirror) || !mirror[k] {
			for j, v := range src {
				d[j] = lut[v]
			}
			continue
		}
		for r := 0; r < b.C*b.H; r++ {
			s, o := src[r*b.W:(r+1)*b.W], d[r*b.W:(r+1)*b.W]
			for x, v := range s {
				o[b.W-1-x] = lut[v]
			}
		}
	}
	return out
}
