package demo

import (
	"fmt"
	"image"

	"github.com/lafite-go/lafite/lafite"
	"github.com/lafite-go/lafite/lafite/shapes"
	"github.com/lafite-go/lafite/tensor"
)

// GeneratorOptions is the recipe of the demo's generator.
type GeneratorOptions struct {
	Res      int // image resolution
	Images   int // world images in the training set (images only: no captions are used)
	Steps    int // training iterations
	Batch    int
	Channels int     // channels at every resolution (channel_max; base = channels·res)
	Latent   int     // z and w size
	Seed     uint64  // weights and training randomness
	DataSeed uint64  // training images
	TrueCos  float32 // the mini-CLIP's measured image-text cosine: sets the perturbation level
	ITD, ITC float32
	R1Gamma  float32
	PLWeight float32
	LR       float32
	// CLIPCrop keeps Lafite's random crop (half the side to all of it) in
	// the generator's CLIP loss. The world's meaning is an object's outline
	// and place, which such crops cut away, so the demo leaves it off.
	CLIPCrop bool
}

// DefaultGeneratorOptions is the bundled generator's recipe.
func DefaultGeneratorOptions() GeneratorOptions {
	return GeneratorOptions{Res: 32, Images: 4800, Steps: 9000, Batch: 16, Channels: 32, Latent: 64, Seed: 1, DataSeed: 11,
		ITD: 10, ITC: 10, R1Gamma: 0.05, PLWeight: 0, LR: 0.0025}
}

// WorldDataset draws n images of the world and their (mini-)CLIP image
// features. Language-free: the captions are not used.
func WorldDataset(enc *lafite.CLIPEncoder, n, res int, seed uint64) (*lafite.MemoryDataset, error) {
	samples := shapes.Generate(seed, n, res)
	imgs := shapes.ToTensor(samples)
	var fts []*tensor.Tensor
	const chunk = 256
	for lo := 0; lo < n; lo += chunk {
		f, err := enc.EncodeImages(imagesOf(samples[lo:min(lo+chunk, n)]))
		if err != nil {
			return nil, err
		}
		fts = append(fts, f)
	}
	ds := &lafite.MemoryDataset{Images: imgs, ImageFts: tensor.Concat(fts, 0)}
	return ds, ds.Index()
}

func imagesOf(samples []shapes.Sample) []*image.RGBA {
	out := make([]*image.RGBA, len(samples))
	for i, s := range samples {
		out[i] = s.Image
	}
	return out
}

// TrainConfig turns the recipe into a Lafite training configuration: images
// only (mixing_prob 1) with the pseudo-text perturbation chosen so that
// cos(h', f) equals the mini-CLIP's measured image-text cosine.
func (o GeneratorOptions) TrainConfig(fDim int) lafite.TrainConfig {
	c := lafite.DefaultTrainConfig(o.Res, fDim, o.Batch)
	c.G.ZDim, c.G.WDim, c.G.MappingLayers = o.Latent, o.Latent, 2
	c.G.ChannelBase, c.G.ChannelMax = o.Channels*o.Res, o.Channels
	c.D.ChannelBase, c.D.ChannelMax, c.D.MbstdGroup = o.Channels*o.Res, o.Channels, 4
	c.Loss.ITD, c.Loss.ITC, c.Loss.R1Gamma, c.Loss.PLWeight = o.ITD, o.ITC, o.R1Gamma, o.PLWeight
	c.GLR, c.DLR = o.LR, o.LR
	c.PseudoText.MixingProb = 1
	c.PseudoText.ImageA = lafite.PerturbationForCosine(o.TrueCos)
	c.Mirror = false // the world's captions say left and right
	// A longer average than the reference's (batch·10/32 kimg, ramp-up 0.05,
	// i.e. a half-life of about 150 steps here): prompt following of G_ema
	// swung between 48% and 35% from step 2000 to 3000 with the short one.
	c.EMAKimg, c.EMARampup = 10, 0.1
	c.Seed = o.Seed
	return c
}

// TrainGenerator trains the demo generator; progress is called after every
// step with the trainer (its Step, its G_ema for snapshots).
func TrainGenerator(enc *lafite.CLIPEncoder, o GeneratorOptions, progress func(tr *lafite.Trainer, parts lafite.Parts) error) (*lafite.Trainer, error) {
	ds, feats, err := o.data(enc)
	if err != nil {
		return nil, err
	}
	tr, err := lafite.NewTrainer(o.TrainConfig(enc.FeatureDim()), ds, feats)
	if err != nil {
		return nil, err
	}
	return tr, trainTo(tr, o.Steps, progress)
}

// ContinueGenerator reloads a trainer checkpoint written by Reproduce and
// trains on to o.Steps, exactly as an uninterrupted run of that length would.
func ContinueGenerator(enc *lafite.CLIPEncoder, o GeneratorOptions, checkpoint string, progress func(tr *lafite.Trainer, parts lafite.Parts) error) (*lafite.Trainer, error) {
	ds, feats, err := o.data(enc)
	if err != nil {
		return nil, err
	}
	tr, err := lafite.LoadCheckpoint(checkpoint, ds, feats)
	if err != nil {
		return nil, err
	}
	if tr.Step > o.Steps {
		return nil, fmt.Errorf("%s: the checkpoint is at step %d, past the %d steps asked for", checkpoint, tr.Step, o.Steps)
	}
	return tr, trainTo(tr, o.Steps, progress)
}

// data is the training set and the generator-side CLIP path of the recipe.
func (o GeneratorOptions) data(enc *lafite.CLIPEncoder) (*lafite.MemoryDataset, lafite.CLIPImageFeatures, error) {
	ds, err := WorldDataset(enc, o.Images, o.Res, o.DataSeed)
	if err != nil {
		return nil, nil, err
	}
	feats := enc.WholeImageFeatures()
	if o.CLIPCrop {
		feats = enc.ImageFeatures()
	}
	return ds, feats, nil
}

func trainTo(tr *lafite.Trainer, steps int, progress func(tr *lafite.Trainer, parts lafite.Parts) error) error {
	for tr.Step < steps {
		parts, err := tr.TrainStep()
		if err != nil {
			return err
		}
		if progress != nil {
			if err := progress(tr, parts); err != nil {
				return err
			}
		}
	}
	return nil
}
