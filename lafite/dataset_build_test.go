package lafite

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/lafite-go/lafite/internal/sysmem"
	"github.com/lafite-go/lafite/tensor"
)

// imageBytesAndFloats is one random set of images as bytes and as the float
// tensor ImagesToTensor's conversion gives the same pixels.
func imageBytesAndFloats(n, res int) (*ImageBytes, *tensor.Tensor) {
	b := &ImageBytes{N: n, C: 3, H: res, W: res, Pix: make([]uint8, n*3*res*res)}
	f := make([]float32, len(b.Pix))
	for i := range b.Pix {
		b.Pix[i] = uint8(i*37 + i/7)
		f[i] = float32(b.Pix[i])/127.5 - 1
	}
	return b, tensor.New(f, n, 3, res, res)
}

// A dataset that keeps its images as bytes hands training the batches the
// same images as floats give, bit for bit: repeated and mirrored indices,
// the caption picks of the same RNG.
func TestImageBytesBatchesMatchFloatImages(t *testing.T) {
	const n, res = 5, 6
	pix, floats := imageBytesAndFloats(n, res)
	fts := l2Normalize(tensor.NewRNG(1).Normal(n, 4))
	caps := l2Normalize(tensor.NewRNG(2).Normal(7, 4))
	link := []int{0, 0, 1, 2, 2, 2, 4}
	asBytes := &MemoryDataset{Bytes: pix, ImageFts: fts, CaptionFts: caps, CaptionImage: link}
	asFloats := &MemoryDataset{Images: floats, ImageFts: fts, CaptionFts: caps, CaptionImage: link}
	if asBytes.Len() != n {
		t.Fatalf("Len %d, want %d", asBytes.Len(), n)
	}
	if c, h, w := asBytes.ImageShape(); c != 3 || h != res || w != res {
		t.Fatalf("ImageShape %d, %d, %d", c, h, w)
	}
	idx, mirror := []int{4, 0, 2, 0, 3}, []bool{true, false, true, true}
	gotImg, gotFts, gotTxt, gotHas, err := asBytes.Batch(idx, mirror, tensor.NewRNG(9))
	if err != nil {
		t.Fatal(err)
	}
	wantImg, wantFts, wantTxt, wantHas, err := asFloats.Batch(idx, mirror, tensor.NewRNG(9))
	if err != nil {
		t.Fatal(err)
	}
	for name, pair := range map[string][2]*tensor.Tensor{"images": {gotImg, wantImg}, "image features": {gotFts, wantFts}, "caption features": {gotTxt, wantTxt}} {
		got, want := pair[0], pair[1]
		if !got.SameShapeAs(want) {
			t.Fatalf("%s: shape %v, want %v", name, got.Shape(), want.Shape())
		}
		g, w := got.ToSlice(), want.ToSlice()
		for i := range w {
			if math.Float32bits(g[i]) != math.Float32bits(w[i]) {
				t.Fatalf("%s[%d] = %v, the float images give %v", name, i, g[i], w[i])
			}
		}
	}
	if !slices.Equal(gotHas, wantHas) {
		t.Fatalf("has caption %v, want %v", gotHas, wantHas)
	}
	// The mirrored first image really is image 4 flipped along x.
	if got, want := gotImg.At(0, 1, 2, 0), floats.At(4, 1, 2, res-1); got != want {
		t.Fatalf("mirrored pixel %v, want %v", got, want)
	}
	if _, _, _, _, err := asBytes.Batch([]int{n}, nil, tensor.NewRNG(1)); err == nil || !strings.Contains(err.Error(), "out of range") {
		t.Fatalf("index past the end: %v", err)
	}
}

func TestDatasetNeedsExactlyOneImageStore(t *testing.T) {
	pix, floats := imageBytesAndFloats(2, 4)
	fts := l2Normalize(tensor.NewRNG(1).Normal(2, 4))
	for name, d := range map[string]*MemoryDataset{
		"neither": {ImageFts: fts},
		"both":    {Images: floats, Bytes: pix, ImageFts: fts},
		"short":   {Bytes: &ImageBytes{N: 2, C: 3, H: 4, W: 4, Pix: pix.Pix[:10]}, ImageFts: fts},
	} {
		if err := d.Index(); err == nil {
			t.Errorf("%s: Index accepted it", name)
		}
	}
}

// listOf is an ImageList over images in memory; nil entries fail to read.
// It records the reads and the largest CLIP batch it was encoded in.
type listOf struct {
	imgs  []*NamedImage
	mu    sync.Mutex // Read may be called concurrently (BuildOptions.Workers)
	reads []int
}

func (l *listOf) Len() int { return len(l.imgs) }

func (l *listOf) Read(i int) (NamedImage, error) {
	l.mu.Lock()
	l.reads = append(l.reads, i)
	l.mu.Unlock()
	if l.imgs[i] == nil {
		return NamedImage{}, BadImage{fmt.Sprintf("bad%d.png", i), errors.New("cannot decode image")}
	}
	return *l.imgs[i], nil
}

// meanColourEncoder's image feature is an image's mean RGB, its text
// feature the text's length: enough to see which row belongs to which.
type meanColourEncoder struct{ maxBatch int }

func (e *meanColourEncoder) EncodeImages(imgs []*image.RGBA) (*tensor.Tensor, error) {
	e.maxBatch = max(e.maxBatch, len(imgs))
	out := make([]float32, 0, 3*len(imgs))
	for _, im := range imgs {
		var sum [3]float32
		for p := 0; p < len(im.Pix); p += 4 {
			for c := range 3 {
				sum[c] += float32(im.Pix[p+c])
			}
		}
		n := float32(len(im.Pix) / 4)
		out = append(out, sum[0]/n, sum[1]/n, sum[2]/n)
	}
	return tensor.New(out, len(imgs), 3), nil
}

func (e *meanColourEncoder) EncodeTexts(texts []string) (*tensor.Tensor, error) {
	out := make([]float32, 0, 3*len(texts))
	for _, s := range texts {
		out = append(out, float32(len(s)), 0, 0)
	}
	return tensor.New(out, len(texts), 3), nil
}

func solid(w, h int, c color.RGBA) image.Image {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.SetRGBA(x, y, c)
		}
	}
	return img
}

// BuildDataset reads each image once, in order, encodes at most a batch at
// a time, keeps the good images' pixels (cropped and resized), features and
// captions together, reports the bad ones by name, and saves a file that
// loads back to the same batches.
func TestBuildDatasetStreamsImages(t *testing.T) {
	red, blue := color.RGBA{200, 10, 10, 255}, color.RGBA{10, 20, 220, 255}
	list := &listOf{imgs: []*NamedImage{
		{Name: "red.png", Image: solid(12, 8, red), Captions: []string{"a red one", "red"}},
		nil,
		{Name: "blue.png", Image: solid(5, 5, blue)},
		{Name: "also-red.png", Image: solid(8, 8, red), Captions: []string{"again"}},
		nil,
	}}
	enc := &meanColourEncoder{}
	var progress []int
	ds, bad, err := BuildDataset(list, 4, enc, BuildOptions{Batch: 2, Captions: true, Progress: func(done, total int) {
		if total != 5 {
			t.Errorf("progress total %d, want 5", total)
		}
		progress = append(progress, done)
	}})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(list.reads, []int{0, 1, 2, 3, 4}) || !slices.Equal(progress, []int{1, 2, 3, 4, 5}) {
		t.Fatalf("reads %v, progress %v", list.reads, progress)
	}
	if enc.maxBatch != 2 {
		t.Fatalf("encoded up to %d images at once, want batches of 2", enc.maxBatch)
	}
	if len(bad) != 2 || bad[0].Name != "bad1.png" || bad[1].Name != "bad4.png" {
		t.Fatalf("bad %v", bad)
	}
	if ds.Len() != 3 || !slices.Equal(ds.Names, []string{"red.png", "blue.png", "also-red.png"}) || ds.Resolution != 4 {
		t.Fatalf("%d images %v at %d", ds.Len(), ds.Names, ds.Resolution)
	}
	if !slices.Equal(ds.Captions, []string{"a red one", "red", "again"}) || !slices.Equal(ds.CaptionImage, []int{0, 0, 2}) {
		t.Fatalf("captions %q of images %v", ds.Captions, ds.CaptionImage)
	}
	for i, c := range []color.RGBA{red, blue, red} {
		if got := ds.ImageFts.At(i, 2); got != float32(c.B) {
			t.Errorf("image %d's feature has blue %v, want %v", i, got, c.B)
		}
		for p := range 16 {
			if got := ds.Bytes.Pix[i*48+2*16+p]; got != c.B {
				t.Fatalf("image %d's blue plane holds %d, want %d", i, got, c.B)
			}
		}
	}
	if got := ds.CaptionFts.At(2, 0); got != float32(len("again")) {
		t.Fatalf("caption 2's feature %v", got)
	}

	path := filepath.Join(t.TempDir(), "d.safetensors")
	if err := ds.Save(path); err != nil {
		t.Fatal(err)
	}
	back, err := LoadDataset(path)
	if err != nil {
		t.Fatal(err)
	}
	if back.Bytes == nil || !slices.Equal(back.Bytes.Pix, ds.Bytes.Pix) || !slices.Equal(back.Names, ds.Names) {
		t.Fatal("the loaded dataset's pixels or names differ")
	}
	a, _, _, _, _ := ds.Batch([]int{2, 0}, []bool{true}, tensor.NewRNG(1))
	b, _, _, _, _ := back.Batch([]int{2, 0}, []bool{true}, tensor.NewRNG(1))
	if !slices.Equal(a.ToSlice(), b.ToSlice()) {
		t.Fatal("the loaded dataset's batch differs")
	}

	grey := &DatasetFile{MemoryDataset: &MemoryDataset{Bytes: &ImageBytes{N: 1, C: 1, H: 4, W: 4, Pix: make([]uint8, 16)},
		ImageFts: tensor.Zeros(1, 3)}, Names: []string{"g.png"}, Resolution: 4}
	if err := grey.Save(path); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadDataset(path); err == nil || !strings.Contains(err.Error(), "want [N, 3, R, R]") {
		t.Fatalf("a one-channel dataset: %v", err)
	}

	withoutCaptions, _, err := BuildDataset(list, 4, enc, BuildOptions{})
	if err != nil || len(withoutCaptions.Captions) != 0 || withoutCaptions.CaptionFts != nil {
		t.Fatalf("without captions: %v, %d captions", err, len(withoutCaptions.Captions))
	}
	_, bad, err = BuildDataset(&listOf{imgs: []*NamedImage{nil, nil}}, 4, enc, BuildOptions{})
	if err == nil || !strings.Contains(err.Error(), "no usable images (2 skipped)") || len(bad) != 2 {
		t.Fatalf("only bad images: %v, %d bad", err, len(bad))
	}
}

// hugeList claims a million images and has none to read.
type hugeList struct{}

func (hugeList) Len() int                     { return 1 << 20 }
func (hugeList) Read(int) (NamedImage, error) { return NamedImage{}, errors.New("not read") }

// A build whose pixels cannot fit in the machine's memory is refused
// before anything is allocated or read (not the runtime's fatal error).
func TestBuildDatasetRefusesMoreThanMemory(t *testing.T) {
	if sysmem.Total() == 0 {
		t.Skip("this system does not tell its memory size")
	}
	_, _, err := BuildDataset(hugeList{}, 4096, &meanColourEncoder{}, BuildOptions{})
	if err == nil || !strings.Contains(err.Error(), "1048576 images at 4096x4096 needs 49152.0 GB, more than this machine's") {
		t.Fatalf("a million images at 4096x4096: %v", err)
	}
}
