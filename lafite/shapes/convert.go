package shapes

import (
	"fmt"
	"image"
	"image/color"
	"math"

	"github.com/lafite-go/lafite/tensor"
)

// ToTensor stacks the samples' images into an [N, 3, H, W] tensor with values
// v/127.5 - 1 in [-1, 1], the range the generator and the judge work in.
func ToTensor(samples []Sample) *tensor.Tensor {
	imgs := make([]*image.RGBA, len(samples))
	for i := range samples {
		imgs[i] = samples[i].Image
	}
	return ImagesToTensor(imgs)
}

// ImagesToTensor is ToTensor for bare images, which must all be the same size.
func ImagesToTensor(imgs []*image.RGBA) *tensor.Tensor {
	if len(imgs) == 0 {
		panic("shapes.ImagesToTensor: no images")
	}
	b0 := imgs[0].Bounds()
	h, w := b0.Dy(), b0.Dx()
	data := make([]float32, len(imgs)*3*h*w)
	plane := h * w
	for n, img := range imgs {
		b := img.Bounds()
		if b.Dx() != w || b.Dy() != h {
			panic(fmt.Sprintf("shapes.ImagesToTensor: image %d is %dx%d, image 0 is %dx%d", n, b.Dx(), b.Dy(), w, h))
		}
		base := n * 3 * plane
		for y := range h {
			row := img.Pix[y*img.Stride:]
			for x := range w {
				p := row[4*x:]
				for c := range 3 {
					data[base+c*plane+y*w+x] = float32(p[c])/127.5 - 1
				}
			}
		}
	}
	return tensor.FromSlice(data, len(imgs), 3, h, w)
}

// ToImage converts image i of an [N, 3, H, W] tensor in [-1, 1] back to RGB,
// clamping values outside the range (generated images overshoot).
func ToImage(x *tensor.Tensor, i int) *image.RGBA {
	if x.Dim() != 4 || x.Size(1) != 3 {
		panic(fmt.Sprintf("shapes.ToImage: x has shape %v, want [N, 3, H, W]", x.Shape()))
	}
	if i < 0 || i >= x.Size(0) {
		panic(fmt.Sprintf("shapes.ToImage: index %d out of range [0, %d)", i, x.Size(0)))
	}
	h, w := x.Size(2), x.Size(3)
	d := x.Select(0, i).Contiguous().Data()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	plane := h * w
	to8 := func(v float32) uint8 {
		return uint8(math.Round(float64(min(max((v+1)*127.5, 0), 255))))
	}
	for y := range h {
		for x := range w {
			o := y*w + x
			img.SetRGBA(x, y, color.RGBA{to8(d[o]), to8(d[plane+o]), to8(d[2*plane+o]), 255})
		}
	}
	return img
}
