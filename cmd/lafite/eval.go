package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"

	"github.com/lafite-go/lafite/internal/atomicfile"
	"github.com/lafite-go/lafite/lafite"
	"github.com/lafite-go/lafite/lafite/metrics"
	"github.com/lafite-go/lafite/lafite/metrics/inception"
)

func init() {
	register("eval", "score a trained generator against a dataset: in CLIP space (FID_CLIP, CLIP score), and FID and IS given Inception weights", runEval)
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
	incPath := fs.String("inception", "", "Inception-v3 weights (pytorch-fid's pt_inception-2015-12-05-6726825d.pth): adds the paper's FID and IS")
	incStats := fs.String("inception-stats", "", "where the dataset's Inception statistics are kept between runs (default DATA.inception.safetensors)")
	realStats := fs.String("real-stats", "", "the FID's real side from kept statistics instead of the dataset's images, e.g. the training set's\n(the paper's protocol: test captions, training-set statistics; from 'lafite fid --save-stats' or an earlier eval)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *gf.ckpt == "" || *data == "" {
		return fmt.Errorf("--ckpt and --data are required")
	}
	if *n < 2 || *batch < 1 {
		return fmt.Errorf("--n must be at least 2 and --batch positive")
	}
	if (*realStats != "" || *incStats != "") && *incPath == "" {
		return fmt.Errorf("--real-stats and --inception-stats go with --inception")
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
	if *incPath != "" {
		if o.Inception, err = inception.Load(*incPath); err != nil {
			return err
		}
		o.Inception.To(dev)
		if *realStats != "" {
			s, about, err := metrics.LoadStats(*realStats)
			if err != nil {
				return err
			}
			if len(s.Mean) != o.Inception.Features {
				return fmt.Errorf("%s holds statistics of %d features, the network gives %d", *realStats, len(s.Mean), o.Inception.Features)
			}
			fmt.Fprintf(stdout, "the FID's real side: %s (%d images; %s)\n", *realStats, s.N, about)
			o.InceptionReal = &s
		} else {
			if *incStats == "" {
				*incStats = *data + ".inception.safetensors"
			}
			if o.InceptionReal, err = datasetInceptionStats(o.Inception, ds, *data, *incPath, *incStats, *batch, *quiet, stdout); err != nil {
				return err
			}
		}
	}
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
	if !math.IsNaN(r.FID) {
		fmt.Fprintf(stdout, "  FID                 %.4f   (Inception-v3 pool features, against %d real images)\n", r.FID, r.InceptionRealImages)
	}
	if !math.IsNaN(r.IS) {
		fmt.Fprintf(stdout, "  IS                  %.4f ± %.4f   (Inception Score)\n", r.IS, r.ISStd)
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
		if !math.IsNaN(r.FID) {
			rec["fid"], rec["inception"], rec["inception_real_images"] = r.FID, *incPath, r.InceptionRealImages
		}
		if !math.IsNaN(r.IS) {
			rec["is"], rec["is_std"] = r.IS, r.ISStd
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

// datasetInceptionStats reads the dataset's Inception statistics from
// path when they were kept for this dataset and these weights, and
// otherwise computes them (a pass of the network over every image) and
// keeps them there.
func datasetInceptionStats(net *inception.Network, ds *lafite.DatasetFile, data, weights, path string, batch int, quiet bool, stdout io.Writer) (*metrics.Stats, error) {
	about := inceptionStatsSource(data, weights)
	if s, kept, err := metrics.LoadStats(path); err == nil {
		if kept != about {
			return nil, fmt.Errorf("%s holds the Inception statistics of %q, not of %q: remove it or pass another --inception-stats", path, kept, about)
		}
		fmt.Fprintf(stdout, "the dataset's Inception statistics: %s\n", path)
		return &s, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	progress, finish := progressCallback(quiet, ds.Len(), "inception (dataset)")
	s, err := lafite.InceptionStats(net, ds.MemoryDataset, batch, progress)
	finish()
	if err != nil {
		return nil, err
	}
	if err := metrics.SaveStats(path, s, about); err != nil {
		return nil, err
	}
	fmt.Fprintf(stdout, "wrote the dataset's Inception statistics to %s\n", path)
	return &s, nil
}

// inceptionStatsSource describes statistics of images (a dataset, a folder)
// under Inception weights, as kept files record it: one form, so that eval
// knows its own.
func inceptionStatsSource(images, weights string) string {
	return buildSource(images) + "; inception " + buildSource(weights)
}
