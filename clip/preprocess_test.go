package clip

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lafite-go/lafite/autograd"
	"github.com/lafite-go/lafite/internal/imagefile"
	"github.com/lafite-go/lafite/tensor"
)

// normalizeRef is (x − Mean)/Std per channel of [3, H, W], in float64.
func normalizeRef(x *tensor.Tensor) []float64 {
	d := x.Contiguous().ToSlice()
	plane := len(d) / 3
	out := make([]float64, len(d))
	for i, v := range d {
		c := i / plane
		out[i] = (float64(v) - float64(Mean[c])) / float64(Std[c])
	}
	return out
}

func assertClose(t *testing.T, what string, got *tensor.Tensor, want []float64, tol float64) {
	t.Helper()
	g := got.Contiguous().ToSlice()
	if len(g) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(g), len(want))
	}
	for i := range g {
		if math.Abs(float64(g[i])-want[i]) > tol {
			t.Fatalf("%s: element %d = %v, want %v", what, i, g[i], want[i])
		}
	}
}

func TestPreprocessCropsCenterLikeTorchvision(t *testing.T) {
	rng := tensor.NewRNG(1)
	for _, c := range []struct {
		h, w, res, top, left int
	}{
		{4, 6, 4, 0, 1},  // (6−4)/2 = 1
		{4, 7, 4, 0, 2},  // 1.5 rounds to 2
		{4, 9, 4, 0, 2},  // 2.5 rounds half to even: 2
		{11, 4, 4, 4, 0}, // 3.5 rounds to 4
		{5, 5, 5, 0, 0},
	} {
		x := rng.Uniform(0, 1, 3, c.h, c.w)
		got := Preprocess(x, c.res)
		if !tensor.SameShape(got.Shape(), []int{3, c.res, c.res}) {
			t.Fatalf("%+v: shape %v", c, got.Shape())
		}
		want := normalizeRef(x.Narrow(1, c.top, c.res).Narrow(2, c.left, c.res))
		assertClose(t, "crop", got, want, 1e-5)
	}
}

func TestPreprocessResizesShortSideBicubically(t *testing.T) {
	rng := tensor.NewRNG(2)
	// 9×14 → short side 4: long side int(4·14/9) = 6, then crop 1 from the left.
	x := rng.Uniform(0, 1, 3, 9, 14)
	got := Preprocess(x, 4)
	resized := tensor.InterpolateBicubic(x, 4, 6)
	assertClose(t, "resize", got, normalizeRef(resized.Narrow(2, 1, 4)), 1e-5)
	// Upscaling a portrait image: 5×3 → 8: long side int(8·5/3) = 13, crop top round(2.5) = 2.
	y := rng.Uniform(0, 1, 3, 5, 3)
	got = Preprocess(y, 8)
	assertClose(t, "upscale", got, normalizeRef(tensor.InterpolateBicubic(y, 13, 8).Narrow(1, 2, 8)), 1e-5)
}

func TestImageTensorDropsAlphaAndExpandsGrey(t *testing.T) {
	rgba := image.NewNRGBA(image.Rect(0, 0, 2, 1))
	rgba.SetNRGBA(0, 0, color.NRGBA{R: 10, G: 20, B: 30, A: 128})
	rgba.SetNRGBA(1, 0, color.NRGBA{R: 255, G: 0, B: 51, A: 255})
	got := ImageTensor(rgba)
	assertClose(t, "nrgba", got, []float64{10. / 255, 1, 20. / 255, 0, 30. / 255, 51. / 255}, 1e-6)

	grey := image.NewGray(image.Rect(3, 4, 5, 5)) // non-zero origin
	grey.SetGray(3, 4, color.Gray{Y: 51})
	grey.SetGray(4, 4, color.Gray{Y: 204})
	got = ImageTensor(grey)
	assertClose(t, "gray", got, []float64{0.2, 0.8, 0.2, 0.8, 0.2, 0.8}, 1e-6)
}

func writePNG(t *testing.T, path string, w, h int) {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.SetNRGBA(x, y, color.NRGBA{R: uint8(17 * x), G: uint8(29 * y), B: uint8(5 * (x + y)), A: 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestPreprocessFilesReadsPNGAndJPEG(t *testing.T) {
	dir := t.TempDir()
	pngPath := filepath.Join(dir, "a.png")
	writePNG(t, pngPath, 12, 10)
	img := image.NewRGBA(image.Rect(0, 0, 16, 16))
	for i := range img.Pix {
		img.Pix[i] = 200
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	jpgPath := filepath.Join(dir, "b.jpg")
	if err := os.WriteFile(jpgPath, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	x, err := PreprocessFiles([]string{pngPath, jpgPath}, 8)
	if err != nil {
		t.Fatal(err)
	}
	if !tensor.SameShape(x.Shape(), []int{2, 3, 8, 8}) {
		t.Fatalf("shape %v", x.Shape())
	}
	decoded, err := LoadImage(pngPath)
	if err != nil {
		t.Fatal(err)
	}
	assertClose(t, "png row", x.Select(0, 0), toF64(Preprocess(ImageTensor(decoded), 8)), 0)
	// A flat grey JPEG stays flat (within JPEG rounding) through the transform.
	for c := 0; c < 3; c++ {
		want := (200./255 - float64(Mean[c])) / float64(Std[c])
		for _, v := range x.Select(0, 1).Select(0, c).Contiguous().ToSlice() {
			if math.Abs(float64(v)-want) > 2./255/float64(Std[c]) {
				t.Fatalf("jpeg channel %d: %v, want about %v", c, v, want)
			}
		}
	}
}

func toF64(x *tensor.Tensor) []float64 {
	d := x.Contiguous().ToSlice()
	out := make([]float64, len(d))
	for i, v := range d {
		out[i] = float64(v)
	}
	return out
}

func TestLoadImageErrorsNameTheFile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.png")
	writePNG(t, good, 6, 6)
	data, _ := os.ReadFile(good)
	cases := map[string][]byte{
		"garbage.png":   []byte("this is not an image at all"),
		"empty.jpg":     nil,
		"truncated.png": data[:len(data)/2],
		"header.png":    data[:20],
	}
	for name, content := range cases {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, content, 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := LoadImage(p)
		if err == nil || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: error %v does not name the file", name, err)
		}
	}
	missing := filepath.Join(dir, "missing.png")
	if _, err := LoadImage(missing); err == nil || !strings.Contains(err.Error(), missing) || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("missing file: %v", err)
	}
	if _, err := PreprocessFiles([]string{good, missing}, 4); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("PreprocessFiles with a missing file: %v", err)
	}
}

func FuzzDecodeImage(f *testing.F) {
	var buf bytes.Buffer
	img := image.NewNRGBA(image.Rect(0, 0, 3, 2))
	_ = png.Encode(&buf, img)
	f.Add(buf.Bytes())
	buf.Reset()
	_ = jpeg.Encode(&buf, img, nil)
	f.Add(buf.Bytes())
	f.Add([]byte("\x89PNG\r\n\x1a\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		img, err := DecodeImage(bytes.NewReader(data), "fuzz.png")
		if err != nil {
			if !strings.Contains(err.Error(), "fuzz.png") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		if b := img.Bounds(); b.Dx()*b.Dy() <= imagefile.MaxPixels/16 {
			_ = ImageTensor(img)
		}
	})
}

// trainTransformRef replays TrainTransform's draws from an identical RNG and
// applies the reference steps with plain tensor ops.
func trainTransformRef(x *tensor.Tensor, res int, rng *tensor.RNG) *tensor.Tensor {
	size := x.Size(2)
	if size < res {
		room := res - size
		left, top := randRange(rng, 0, room), randRange(rng, 0, room)
		x = tensor.Pad(x, []int{left, room - left, top, room - top}, 1)
	} else {
		cut := randRange(rng, size/2, size)
		left, top := randRange(rng, 0, size-cut), randRange(rng, 0, size-cut)
		x = tensor.InterpolateBicubic(x.Narrow(2, top, cut).Narrow(3, left, cut), res, res)
	}
	x = x.Contiguous()
	d := x.ToSlice()
	plane := x.Size(2) * x.Size(3)
	out := make([]float32, len(d))
	for i, v := range d {
		c := (i / plane) % 3
		out[i] = ((v+1)/2 - Mean[c]) / Std[c]
	}
	return tensor.New(out, x.Shape()...)
}

func TestTrainTransformMatchesReferenceSteps(t *testing.T) {
	for _, c := range []struct{ size, res int }{{12, 8}, {8, 8}, {5, 8}, {7, 7}, {13, 6}} {
		x := tensor.NewRNG(3).Uniform(-1, 1, 2, 3, c.size, c.size)
		for seed := uint64(0); seed < 5; seed++ {
			got := TrainTransform(autograd.Const(x), c.res, tensor.NewRNG(seed))
			want := trainTransformRef(x, c.res, tensor.NewRNG(seed))
			if !tensor.SameShape(got.Shape(), []int{2, 3, c.res, c.res}) {
				t.Fatalf("%+v: shape %v", c, got.Shape())
			}
			assertClose(t, "train transform", got.Value, toF64(want), 1e-5)
		}
	}
	// White padding: (1+1)/2 normalised, in the padded corner of some draw.
	x := tensor.Zeros(1, 3, 2, 2)
	got := TrainTransform(autograd.Const(x), 6, tensor.NewRNG(0)).Value
	var white int
	for c := 0; c < 3; c++ {
		w := (1 - Mean[c]) / Std[c]
		for _, v := range got.Select(0, 0).Select(0, c).Contiguous().ToSlice() {
			if math.Abs(float64(v-w)) < 1e-6 {
				white++
			}
		}
	}
	if white != 3*(36-4) {
		t.Fatalf("%d white pixels, want %d", white, 3*32)
	}
}

func TestTrainTransformDrawsCropsInRange(t *testing.T) {
	rng := tensor.NewRNG(9)
	const size = 10
	seen := map[int]bool{}
	for i := 0; i < 400; i++ {
		cut := randRange(rng, size/2, size)
		left := randRange(rng, 0, size-cut)
		if cut < 5 || cut > 9 || left < 0 || left+cut > size-1 {
			t.Fatalf("crop %d at %d out of range for size %d", cut, left, size)
		}
		seen[cut] = true
	}
	if len(seen) != 5 {
		t.Fatalf("crop sizes drawn: %v, want all of 5..9", seen)
	}
}

func TestTrainTransformGradients(t *testing.T) {
	for _, c := range []struct{ size, res int }{{9, 6}, {4, 7}} {
		f := func(xs []*autograd.Var) *autograd.Var {
			return TrainTransform(xs[0], c.res, tensor.NewRNG(5)) // same crop on every call
		}
		x := tensor.NewRNG(4).Uniform(-1, 1, 2, 3, c.size, c.size)
		if err := autograd.CheckGrad(f, []*tensor.Tensor{x}, autograd.CheckOptions{}); err != nil {
			t.Fatalf("size %d → %d: %v", c.size, c.res, err)
		}
	}
}

func TestWholeImageTransform(t *testing.T) {
	// Same size: only the normalisation, ((x+1)/2 − mean)/std per channel.
	x := tensor.NewRNG(6).Uniform(-1, 1, 2, 3, 5, 5)
	got := WholeImageTransform(autograd.Const(x), 5).Value
	xs, gs := x.Contiguous().ToSlice(), got.Contiguous().ToSlice()
	for i := range xs {
		c := (i / 25) % 3
		want := ((xs[i]+1)/2 - Mean[c]) / Std[c]
		if math.Abs(float64(gs[i]-want)) > 1e-5 {
			t.Fatalf("value %d: %v, want %v", i, gs[i], want)
		}
	}
	// Another size: the whole image resized, then normalised.
	resized := WholeImageTransform(autograd.Const(x), 8).Value
	want := WholeImageTransform(autograd.InterpolateBicubic(autograd.Const(x), 8, 8), 8).Value
	assertClose(t, "resized", resized, toF64(want), 1e-6)
	for _, res := range []int{5, 7} {
		f := func(xs []*autograd.Var) *autograd.Var { return WholeImageTransform(xs[0], res) }
		if err := autograd.CheckGrad(f, []*tensor.Tensor{x}, autograd.CheckOptions{}); err != nil {
			t.Fatalf("5 → %d: %v", res, err)
		}
	}
}
