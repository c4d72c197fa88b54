package main

import (
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/lafite-go/lafite/clip"
	"github.com/lafite-go/lafite/lafite/miniclip"
)

func init() {
	register("clip-train", "train the demo's mini-CLIP on the shapes world and report zero-shot retrieval", runCLIPTrain)
}

func runCLIPTrain(args []string, stdout io.Writer) error {
	o := miniclip.DefaultOptions()
	c := &o.Train.Model
	fs := newFlags("clip-train", os.Stderr)
	fs.IntVar(&c.ImageResolution, "res", c.ImageResolution, "image resolution")
	fs.IntVar(&c.VisionPatch, "patch", c.VisionPatch, "ViT patch size (divides --res)")
	fs.IntVar(&o.Train.Steps, "steps", o.Train.Steps, "optimizer steps")
	fs.IntVar(&o.Batch, "batch", o.Batch, fmt.Sprintf("pairs per batch (up to %d: all colour×shape pairs distinct)", miniclip.Classes))
	fs.Uint64Var(&o.Train.Seed, "seed", o.Train.Seed, "seed of the weights and crops (the data uses --data-seed)")
	fs.Uint64Var(&o.DataSeed, "data-seed", o.DataSeed, "seed of the training images")
	fs.IntVar(&c.VisionWidth, "width", c.VisionWidth, "image tower width")
	fs.IntVar(&c.VisionLayers, "layers", c.VisionLayers, "image tower depth")
	fs.IntVar(&c.VisionHeads, "heads", c.VisionHeads, "image tower attention heads")
	fs.IntVar(&c.TextWidth, "text-width", c.TextWidth, "text tower width")
	fs.IntVar(&c.TextLayers, "text-layers", c.TextLayers, "text tower depth")
	fs.IntVar(&c.TextHeads, "text-heads", c.TextHeads, "text tower attention heads")
	fs.IntVar(&c.EmbedDim, "embed", c.EmbedDim, "joint embedding size")
	fs.IntVar(&o.Train.LockTextSteps, "lock-text", o.Train.LockTextSteps, "first steps that train the image tower only (default: the recipe's, or a quarter of --steps when --steps is given)")
	fs.Float64Var(&o.Train.LR, "lr", o.Train.LR, "peak learning rate (cosine schedule with warm-up)")
	fs.Float64Var(&o.Train.CropProb, "crop", o.Train.CropProb, "probability of a random crop (as Lafite's generator loss sees images)")
	evalN := fs.Int("eval", 960, "held-out images for the retrieval table")
	out := fs.String("out", "miniclip.safetensors", "bundle to write (weights and word vocabulary)")
	quiet := fs.Bool("quiet", false, "no progress bar")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *evalN < 1 {
		return fmt.Errorf("--eval %d: need at least one held-out image", *evalN)
	}
	if o.Train.Steps < 1 {
		return fmt.Errorf("--steps %d must be positive", o.Train.Steps)
	}
	o.Train.WarmupSteps = max(1, o.Train.Steps/20)
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if !set["lock-text"] && set["steps"] {
		o.Train.LockTextSteps = o.Train.Steps / 4
	}
	if err := os.MkdirAll(filepath.Dir(*out), 0o755); err != nil {
		return err
	}

	var bar *progressbar.ProgressBar
	if !*quiet {
		bar = newProgressBar(int64(o.Train.Steps), "clip-train")
	}
	var firstLoss, lastLoss float64
	start := time.Now()
	m, tok, err := miniclip.Train(o, func(step, steps int, loss float64) {
		if step == 0 {
			firstLoss = loss
		}
		lastLoss = loss
		if bar != nil {
			bar.Describe(fmt.Sprintf("clip-train loss %.3f", loss))
			bar.Set(step + 1)
		}
	})
	if bar != nil {
		bar.Finish()
		fmt.Fprintln(os.Stderr)
	}
	if err != nil {
		return err
	}
	trainTime := time.Since(start)
	if err := clip.SaveBundle(*out, m, tok); err != nil {
		return err
	}
	rep, err := miniclip.Evaluate(m, tok, *evalN)
	if err != nil {
		return err
	}
	size := int64(0)
	if st, err := os.Stat(*out); err == nil {
		size = st.Size()
	}
	fmt.Fprintf(stdout, "trained %d steps of %d pairs in %s (loss %.3f -> %.3f), logit scale %.1f\n",
		o.Train.Steps, o.Batch, trainTime.Round(time.Second), firstLoss, lastLoss, expLogitScale(m))
	fmt.Fprintf(stdout, "wrote %s (%.2f MB)\n", *out, float64(size)/1e6)
	printRetrieval(stdout, rep)
	return nil
}

// expLogitScale is the learned inverse temperature exp(logit_scale).
func expLogitScale(m *clip.Model) float64 {
	return math.Exp(float64(m.LogitScale.Value.Item()))
}

// printRetrieval writes the zero-shot table of a miniclip.Evaluate report.
func printRetrieval(w io.Writer, r clip.RetrievalReport) {
	fmt.Fprintf(w, "zero-shot retrieval on %d held-out images, %d prompts:\n", r.Images, r.Classes)
	fmt.Fprintf(w, "  %-28s %6.1f%%  (chance %.1f%%)\n", "joint (colour and shape)", 100*r.Accuracy, 100/float64(r.Classes))
	fmt.Fprintf(w, "  %-28s %6.1f%%\n", "shape", 100*r.AttributeAccuracy[0])
	fmt.Fprintf(w, "  %-28s %6.1f%%\n", "colour", 100*r.AttributeAccuracy[1])
	fmt.Fprintf(w, "  %-28s %7.3f\n", "cosine image-true caption", r.TrueCosine)
	fmt.Fprintf(w, "  %-28s %7.3f\n", "cosine image-other captions", r.OtherCosine)
}
