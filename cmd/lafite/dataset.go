package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/lafite-go/lafite/lafite"
	"github.com/lafite-go/lafite/tensor"
)

func init() {
	register("dataset", "build a training set: images (+ optional captions) with precomputed CLIP features", runDataset)
}

func runDataset(args []string, stdout io.Writer) error {
	fs := newFlags("dataset", os.Stderr)
	images := fs.String("images", "", "folder or .zip of PNG/JPEG images (captions: name.txt beside name.png, one per line)")
	res := fs.Int("res", 64, "training resolution (power of two)")
	clipPath := fs.String("clip", "", "CLIP checkpoint (OpenAI .pt or .safetensors)")
	vocab := fs.String("vocab", "", "BPE vocabulary (bpe_simple_vocab_16e6.txt.gz) for OpenAI models")
	captions := fs.Bool("captions", true, "read name.txt captions when present")
	cocoCaptions := fs.String("coco-captions", "", "take the captions from a COCO captions file (captions_train2014.json) instead of name.txt files")
	out := fs.String("out", "dataset.safetensors", "output file")
	quiet := fs.Bool("quiet", false, "no progress bar")
	device := fs.String("device", "cpu", "where CLIP encodes the images and captions: cpu, or cuda")
	workers := fs.Int("workers", runtime.NumCPU(), "images decoded and resized at a time, ahead of the CLIP batches")
	partImages := fs.Int("part-images", 1024, "keep the work in OUT.parts every this many images, so that a stopped build continues\n(run the same command again); 0: keep nothing until the end")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *images == "" {
		return fmt.Errorf("--images is required")
	}
	if *res < 8 || *res > 1024 || *res&(*res-1) != 0 {
		return fmt.Errorf("--res %d must be a power of two in [8, 1024] (the resolutions a generator trains at)", *res)
	}
	dev, err := parseDevice(*device)
	if err != nil {
		return err
	}
	if dev == tensor.CUDA { // before loading anything
		if err := requireCUDA(); err != nil {
			return err
		}
	}
	enc, err := lafite.OpenCLIP(*clipPath, *vocab)
	if err != nil {
		return err
	}
	if dev != tensor.CPU {
		enc.Model.To(dev)
	}
	src, err := lafite.OpenImages(*images)
	if err != nil {
		return err
	}
	defer src.Close()
	if *cocoCaptions != "" {
		byName, err := lafite.ReadCOCOCaptions(*cocoCaptions)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s: captions for %d of the %d images\n", *cocoCaptions, src.UseCaptions(byName), src.Len())
	}
	if *workers < 1 {
		return fmt.Errorf("--workers %d must be positive", *workers)
	}
	o := lafite.BuildOptions{Batch: 16, Captions: *captions, Workers: *workers}
	if *partImages > 0 {
		o.Parts, o.PartImages, o.Source = *out+".parts", *partImages, buildSource(*images, *clipPath, *vocab, *cocoCaptions)
		if _, err := os.Stat(filepath.Join(o.Parts, "build.json")); err == nil {
			fmt.Fprintf(stdout, "continuing the build kept in %s\n", o.Parts)
		}
	}
	// An interrupt stops the build between two images, its work kept.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	o.Context = ctx
	var finish func()
	o.Progress, finish = progressCallback(*quiet, src.Len(), "dataset")
	ds, bad, err := lafite.BuildDataset(src, *res, enc, o)
	finish()
	for _, b := range bad {
		fmt.Fprintf(stdout, "skipped %s\n", b.Error())
	}
	if err != nil {
		return fmt.Errorf("%s: %v", *images, err)
	}
	ds.About = "clip=" + *clipPath
	if err := ds.Save(*out); err != nil {
		return err
	}
	if o.Parts != "" {
		if err := lafite.RemoveBuildParts(o.Parts); err != nil {
			fmt.Fprintf(stdout, "could not remove %s: %v\n", o.Parts, err)
		}
	}
	fmt.Fprintf(stdout, "wrote %s: %d images at %dx%d, %d captions, %d skipped, feature size %d\n",
		*out, ds.Len(), *res, *res, len(ds.Captions), len(bad), enc.FeatureDim())
	return nil
}

// buildSource names a build's inputs for its parts folder: the images'
// folder and the CLIP files, each with its size and time, so that parts
// are never mixed with those of another model.
func buildSource(paths ...string) string {
	var parts []string
	for _, p := range paths {
		if p == "" {
			continue
		}
		if abs, err := filepath.Abs(p); err == nil {
			p = abs
		}
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			p += fmt.Sprintf(" (%d bytes, %s)", st.Size(), st.ModTime().UTC().Format(time.RFC3339))
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, "; ")
}
