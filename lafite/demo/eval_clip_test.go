package demo

import (
	"testing"

	"github.com/lafite-go/lafite/lafite"
	"github.com/lafite-go/lafite/lafite/shapes"
	"github.com/lafite-go/lafite/tensor"
)

// lafite.Evaluate's scores measure what they claim on the bundled models:
// the trained generator's images sit closer to their captions than to other
// samples' captions, and their CLIP features closer to the world's images
// (FID_CLIP) than an untrained generator's of the same configuration.
func TestEvaluateTellsTrainedFromUntrained(t *testing.T) {
	m, err := LoadModels("", "", "")
	if err != nil {
		t.Fatal(err)
	}
	const n = 96
	res := m.Generator.Config.Resolution
	samples := shapes.Generate(5, n, res)
	fts, err := m.CLIP.EncodeImages(imagesOf(samples))
	if err != nil {
		t.Fatal(err)
	}
	ds := &lafite.MemoryDataset{Images: shapes.ToTensor(samples), ImageFts: fts}
	var caps []string
	for i, s := range samples {
		caps = append(caps, s.Captions[0])
		ds.CaptionImage = append(ds.CaptionImage, i)
	}
	if ds.CaptionFts, err = m.CLIP.EncodeTexts(caps); err != nil {
		t.Fatal(err)
	}
	o := lafite.EvalOptions{Samples: n, Batch: 32, Seed: 1, Psi: 1}
	trained, err := lafite.Evaluate(m.Generator, ds, m.CLIP, o)
	if err != nil {
		t.Fatal(err)
	}
	untrainedG, err := lafite.NewGenerator(m.Generator.Config, tensor.NewRNG(2))
	if err != nil {
		t.Fatal(err)
	}
	untrained, err := lafite.Evaluate(untrainedG, ds, m.CLIP, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("trained: %+v", trained)
	t.Logf("untrained: %+v", untrained)
	if trained.Condition != "captions" || trained.Samples != n || trained.RealImages != n {
		t.Fatalf("report %+v", trained)
	}
	if !(trained.CLIPScore > trained.ShuffledCLIPScore+0.05) {
		t.Errorf("trained CLIP score %.3f, shuffled %.3f: the images do not follow their captions", trained.CLIPScore, trained.ShuffledCLIPScore)
	}
	if !(trained.FIDCLIP < untrained.FIDCLIP) {
		t.Errorf("FID_CLIP trained %.3f, untrained %.3f", trained.FIDCLIP, untrained.FIDCLIP)
	}
	if !(trained.RealCLIPScore > trained.ShuffledCLIPScore) {
		t.Errorf("real CLIP score %.3f below the shuffled baseline %.3f", trained.RealCLIPScore, trained.ShuffledCLIPScore)
	}
}
