package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/lafite-go/lafite/lafite"
	"github.com/lafite-go/lafite/lafite/metrics"
	"github.com/lafite-go/lafite/lafite/metrics/inception"
	"github.com/lafite-go/lafite/tensor"
)

func init() {
	register("fid", "the Fréchet Inception Distance between two image folders (or kept statistics), as pytorch-fid computes it", runFID)
}

func runFID(args []string, stdout io.Writer) error {
	fs := newFlags("fid", os.Stderr)
	weights := fs.String("inception", "", "Inception-v3 weights (pytorch-fid's pt_inception-2015-12-05-6726825d.pth)")
	batch := fs.Int("batch", 16, "images per network call (each resized to 299 first, whatever its size)")
	save := fs.String("save-stats", "", "also keep the first input's statistics in this file, to pass instead of its images next time")
	quiet := fs.Bool("quiet", false, "no progress bar")
	device := fs.String("device", "cpu", "where the network runs: cpu, or cuda")
	fs.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: lafite fid --inception W [flags] A [B]\n"+
			"  A, B: a folder or .zip of PNG/JPEG images, or statistics kept by --save-stats or 'lafite eval'\n"+
			"  (DATA.inception.safetensors); with only A, --save-stats keeps its statistics.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	inputs := fs.Args()
	switch {
	case *weights == "":
		return fmt.Errorf("--inception is required")
	case len(inputs) == 0 || len(inputs) > 2:
		return fmt.Errorf("give one or two inputs (folders, zips or kept statistics), got %d", len(inputs))
	case len(inputs) == 1 && *save == "":
		return fmt.Errorf("with one input, --save-stats says where its statistics go")
	case *batch < 1:
		return fmt.Errorf("--batch %d must be positive", *batch)
	}
	dev, err := parseDevice(*device)
	if err != nil {
		return err
	}
	if dev == tensor.CUDA {
		if err := requireCUDA(); err != nil {
			return err
		}
	}
	net, err := inception.Load(*weights)
	if err != nil {
		return err
	}
	net.To(dev)
	stats := make([]metrics.Stats, len(inputs))
	for i, in := range inputs {
		if strings.HasSuffix(in, ".safetensors") {
			if stats[i], _, err = metrics.LoadStats(in); err != nil {
				return err
			}
			if i == 0 && *save != "" {
				return fmt.Errorf("%s already holds statistics: --save-stats keeps those of images", in)
			}
			fmt.Fprintf(stdout, "%s: statistics of %d images\n", in, stats[i].N)
			continue
		}
		src, err := lafite.OpenImages(in)
		if err != nil {
			return err
		}
		progress, finish := progressCallback(*quiet, src.Len(), "fid")
		s, bad, err := lafite.InceptionImageStats(net, src, *batch, progress)
		finish()
		src.Close()
		for _, b := range bad {
			fmt.Fprintf(stdout, "skipped %s\n", b.Error())
		}
		if err != nil {
			return fmt.Errorf("%s: %v", in, err)
		}
		if len(s.Mean) != net.Features {
			return fmt.Errorf("%s: %d features, the network gives %d", in, len(s.Mean), net.Features)
		}
		stats[i] = s
		fmt.Fprintf(stdout, "%s: %d images\n", in, s.N)
		if i == 0 && *save != "" {
			if err := metrics.SaveStats(*save, s, inceptionStatsSource(in, *weights)); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "wrote %s\n", *save)
		}
	}
	if len(stats) == 2 {
		if len(stats[0].Mean) != len(stats[1].Mean) {
			return fmt.Errorf("statistics of %d and %d features: not of one network", len(stats[0].Mean), len(stats[1].Mean))
		}
		fid, err := metrics.FIDFromStats(stats[0], stats[1])
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "FID %.4f\n", fid)
	}
	return nil
}
