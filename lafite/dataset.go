package lafite

import (
	"fmt"

	"github.com/lafite-go/lafite/tensor"
)

// Dataset is what training reads: images with their CLIP features.
type Dataset interface {
	Len() int
	// Batch returns images [N,C,R,R] in [-1, 1] (x-flipped where mirror[i]),
	// normalised CLIP image features [N, D], caption features [N, D] (one
	// caption picked per image with rng; nil when the dataset has none) and
	// which images have a caption. The tensors are the caller's: a trainer
	// releases the images once it has uploaded them.
	Batch(idx []int, mirror []bool, rng *tensor.RNG) (images, imgFts, txtFts *tensor.Tensor, hasCaption []bool, err error)
}

// MemoryDataset keeps everything in memory: the format `lafite dataset`
// writes and training loads. Its images are either Images (floats) or Bytes
// (what a dataset file holds, a quarter of the memory); one of them is set.
type MemoryDataset struct {
	Images       *tensor.Tensor // [N, C, R, R] in [-1, 1]
	Bytes        *ImageBytes
	ImageFts     *tensor.Tensor // [N, D], L2-normalised
	CaptionFts   *tensor.Tensor // [M, D] or nil
	CaptionImage []int          // for each caption, its image
	Captions     []string       // caption texts (for sample prompts)
	captionsOf   [][]int
	// CaptionRatio keeps captions only for the first ⌈ratio·N⌉ images (the
	// dataset-level ratio of semi-supervised training); 1 keeps all.
	CaptionRatio float64
}

// Index validates the dataset and builds the caption lookup.
func (d *MemoryDataset) Index() error {
	if (d.Images == nil) == (d.Bytes == nil) {
		return fmt.Errorf("dataset: set one of Images and Bytes")
	}
	if d.Bytes != nil {
		if err := d.Bytes.validate(); err != nil {
			return err
		}
	}
	n := d.Len()
	if d.ImageFts.Size(0) != n {
		return fmt.Errorf("dataset: %d images but %d image features", n, d.ImageFts.Size(0))
	}
	d.captionsOf = make([][]int, n)
	if d.CaptionFts == nil {
		return nil
	}
	if len(d.CaptionImage) != d.CaptionFts.Size(0) {
		return fmt.Errorf("dataset: %d caption features but %d caption-image links", d.CaptionFts.Size(0), len(d.CaptionImage))
	}
	ratio := d.CaptionRatio
	if ratio == 0 {
		ratio = 1
	}
	keep := int(float64(n)*ratio + 0.999999)
	for c, i := range d.CaptionImage {
		if i < 0 || i >= n {
			return fmt.Errorf("dataset: caption %d points at image %d of %d", c, i, n)
		}
		if i < keep {
			d.captionsOf[i] = append(d.captionsOf[i], c)
		}
	}
	return nil
}

// Len is the number of images.
func (d *MemoryDataset) Len() int {
	if d.Bytes != nil {
		return d.Bytes.N
	}
	return d.Images.Size(0)
}

// ImageShape is the channels, height and width of every image.
func (d *MemoryDataset) ImageShape() (c, h, w int) {
	if d.Bytes != nil {
		return d.Bytes.C, d.Bytes.H, d.Bytes.W
	}
	return d.Images.Size(1), d.Images.Size(2), d.Images.Size(3)
}

// Batch implements Dataset.
func (d *MemoryDataset) Batch(idx []int, mirror []bool, rng *tensor.RNG) (images, imgFts, txtFts *tensor.Tensor, hasCaption []bool, err error) {
	if d.captionsOf == nil {
		if err := d.Index(); err != nil {
			return nil, nil, nil, nil, err
		}
	}
	for _, i := range idx {
		if i < 0 || i >= d.Len() {
			return nil, nil, nil, nil, fmt.Errorf("dataset: index %d out of range [0, %d)", i, d.Len())
		}
	}
	if d.Bytes != nil {
		images = d.Bytes.batch(idx, mirror)
	} else {
		imgs := make([]*tensor.Tensor, len(idx))
		for k, i := range idx {
			im := d.Images.Select(0, i)
			if k < len(mirror) && mirror[k] {
				im = tensor.Flip(im, 2)
			}
			imgs[k] = im
		}
		images = tensor.Stack(imgs, 0)
	}
	imgFts = tensor.IndexSelect(d.ImageFts, 0, idx)
	hasCaption = make([]bool, len(idx))
	if d.CaptionFts == nil {
		return images, imgFts, nil, hasCaption, nil
	}
	pick := make([]int, len(idx))
	for k, i := range idx {
		caps := d.captionsOf[i]
		if len(caps) == 0 {
			pick[k] = -1
			continue
		}
		hasCaption[k] = true
		pick[k] = caps[rng.Intn(len(caps))]
	}
	rows := make([]int, len(idx))
	for k, c := range pick {
		rows[k] = max(c, 0) // rows without a caption are masked by hasCaption
	}
	txtFts = tensor.IndexSelect(d.CaptionFts, 0, rows)
	return images, imgFts, txtFts, hasCaption, nil
}
