package lafite

import (
	"testing"

	"github.com/lafite-go/lafite/clip"
	"github.com/lafite-go/lafite/kernels/cuda/emu"
	"github.com/lafite-go/lafite/nn"
	"github.com/lafite-go/lafite/tensor"
)

// Encoding a dataset and evaluating a generator a batch at a time on a GPU
// hold one batch's memory: CLIPEncoder returns host features and frees its
// temporaries, Evaluate frees each batch's images. Live GPU memory after
// each call is what it was before (the models only), however many batches
// ran.
func TestBatchedGPUWorkLeavesNoMemoryHeld(t *testing.T) {
	e := emu.New()
	defer tensor.UseCUDABackend(tensor.WithCachingAllocator(e), e.Props())()
	tok := clip.BuildWordTokenizer([]string{"xx xxx", "xxxx x"}, 1)
	cc := clip.Config{EmbedDim: 3, ImageResolution: 16, VisionLayers: 1, VisionWidth: 16, VisionPatch: 8, VisionHeads: 2,
		ContextLength: 8, VocabSize: tok.VocabSize(), TextWidth: 16, TextHeads: 2, TextLayers: 1}
	m := clip.New(cc, tensor.NewRNG(1))
	m.To(tensor.CUDA)
	enc := NewCLIPEncoder(m, tok)

	live := func() int64 { l, _ := tensor.CUDAMemoryStats(); return l }
	before := live()
	ds, _, err := BuildDataset(partsTestList(), 16, enc, BuildOptions{Batch: 2, Captions: true})
	if err != nil {
		t.Fatal(err)
	}
	if after := live(); after != before {
		t.Fatalf("BuildDataset in batches of 2 left %d bytes of GPU memory held", after-before)
	}
	if ds.ImageFts.Device() != tensor.CPU || ds.CaptionFts.Device() != tensor.CPU {
		t.Fatal("the dataset's features are not on the host")
	}

	gcfg := DefaultGeneratorConfig(16, 3)
	gcfg.ZDim, gcfg.WDim, gcfg.ChannelBase, gcfg.ChannelMax, gcfg.MappingLayers = 8, 8, 64, 16, 2
	g, err := NewGenerator(gcfg, tensor.NewRNG(2))
	if err != nil {
		t.Fatal(err)
	}
	nn.MoveTo(g, tensor.CUDA)
	before = live()
	if _, err := Evaluate(g, ds.MemoryDataset, enc, EvalOptions{Samples: 10, Batch: 3}); err != nil {
		t.Fatal(err)
	}
	if after := live(); after != before {
		t.Fatalf("Evaluate in batches of 3 left %d bytes of GPU memory held", after-before)
	}
}
