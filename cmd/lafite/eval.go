package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"

	"github.com/lafite-go/lafite/internal/atomicfile"
	"github.com/lafite-go/lafite/lafite"
)

func init() {
	register("eval", "score a trained generator against a dataset in CLIP space (FID_CLIP, CLIP score)", runEval)
}

func runEval(args []string, stdout io.Writer) error {
	fs := newFlags("eval", os.Stderr)
	gf := addGeneratorFlags(fs)
	data := fs.String("data", "", "dataset built by 'lafite dataset' with the same CLIP model")
	n := fs.Int("n", 1000, "images to generate (FID needs more than the feature size to be stable)")
	batch := fs.Int("batch", 16, "images per generator and CLIP call")
	seed := fs.Uint64("seed", 0, "seed of the latents and of the order of the conditions")
	psi := fs.Float64("psi", 1, "truncation ψ")
	jsonOut := fs.String("json", "", "also write the report to this JSON file")
	quiet := fs.Bool("quiet", false, "no progress bar")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *gf.ckpt == "" || *data == "" {
		return fmt.Errorf("--ckpt and --data are required")
	}
	if *n < 2 || *batch < 1 {
		return fmt.Errorf("--n must be at least 2 and --batch positive")
	}
	dev, err := gf.parseDevice()
	if err != nil {
		return err
	}
	g, enc, err := gf.load(dev)
	if err != nil {
		return err
	}
	ds, err := lafite.LoadDataset(*data)
	if err != nil {
		return err
	}
	if fd := ds.ImageFts.Size(1); fd != enc.FeatureDim() {
		return fmt.Errorf("%s has features of size %d but the CLIP model's are %d: use the model the dataset was built with", *data, fd, enc.FeatureDim())
	}
	o := lafite.EvalOptions{Samples: *n, Batch: *batch, Seed: *seed, Psi: float32(*psi)}
	var finish func()
	o.Progress, finish = progressCallback(*quiet, *n, "eval")
	r, err := lafite.Evaluate(g, ds.MemoryDataset, enc, o)
	finish()
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%d images conditioned on the dataset's %s, against its %d images (CLIP space of %s):\n", r.Samples, r.Condition, r.RealImages, *gf.clip)
	fmt.Fprintf(stdout, "  FID_CLIP            %.4f   (not comparable with Inception FIDs)\n", r.FIDCLIP)
	if d := enc.FeatureDim(); r.Samples <= d || r.RealImages <= d {
		fmt.Fprintf(stdout, "  (from %d generated and %d real images, at most the feature size %d: the covariances are rank-deficient and\n"+
			"   FID_CLIP is biased upwards; compare only runs with the same --n and dataset)\n", r.Samples, r.RealImages, d)
	}
	fmt.Fprintf(stdout, "  CLIP score          %.4f   (mean cosine of an image and its condition)\n", r.CLIPScore)
	fmt.Fprintf(stdout, "  shuffled conditions %.4f   (each image against another sample's condition)\n", r.ShuffledCLIPScore)
	if !math.IsNaN(r.RealCLIPScore) {
		fmt.Fprintf(stdout, "  real images         %.4f   (the dataset's images against their captions)\n", r.RealCLIPScore)
	}
	if *jsonOut != "" {
		rec := map[string]any{"ckpt": *gf.ckpt, "data": *data, "clip": *gf.clip, "seed": *seed, "psi": *psi,
			"samples": r.Samples, "condition": r.Condition, "real_images": r.RealImages,
			"fid_clip": r.FIDCLIP, "clip_score": r.CLIPScore, "shuffled_clip_score": r.ShuffledCLIPScore}
		if !math.IsNaN(r.RealCLIPScore) {
			rec["real_clip_score"] = r.RealCLIPScore
		}
		b, err := json.MarshalIndent(rec, "", "  ")
		if err != nil {
			return err
		}
		if err := atomicfile.WriteFile(*jsonOut, append(b, '\n')); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote %s\n", *jsonOut)
	}
	return nil
}
