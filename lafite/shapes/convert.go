package shapes

import (
	"image"

	"github.com/lafite-go/lafite/lafite"
	"github.com/lafite-go/lafite/tensor"
)

// ToTensor stacks the samples' images into an [N, 3, H, W] tensor with values
// v/127.5 - 1 in [-1, 1], the range the generator and the judge work in.
func ToTensor(samples []Sample) *tensor.Tensor {
	imgs := make([]*image.RGBA, len(samples))
	for i := range samples {
		imgs[i] = samples[i].Image
	}
	return lafite.ImagesToTensor(imgs)
}
