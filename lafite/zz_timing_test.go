package lafite

import (
	"os"
	"runtime/pprof"
	"testing"
	"time"

	"github.com/lafite-go/lafite/autograd"
	"github.com/lafite-go/lafite/tensor"
)

func TestZZTiming(t *testing.T) {
	cfg := DefaultTrainConfig(32, 64, 16)
	cfg.G.ZDim, cfg.G.WDim, cfg.G.ChannelBase, cfg.G.ChannelMax, cfg.G.MappingLayers = 64, 64, 1024, 64, 2
	cfg.D.ChannelBase, cfg.D.ChannelMax = 1024, 64
	rng := tensor.NewRNG(99)
	n := 64
	data := &MemoryDataset{Images: tensor.Tanh(rng.Normal(n, 3, 32, 32)), ImageFts: l2Normalize(rng.Normal(n, 64))}
	data.Index()
	proj := autograd.Const(tensor.NewRNG(5).Normal(3*4*4, 64))
	clipFeats := func(img *autograd.Var, _ *tensor.RNG) *autograd.Var {
		p := autograd.Reshape(autograd.AvgPool2d(img, 8, 8, 8, 8, 0, 0, true), img.Size(0), -1)
		return rowNormalize(autograd.Matmul(p, proj))
	}
	tr, _ := NewTrainer(cfg, data, clipFeats)
	f, _ := os.Create("/tmp/exp/cpu.prof")
	pprof.StartCPUProfile(f)
	for i := 0; i < 4; i++ {
		s := time.Now()
		tr.TrainStep()
		t.Logf("step %d: %v", i, time.Since(s))
	}
	pprof.StopCPUProfile()
}
