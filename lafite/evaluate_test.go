package lafite

import (
	"fmt"
	"image"
	"math"
	"strings"
	"testing"

	"github.com/lafite-go/lafite/tensor"
)

// pooledEncoder's image feature is the image's 2x2-pooled RGB (12 values)
// cut to dim and L2-normalised: it depends on the pixels, as CLIP does.
type pooledEncoder struct{ dim int }

func (e pooledEncoder) EncodeImages(imgs []*image.RGBA) (*tensor.Tensor, error) {
	out := make([]float32, 0, e.dim*len(imgs))
	for _, im := range imgs {
		b := im.Bounds()
		f := make([]float32, e.dim)
		for y := range b.Dy() {
			for x := range b.Dx() {
				p := im.Pix[y*im.Stride+4*x:]
				for c := range 3 {
					f[((2*y/b.Dy()*2+2*x/b.Dx())*3+c)%e.dim] += float32(p[c]) - 128
				}
			}
		}
		out = append(out, f...)
	}
	return l2Normalize(tensor.New(out, len(imgs), e.dim)), nil
}

func (e pooledEncoder) EncodeTexts(texts []string) (*tensor.Tensor, error) {
	return nil, nil
}

// Without captions the conditions are the dataset's image features; the
// scores are cosines, FID_CLIP a finite distance, one seed one report; bad
// sizes are errors that say which.
func TestEvaluateOnImageFeatures(t *testing.T) {
	cfg, data, _ := tinySetup(t)
	g, err := NewGenerator(cfg.G, tensor.NewRNG(1))
	if err != nil {
		t.Fatal(err)
	}
	noCaptions := &MemoryDataset{Images: data.Images, ImageFts: data.ImageFts}
	o := EvalOptions{Samples: 10, Batch: 4, Seed: 7, Psi: 1}
	var calls []int
	o.Progress = func(done, total int) { calls = append(calls, done) }
	r, err := Evaluate(g, noCaptions, pooledEncoder{tinyF}, o)
	if err != nil {
		t.Fatal(err)
	}
	if r.Condition != "image features" || !math.IsNaN(r.RealCLIPScore) || r.Samples != 10 || r.RealImages != data.Len() {
		t.Fatalf("report %+v", r)
	}
	if len(calls) != 3 || calls[2] != 10 {
		t.Fatalf("progress %v, want 4, 8, 10", calls)
	}
	for _, v := range []float64{r.CLIPScore, r.ShuffledCLIPScore} {
		if !(v >= -1 && v <= 1) {
			t.Fatalf("score %v is not a cosine", v)
		}
	}
	if !(r.FIDCLIP > 0) || math.IsInf(r.FIDCLIP, 0) {
		t.Fatalf("FID_CLIP %v", r.FIDCLIP)
	}
	o.Progress = nil
	again, _ := Evaluate(g, noCaptions, pooledEncoder{tinyF}, o)
	if fmt.Sprintf("%+v", again) != fmt.Sprintf("%+v", r) { // RealCLIPScore is NaN, unequal to itself
		t.Fatalf("one seed, two reports:\n%+v\n%+v", r, again)
	}
	o.Seed = 8
	if other, _ := Evaluate(g, noCaptions, pooledEncoder{tinyF}, o); other.CLIPScore == r.CLIPScore {
		t.Fatal("another seed gave the same images")
	}
	withCaptions, err := Evaluate(g, data, pooledEncoder{tinyF}, EvalOptions{Samples: 4, Psi: 1})
	if err != nil || withCaptions.Condition != "captions" || math.IsNaN(withCaptions.RealCLIPScore) {
		t.Fatalf("with captions: %+v, %v", withCaptions, err)
	}

	for _, c := range []struct {
		ds   *MemoryDataset
		o    EvalOptions
		want string
	}{
		{noCaptions, EvalOptions{Samples: 1}, "need at least 2"},
		{&MemoryDataset{Images: data.Images, ImageFts: tensor.Zeros(data.Len(), 3)}, EvalOptions{Samples: 4}, "features have size 3"},
		{&MemoryDataset{Images: data.Images.Narrow(0, 0, 1), ImageFts: data.ImageFts.Narrow(0, 0, 1)}, EvalOptions{Samples: 4}, "has 1 images"},
	} {
		if _, err := Evaluate(g, c.ds, pooledEncoder{tinyF}, c.o); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("want an error with %q, got %v", c.want, err)
		}
	}
}

// GenerateFrom renders the rows of its latents independently of how they
// are split into calls (Generate is it with latents drawn from the seed),
// and names the shape it wants.
func TestGenerateFromSplitsWithoutChangingImages(t *testing.T) {
	cfg, data, _ := tinySetup(t)
	g, err := NewGenerator(cfg.G, tensor.NewRNG(4))
	if err != nil {
		t.Fatal(err)
	}
	fts := data.ImageFts.Narrow(0, 0, 5)
	whole, err := Generate(g, fts, 9, 0.7)
	if err != nil {
		t.Fatal(err)
	}
	z := tensor.NewRNG(9).Normal(5, cfg.G.ZDim)
	first, err := GenerateFrom(g, z.Narrow(0, 0, 2), fts.Narrow(0, 0, 2), 0.7)
	if err != nil {
		t.Fatal(err)
	}
	rest, err := GenerateFrom(g, z.Narrow(0, 2, 3), fts.Narrow(0, 2, 3), 0.7)
	if err != nil {
		t.Fatal(err)
	}
	got, want := tensor.Concat([]*tensor.Tensor{first, rest}, 0).ToSlice(), whole.ToSlice()
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("value %d: %v in two calls, %v in one", i, got[i], want[i])
		}
	}
	if _, err := GenerateFrom(g, z.Narrow(0, 0, 4), fts, 1); err == nil || !strings.Contains(err.Error(), "latents must be [5, 8]") {
		t.Fatalf("4 latents for 5 conditions: %v", err)
	}
}
