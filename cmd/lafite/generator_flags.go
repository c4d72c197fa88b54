package main

import (
	"flag"

	"github.com/lafite-go/lafite/lafite"
	"github.com/lafite-go/lafite/nn"
	"github.com/lafite-go/lafite/tensor"
)

// generatorFlags are the flags of the commands that run a trained
// generator with its CLIP model (generate, eval).
type generatorFlags struct {
	ckpt, clip, vocab, device *string
}

func addGeneratorFlags(fs *flag.FlagSet) generatorFlags {
	return generatorFlags{
		ckpt:   fs.String("ckpt", "", "training checkpoint or exported generator"),
		clip:   fs.String("clip", "", "the CLIP checkpoint the generator was trained with"),
		vocab:  fs.String("vocab", "", "BPE vocabulary for OpenAI CLIP models"),
		device: fs.String("device", "cpu", "where to run the generator and CLIP: cpu, or cuda"),
	}
}

// device parses --device and, for cuda, checks that a GPU is usable before
// anything is loaded.
func (f generatorFlags) parseDevice() (tensor.Device, error) {
	dev, err := parseDevice(*f.device)
	if err != nil {
		return dev, err
	}
	if dev == tensor.CUDA {
		if err := requireCUDA(); err != nil {
			return dev, err
		}
	}
	return dev, nil
}

// load reads the generator and the CLIP model (both on the host) and moves
// them to dev.
func (f generatorFlags) load(dev tensor.Device) (*lafite.Generator, *lafite.CLIPEncoder, error) {
	g, err := lafite.LoadGenerator(*f.ckpt)
	if err != nil {
		return nil, nil, err
	}
	enc, err := lafite.OpenCLIP(*f.clip, *f.vocab)
	if err != nil {
		return nil, nil, err
	}
	if dev != tensor.CPU {
		nn.MoveTo(g, dev)
		enc.Model.To(dev)
	}
	return g, enc, nil
}
