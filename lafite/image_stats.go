package lafite

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"

	"github.com/lafite-go/lafite/lafite/metrics"
	"github.com/lafite-go/lafite/lafite/metrics/inception"
	"github.com/lafite-go/lafite/tensor"
)

// InceptionImageStats is the statistics of the Inception pool features of
// a collection of images as they are, each read once (`lafite fid`, as
// pytorch-fid computes them from a folder): pixels as 8-bit RGB without
// alpha (a transparent pixel keeps its colour, as PIL's convert("RGB")),
// each resized to 299 on its own as the network's input resize does, so
// that images of every size share batches of up to batch. Images that
// cannot be read are returned as bad.
func InceptionImageStats(net *inception.Network, src ImageList, batch int, progress func(done, total int)) (metrics.Stats, []BadImage, error) {
	total := src.Len()
	batch = max(batch, 1)
	feats := make([]float32, 0, total*net.Features)
	var bad []BadImage
	var pending []*tensor.Tensor // [1, 3, 299, 299] each
	flush := func() error {
		if len(pending) == 0 {
			return nil
		}
		f, _, err := net.Run(tensor.Concat(pending, 0))
		if err != nil {
			return err
		}
		feats = append(feats, f.Contiguous().Data()...)
		f.Release()
		pending = pending[:0]
		return nil
	}
	for i := range total {
		im, err := src.Read(i)
		if err != nil {
			b, ok := err.(BadImage)
			if !ok {
				b = BadImage{fmt.Sprintf("image %d", i), err}
			}
			bad = append(bad, b)
		} else {
			x := nrgbaUnit([]*image.NRGBA{toNRGBA(im.Image)})
			if x.Size(2) != inception.Size || x.Size(3) != inception.Size {
				x = tensor.InterpolateBilinear(x, inception.Size, inception.Size)
			}
			if pending = append(pending, x); len(pending) == batch {
				if err := flush(); err != nil {
					return metrics.Stats{}, bad, err
				}
			}
		}
		if progress != nil {
			progress(i+1, total)
		}
	}
	if err := flush(); err != nil {
		return metrics.Stats{}, bad, err
	}
	n := len(feats) / net.Features
	if n < 2 {
		return metrics.Stats{}, bad, fmt.Errorf("inception statistics: %d usable images (%d skipped), need at least 2", n, len(bad))
	}
	s, err := metrics.TensorStats(tensor.New(feats, n, net.Features))
	return s, bad, err
}

// toNRGBA is img's pixels, not premultiplied by alpha, from its origin.
// The image types that hold straight colour (PNG decodes to NRGBA, or to a
// palette of NRGBA entries) keep it, so a transparent pixel keeps its
// colour as under PIL's convert("RGB"); the others go through their
// premultiplied colours, where alpha 0 has none to keep.
func toNRGBA(img image.Image) *image.NRGBA {
	b := img.Bounds()
	if n, ok := img.(*image.NRGBA); ok && b.Min == (image.Point{}) {
		return n
	}
	out := image.NewNRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	if src, ok := img.(*image.Paletted); ok { // draw would premultiply its entries
		for y := range b.Dy() {
			for x := range b.Dx() {
				out.SetNRGBA(x, y, color.NRGBAModel.Convert(src.Palette[src.ColorIndexAt(b.Min.X+x, b.Min.Y+y)]).(color.NRGBA))
			}
		}
		return out
	}
	draw.Draw(out, out.Rect, img, b.Min, draw.Src) // NRGBA to NRGBA copies straight colour
	return out
}

// nrgbaUnit is images of one size as [N, 3, H, W] in [0, 1]: bytes / 255.
func nrgbaUnit(imgs []*image.NRGBA) *tensor.Tensor {
	h, w := imgs[0].Rect.Dy(), imgs[0].Rect.Dx()
	out := tensor.Empty(len(imgs), 3, h, w)
	d := out.Data()
	for k, im := range imgs {
		for c := range 3 {
			plane := d[(k*3+c)*h*w : (k*3+c+1)*h*w]
			for y := range h {
				row := im.Pix[y*im.Stride:]
				for x := range w {
					plane[y*w+x] = float32(row[4*x+c]) / 255
				}
			}
		}
	}
	return out
}
