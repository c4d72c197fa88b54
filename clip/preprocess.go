package clip

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"io"
	"math"
	"os"

	"github.com/lafite-go/lafite/autograd"
	"github.com/lafite-go/lafite/internal/imagefile"
	"github.com/lafite-go/lafite/tensor"
)

// CLIP's per-channel normalisation constants (RGB).
var (
	Mean = [3]float32{0.48145466, 0.4578275, 0.40821073}
	Std  = [3]float32{0.26862954, 0.26130258, 0.27577711}
)

// DecodeImage reads a PNG or JPEG file (at most imagefile.MaxFileBytes,
// its header checked before its pixels are allocated). name is used in
// errors only.
func DecodeImage(r io.Reader, name string) (image.Image, error) {
	data, err := imagefile.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("clip: reading image %s: %w", name, err)
	}
	img, err := imagefile.Decode(data)
	if err != nil {
		return nil, fmt.Errorf("clip: image %s: %v", name, err)
	}
	return img, nil
}

// LoadImage opens and decodes a PNG or JPEG file.
func LoadImage(path string) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("clip: image %s does not exist", path)
		}
		return nil, fmt.Errorf("clip: %w", err)
	}
	defer f.Close()
	return DecodeImage(f, path)
}

// ImageTensor converts an image to RGB floats in [0, 1], shape [3, H, W]
// (torchvision's ToTensor after PIL's convert("RGB"): alpha is dropped, not
// composited, and grey images repeat their channel).
func ImageTensor(img image.Image) *tensor.Tensor {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	out := make([]float32, 3*h*w)
	plane := h * w
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := color.NRGBAModel.Convert(img.At(b.Min.X+x, b.Min.Y+y)).(color.NRGBA)
			i := y*w + x
			out[i] = float32(c.R) / 255
			out[plane+i] = float32(c.G) / 255
			out[2*plane+i] = float32(c.B) / 255
		}
	}
	return tensor.New(out, 3, h, w)
}

// Preprocess is CLIP's inference transform on x [3, H, W] in [0, 1]: bicubic
// resize (F.interpolate semantics, A = −0.75, no antialias) of the short side
// to resolution keeping the aspect ratio (long side int(res·long/short) as
// torchvision), center crop to res×res, then (x − Mean)/Std per channel.
// The result is [3, res, res].
func Preprocess(x *tensor.Tensor, resolution int) *tensor.Tensor {
	if x.Dim() != 3 || x.Size(0) != 3 {
		panic(fmt.Sprintf("clip.Preprocess: x must be [3, H, W], got %v", x.Shape()))
	}
	if resolution < 1 {
		panic(fmt.Sprintf("clip.Preprocess: resolution %d must be positive", resolution))
	}
	h, w := x.Size(1), x.Size(2)
	nh, nw := resolution, resolution
	if h < w {
		nw = int(float64(resolution) * float64(w) / float64(h))
	} else if w < h {
		nh = int(float64(resolution) * float64(h) / float64(w))
	}
	if nh != h || nw != w {
		x = tensor.InterpolateBicubic(x, nh, nw)
	}
	// torchvision's center_crop offsets: int(round((size − res)/2)), Python
	// rounding half to even.
	top := int(math.RoundToEven(float64(nh-resolution) / 2))
	left := int(math.RoundToEven(float64(nw-resolution) / 2))
	x = x.Narrow(1, top, resolution).Narrow(2, left, resolution)
	scale := tensor.New([]float32{1 / Std[0], 1 / Std[1], 1 / Std[2]}, 3, 1, 1)
	shift := tensor.New([]float32{-Mean[0] / Std[0], -Mean[1] / Std[1], -Mean[2] / Std[2]}, 3, 1, 1)
	return tensor.Add(tensor.Mul(x, scale), shift)
}

// PreprocessFiles loads images and stacks their transforms into
// [N, 3, res, res], ready for EncodeImage.
func PreprocessFiles(paths []string, resolution int) (*tensor.Tensor, error) {
	if len(paths) == 0 {
		return nil, errors.New("clip: no image files given")
	}
	out := tensor.Zeros(len(paths), 3, resolution, resolution)
	for i, p := range paths {
		img, err := LoadImage(p)
		if err != nil {
			return nil, err
		}
		out.Select(0, i).CopyFrom(Preprocess(ImageTensor(img), resolution))
	}
	return out, nil
}

// TrainTransform is Lafite's full_preprocess for generated images x
// [N, 3, S, S] in [−1, 1], differentiable w.r.t. x. When S ≥ resolution it
// takes one random square crop for the whole batch, of side c uniform in
// [int(S/2), S) at a uniform offset in [0, S−c), and resizes it bicubically
// to resolution; when S < resolution it pads with white (1) at a uniform
// offset in [0, resolution−S) on each axis. Then (x+1)/2 and (x − Mean)/Std.
func TrainTransform(x *autograd.Var, resolution int, rng *tensor.RNG) *autograd.Var {
	s := x.Shape()
	if len(s) != 4 || s[1] != 3 || s[2] != s[3] {
		panic(fmt.Sprintf("clip.TrainTransform: x must be [N, 3, S, S], got %v", s))
	}
	if resolution < 1 {
		panic(fmt.Sprintf("clip.TrainTransform: resolution %d must be positive", resolution))
	}
	size := s[2]
	if size < resolution {
		room := resolution - size
		left, top := randRange(rng, 0, room), randRange(rng, 0, room)
		x = autograd.Pad(x, []int{left, room - left, top, room - top}, 1)
	} else {
		cut := randRange(rng, max(size/2, 1), size) // int(0.5·S), at least one pixel
		left, top := randRange(rng, 0, size-cut), randRange(rng, 0, size-cut)
		// One op rather than Narrow twice and InterpolateBicubic: the same
		// values, with GPU buffers whose sizes do not vary with the crop.
		x = autograd.CropResizeBicubic(x, tensor.CropWindow{Top: top, Left: left, H: cut, W: cut}, resolution, resolution)
	}
	return normalizeSigned(x)
}

// WholeImageTransform is TrainTransform without the random crop or pad: the
// whole [N, 3, S, S] image in [-1, 1], bicubically resized to resolution
// when S differs, then CLIP's normalisation. Differentiable w.r.t. x.
func WholeImageTransform(x *autograd.Var, resolution int) *autograd.Var {
	s := x.Shape()
	if len(s) != 4 || s[1] != 3 || s[2] != s[3] {
		panic(fmt.Sprintf("clip.WholeImageTransform: x must be [N, 3, S, S], got %v", s))
	}
	if resolution < 1 {
		panic(fmt.Sprintf("clip.WholeImageTransform: resolution %d must be positive", resolution))
	}
	if s[2] != resolution {
		x = autograd.InterpolateBicubic(x, resolution, resolution)
	}
	return normalizeSigned(x)
}

// normalizeSigned maps images in [-1, 1] to CLIP's normalised input:
// ((x+1)/2 − m)/s folded into one multiply-add per channel.
func normalizeSigned(x *autograd.Var) *autograd.Var {
	var scale, shift [3]float32
	for c := range scale {
		scale[c] = 0.5 / Std[c]
		shift[c] = (0.5 - Mean[c]) / Std[c]
	}
	dev := x.Value.Device()
	x = autograd.Mul(x, autograd.Const(channelConst(dev, scale)))
	return autograd.Add(x, autograd.Const(channelConst(dev, shift)))
}

// channelConst is v as a [1, 3, 1, 1] tensor on dev. On a GPU it is built
// from three fills, not uploaded: an upload in the middle of a training step
// would wait for the kernels queued before it.
func channelConst(dev tensor.Device, v [3]float32) *tensor.Tensor {
	if dev == tensor.CPU {
		return tensor.New(v[:], 1, 3, 1, 1)
	}
	parts := make([]*tensor.Tensor, len(v))
	for c := range parts {
		parts[c] = tensor.FullOn(dev, v[c], 1, 1, 1, 1)
	}
	return tensor.Concat(parts, 1)
}

// randRange is torch.randint(lo, hi, ()): uniform in [lo, hi), or lo when the
// range is empty (a 1-pixel image has a single crop).
func randRange(rng *tensor.RNG, lo, hi int) int {
	if hi <= lo {
		return lo
	}
	return lo + rng.Intn(hi-lo)
}
