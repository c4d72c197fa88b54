package lafite

import (
	"image"
	"image/draw"
	"math"
	"path/filepath"
	"slices"
	"testing"

	"github.com/lafite-go/lafite/lafite/metrics"
	"github.com/lafite-go/lafite/lafite/metrics/inception"
	"github.com/lafite-go/lafite/tensor"
)

// With an Inception network (the 1/16-width test network) Evaluate adds
// the FID and the Inception Score and leaves the CLIP-space scores as they
// were; the dataset's statistics given precomputed give the same FID; the
// real side is the dataset's images, mapped to [0, 1] from bytes or
// floats alike.
func TestEvaluateWithInception(t *testing.T) {
	net, err := inception.Load(filepath.Join("metrics", "inception", "testdata", "tiny_inception.pth"))
	if err != nil {
		t.Fatal(err)
	}
	cfg, data, _ := tinySetup(t)
	g, err := NewGenerator(cfg.G, tensor.NewRNG(1))
	if err != nil {
		t.Fatal(err)
	}
	ds := &MemoryDataset{Images: data.Images, ImageFts: data.ImageFts}
	o := EvalOptions{Samples: 12, Batch: 5, Seed: 3, Psi: 1}
	plain, err := Evaluate(g, ds, pooledEncoder{tinyF}, o)
	if err != nil {
		t.Fatal(err)
	}
	if !math.IsNaN(plain.FID) || !math.IsNaN(plain.IS) {
		t.Fatalf("without the network: FID %v, IS %v; want NaN", plain.FID, plain.IS)
	}
	o.Inception = net
	r, err := Evaluate(g, ds, pooledEncoder{tinyF}, o)
	if err != nil {
		t.Fatal(err)
	}
	if r.FIDCLIP != plain.FIDCLIP || r.CLIPScore != plain.CLIPScore || r.ShuffledCLIPScore != plain.ShuffledCLIPScore {
		t.Fatalf("the Inception scores changed the CLIP ones: %+v, %+v", r, plain)
	}
	if !(r.FID > 0) || !(r.IS > 0.999 && r.IS <= float64(net.Classes)) || !(r.ISStd >= 0) || r.InceptionRealImages != ds.Len() {
		t.Fatalf("FID %v, IS %v ± %v over %d real images", r.FID, r.IS, r.ISStd, r.InceptionRealImages)
	}
	realStats, err := InceptionStats(net, ds, 7, nil)
	if err != nil {
		t.Fatal(err)
	}
	o.InceptionReal = &realStats
	again, err := Evaluate(g, ds, pooledEncoder{tinyF}, o)
	if err != nil || again.FID != r.FID || again.IS != r.IS {
		t.Fatalf("with precomputed statistics: FID %v, IS %v (%v); want %v, %v", again.FID, again.IS, err, r.FID, r.IS)
	}

	// The dataset as bytes gives the statistics of its quantised images,
	// the same as the float images rounded to 8 bits first.
	bytesDS := &MemoryDataset{Bytes: &ImageBytes{N: ds.Len(), C: 3, H: 16, W: 16, Pix: make([]uint8, ds.Len()*3*16*16)}, ImageFts: ds.ImageFts}
	quantised := make([]float32, len(bytesDS.Bytes.Pix))
	for i, v := range ds.Images.Contiguous().Data() {
		b := uint8(max(0, min(255, math.Round(float64(v+1)*127.5))))
		bytesDS.Bytes.Pix[i] = b
		quantised[i] = float32(b)/127.5 - 1
	}
	floatDS := &MemoryDataset{Images: tensor.New(quantised, ds.Len(), 3, 16, 16), ImageFts: ds.ImageFts}
	a, err := InceptionStats(net, bytesDS, 4, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := InceptionStats(net, floatDS, 4, nil)
	if err != nil {
		t.Fatal(err)
	}
	if fid, err := metrics.FIDFromStats(a, b); err != nil || fid > 1e-6 {
		t.Fatalf("bytes and float images of the same pixels: FID %v (%v)", fid, err)
	}
}

// InceptionImageStats reads every image once, batches images of any size
// (each resized on its own: the batch size does not change the
// statistics), keeps a transparent pixel's colour, and names the images
// it skipped.
func TestInceptionImageStatsBatchesImagesOfAnySize(t *testing.T) {
	net, err := inception.Load(filepath.Join("metrics", "inception", "testdata", "tiny_inception.pth"))
	if err != nil {
		t.Fatal(err)
	}
	list := partsTestList() // sizes 6x6 to 16x6, two unreadable
	var stats []metrics.Stats
	for _, batch := range []int{1, 3, 16} {
		list.reads = nil
		s, bad, err := InceptionImageStats(net, list, batch, nil)
		if err != nil {
			t.Fatal(err)
		}
		if s.N != 9 || len(bad) != 2 || bad[0].Name != "bad3.png" || len(list.reads) != 11 {
			t.Fatalf("batch %d: %d images, bad %v, reads %v", batch, s.N, bad, list.reads)
		}
		stats = append(stats, s)
	}
	for i, s := range stats[1:] {
		if fid, err := metrics.FIDFromStats(stats[0], s); err != nil || fid > 1e-6 {
			t.Fatalf("batch %d against batch 1: FID %v (%v)", []int{3, 16}[i], fid, err)
		}
	}
	opaque := image.NewNRGBA(image.Rect(0, 0, 4, 4))
	clearAlpha := image.NewNRGBA(image.Rect(0, 0, 4, 4))
	for i := range opaque.Pix {
		opaque.Pix[i], clearAlpha.Pix[i] = uint8(37*i), uint8(37*i)
		if i%4 == 3 {
			opaque.Pix[i], clearAlpha.Pix[i] = 255, 0
		}
	}
	a := nrgbaUnit([]*image.NRGBA{toNRGBA(opaque)}).ToSlice()
	if a[1] != float32(37*4)/255 {
		t.Fatalf("the opaque image's pixels %v", a[:4])
	}
	// The transparent image as it is, as a window of a larger one (a
	// sub-image's origin is not (0, 0)), and as a palette of NRGBA colours.
	big := image.NewNRGBA(image.Rect(0, 0, 6, 5))
	draw.Draw(big, image.Rect(2, 1, 6, 5), clearAlpha, image.Point{}, draw.Src)
	pal := image.NewPaletted(clearAlpha.Rect, nil)
	for i := range 16 {
		pal.Palette = append(pal.Palette, clearAlpha.NRGBAAt(i%4, i/4))
		pal.SetColorIndex(i%4, i/4, uint8(i))
	}
	for name, im := range map[string]image.Image{"NRGBA": clearAlpha, "sub-image": big.SubImage(image.Rect(2, 1, 6, 5)), "paletted": pal} {
		if b := nrgbaUnit([]*image.NRGBA{toNRGBA(im)}).ToSlice(); !slices.Equal(a, b) {
			t.Fatalf("a transparent %s image's pixels %v, the opaque one's %v", name, b[:4], a[:4])
		}
	}
}
