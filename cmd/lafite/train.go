package main

import (
	"errors"
	"fmt"
	"image"
	"io"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/lafite-go/lafite/lafite"
	"github.com/lafite-go/lafite/lafite/metrics"
	"github.com/lafite-go/lafite/lafite/metrics/inception"
	"github.com/lafite-go/lafite/tensor"
)

func init() {
	register("train", "train a Lafite generator on a dataset (language-free by default)", runTrain)
}

// trainOptions are the flags of `lafite train`, defaults as the reference.
type trainOptions struct {
	data, clip, vocab, out, resume string
	batch, res                     int
	ratio                          float64
	kimg                           float64
	snapKimg                       float64
	prompts                        repeatedFlag
	cfg                            lafite.TrainConfig
	quiet                          bool
	device                         tensor.Device
	metrics                        int    // images per snapshot evaluation (0: none)
	inception                      string // Inception weights for the snapshots' FID and IS
}

func runTrain(args []string, stdout io.Writer) error {
	o, err := parseTrainFlags(args)
	if err != nil {
		return err
	}
	return train(o, stdout)
}

// parseTrainFlags turns the command line into options; every training
// default is the reference's (lafite.DefaultTrainConfig).
func parseTrainFlags(args []string) (trainOptions, error) {
	o := trainOptions{cfg: lafite.DefaultTrainConfig(64, 512, 16)}
	c := &o.cfg
	fs := newFlags("train", os.Stderr)
	fs.StringVar(&o.data, "data", "", "dataset built by 'lafite dataset'")
	fs.StringVar(&o.clip, "clip", "", "CLIP checkpoint the dataset's features came from")
	fs.StringVar(&o.vocab, "vocab", "", "BPE vocabulary for OpenAI CLIP models")
	fs.StringVar(&o.out, "out", "run", "output folder: checkpoint, log, samples, loss plot")
	fs.StringVar(&o.resume, "resume", "", "checkpoint to continue from (\"auto\": OUT/checkpoint.safetensors)")
	fs.IntVar(&o.batch, "batch", 16, "batch size")
	fs.IntVar(&o.res, "res", 0, "training resolution: the dataset's (0), else it must match it (set by lafite dataset --res)")
	fs.Float64Var(&o.kimg, "kimg", 25000, "train until this many thousand images have been shown (the reference: 25000)")
	fs.Float64Var(&o.snapKimg, "snap", 1, "checkpoint and sample grid every this many kimg")
	fs.Var(&o.prompts, "prompt", "prompt for the periodic sample grid (repeatable)")
	fs.StringVar(&o.inception, "inception", "", "with --metrics: also each snapshot's FID and IS (Inception weights, as for 'lafite eval')")
	fs.IntVar(&o.metrics, "metrics", 0, "at every snapshot, score G_ema on this many images as 'lafite eval' does, into log.jsonl (0: off)")
	var glr, dlr, gamma, itd, itc, temp, lam, mix, pl, styleMix, ema, perturb float64
	fs.Float64Var(&glr, "glr", 0.0025, "generator learning rate")
	fs.Float64Var(&dlr, "dlr", 0.0025, "discriminator learning rate")
	fs.Float64Var(&gamma, "gamma", 10, "R1 weight γ")
	fs.Float64Var(&itd, "itd", 10, "weight of the discriminator-feature contrastive loss")
	fs.Float64Var(&itc, "itc", 10, "weight of the CLIP contrastive loss")
	fs.Float64Var(&temp, "temp", 0.5, "contrastive temperature τ")
	fs.Float64Var(&lam, "lam", 0, "contrastive direction mix (0: image-to-text softmax over dim 0)")
	fs.BoolVar(&c.Loss.PlainContrastive, "plain-contrastive", false, "paper's softmax(S/τ) instead of the reference's exp-sharpened form")
	fs.Float64Var(&mix, "mixing-prob", 1, "probability of the image pseudo text feature per sample (1 = language-free)")
	fs.Float64Var(&o.ratio, "ratio", 1, "fraction of images whose captions may be used (semi-supervision)")
	fs.Float64Var(&pl, "pl-weight", 2, "path-length regularization weight (0: off)")
	fs.Float64Var(&styleMix, "style-mixing", 0.9, "style mixing probability")
	fs.Float64Var(&ema, "ema", -1, "G EMA half-life in kimg (-1: batch*10/32)")
	fs.Float64Var(&c.EMARampup, "ema-rampup", 0.05, "EMA ramp-up (0: off)")
	fs.BoolVar(&c.Mirror, "mirror", false, "random x-flips (off by default, as the reference)")
	fs.Uint64Var(&c.Seed, "seed", 0, "random seed")
	fs.Float64Var(&perturb, "trainable-perturb", 0, "Lafite-NN learned perturbation with this target cosine (0: fixed)")
	var imgA, xi float64
	fs.Float64Var(&imgA, "perturb-a", 0.75, "fixed perturbation of image features: h' = norm((1-a)f + a ε/|ε|)")
	fs.Float64Var(&xi, "xi", -1, "the paper's noise level ξ instead of --perturb-a (a = ξ/(1+ξ))")
	fs.IntVar(&c.G.ZDim, "z-dim", 512, "latent size")
	fs.IntVar(&c.G.WDim, "w-dim", 512, "intermediate latent size")
	fs.IntVar(&c.G.MappingLayers, "map-layers", 8, "mapping network depth")
	fs.IntVar(&c.G.ChannelBase, "channel-base", 32768, "channels at resolution r: min(base/r, max)")
	fs.IntVar(&c.G.ChannelMax, "channel-max", 512, "")
	fs.IntVar(&c.D.MbstdGroup, "mbstd-group", 4, "minibatch-std group size")
	fs.BoolVar(&o.quiet, "quiet", false, "no progress bar")
	device := fs.String("device", "cpu", "where to train: cpu, or cuda (networks, optimizer and CLIP on the GPU)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	dev, err := parseDevice(*device)
	if err != nil {
		return o, err
	}
	o.device = dev
	if o.data == "" {
		return o, fmt.Errorf("--data is required (build it with `lafite dataset`)")
	}
	if o.batch < 1 || o.kimg <= 0 || o.snapKimg <= 0 {
		return o, fmt.Errorf("--batch, --kimg and --snap must be positive")
	}
	if o.metrics < 0 || o.metrics == 1 {
		return o, fmt.Errorf("--metrics %d: 0 (off) or at least 2 images", o.metrics)
	}
	if o.inception != "" && o.metrics == 0 {
		return o, fmt.Errorf("--inception goes with --metrics N (the images each snapshot scores)")
	}
	if o.res < 0 {
		return o, fmt.Errorf("--res %d must be 0 (the dataset's) or the dataset's resolution", o.res)
	}
	c.Batch, c.GLR, c.DLR = o.batch, float32(glr), float32(dlr)
	c.Loss.R1Gamma, c.Loss.ITD, c.Loss.ITC, c.Loss.Temp, c.Loss.Lam = float32(gamma), float32(itd), float32(itc), float32(temp), float32(lam)
	c.Loss.PLWeight, c.Loss.StyleMixProb = float32(pl), float32(styleMix)
	c.PseudoText.MixingProb, c.PseudoText.ImageA = float32(mix), float32(imgA)
	if xi >= 0 {
		c.PseudoText.ImageA = lafite.XiToA(float32(xi))
	}
	c.EMAKimg = float64(o.batch) * 10 / 32
	if ema >= 0 {
		c.EMAKimg = ema
	}
	c.TrainablePerturbation = float32(perturb)
	c.D.ChannelBase, c.D.ChannelMax = c.G.ChannelBase, c.G.ChannelMax
	return o, nil
}

func train(o trainOptions, stdout io.Writer) error {
	if o.device == tensor.CUDA { // before loading anything
		if err := requireCUDA(); err != nil {
			return err
		}
	}
	ds, err := lafite.LoadDataset(o.data)
	if err != nil {
		return err
	}
	_, res, _ := ds.ImageShape()
	if o.res != 0 && o.res != res {
		return fmt.Errorf("--res %d, but %s holds %dx%d images: rebuild it with lafite dataset --res %d", o.res, o.data, res, res, o.res)
	}
	ds.CaptionRatio = o.ratio
	if err := ds.Index(); err != nil {
		return err
	}
	enc, err := lafite.OpenCLIP(o.clip, o.vocab)
	if err != nil {
		return err
	}
	if fd := ds.ImageFts.Size(1); fd != enc.FeatureDim() {
		return fmt.Errorf("dataset features have size %d but the CLIP model's are %d: use the model the dataset was built with", fd, enc.FeatureDim())
	}
	c := o.cfg
	c.G.Resolution, c.D.Resolution = res, res
	c.G.FDim, c.D.FDim = enc.FeatureDim(), enc.FeatureDim()
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return err
	}
	ckptPath := filepath.Join(o.out, "checkpoint.safetensors")
	// A run killed while writing leaves its temporary file; it never replaced
	// the checkpoint, so it is only litter.
	if stale, _ := filepath.Glob(filepath.Join(o.out, ".checkpoint.safetensors.tmp-*")); len(stale) > 0 {
		for _, f := range stale {
			os.Remove(f)
		}
	}
	var tr *lafite.Trainer
	resume := o.resume
	if resume == "auto" {
		resume = ""
		if _, err := os.Stat(ckptPath); err == nil {
			resume = ckptPath
		}
	}
	if resume == "" {
		// A new run would replace the last one's checkpoint at its first
		// snapshot: that run's training is kept unless asked otherwise.
		if _, err := os.Stat(ckptPath); err == nil {
			return fmt.Errorf("%s holds an earlier run's checkpoint: continue it with --resume auto, or train into another --out (remove the file to start over there)", ckptPath)
		}
	}
	if resume != "" {
		if tr, err = lafite.LoadCheckpoint(resume, ds, enc.ImageFeatures()); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "resumed from %s at step %d (%.2f kimg)\n", resume, tr.Step, float64(tr.ImagesSeen)/1000)
	} else if tr, err = lafite.NewTrainer(c, ds, enc.ImageFeatures()); err != nil {
		return err
	}
	if o.device != tensor.CPU { // a checkpoint always loads on the host
		tr.To(o.device)
		enc.Model.To(o.device) // the parameters and the text causal mask
	}
	prompts := []string(o.prompts)
	if len(prompts) == 0 {
		prompts = defaultPrompts(ds.Captions)
	}
	var promptFts *tensor.Tensor
	if len(prompts) > 0 {
		scope := tensor.OpenScope() // the text tower's GPU temporaries; the features stay
		promptFts, err = enc.EncodeTexts(prompts)
		scope.Close(promptFts)
		if err != nil {
			fmt.Fprintf(stdout, "no sample prompts: %v\n", err)
			prompts = nil
		}
	}

	// SIGINT/SIGTERM finish the step in flight, write a checkpoint, then stop.
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(stop)

	totalImgs := int64(o.kimg * 1000)
	snapImgs := int64(o.snapKimg * 1000)
	var bar *progressbar.ProgressBar
	if !o.quiet {
		bar = newProgressBar(totalImgs, "train")
		bar.Set64(tr.ImagesSeen)
	}
	start := time.Now()
	startImgs := tr.ImagesSeen
	nextSnap := (tr.ImagesSeen/snapImgs + 1) * snapImgs
	logPath := filepath.Join(o.out, "log.jsonl")
	snapEval := lafite.EvalOptions{Samples: o.metrics} // what each snapshot scores, with --metrics
	snapshot := func() error {
		if err := tr.Save(ckptPath); err != nil {
			return err
		}
		if prompts != nil {
			if err := writeSamples(tr, prompts, promptFts, filepath.Join(o.out, fmt.Sprintf("samples-%06d.png", tr.Step))); err != nil {
				return err
			}
		}
		if recs, err := lafite.ReadLog(logPath); err == nil && len(recs) > 1 {
			if err := lafite.PlotLosses(recs, filepath.Join(o.out, "losses.png")); err != nil {
				return err
			}
			if o.metrics > 0 {
				if err := lafite.PlotMetrics(recs, filepath.Join(o.out, "metrics.png")); err != nil {
					return err
				}
			}
			if snapEval.Inception != nil {
				if err := lafite.PlotInceptionMetrics(recs, filepath.Join(o.out, "inception.png")); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if o.metrics > 0 { // the dataset's statistics, for every snapshot
		s, err := metrics.TensorStats(ds.ImageFts)
		if err != nil {
			return fmt.Errorf("%s: %v", o.data, err)
		}
		snapEval.RealStats = &s
	}
	if o.inception != "" {
		if snapEval.Inception, err = inception.Load(o.inception); err != nil {
			return err
		}
		snapEval.Inception.To(o.device)
		if snapEval.InceptionReal, err = datasetInceptionStats(snapEval.Inception, ds, o.data, o.inception,
			o.data+".inception.safetensors", o.batch, o.quiet, stdout); err != nil {
			return err
		}
	}
	// The checkpoint this run resumed from or last wrote, and its step.
	lastSaved, lastPath := -1, resume
	if resume != "" {
		lastSaved = tr.Step
	}
	for tr.ImagesSeen < totalImgs {
		parts, err := tr.TrainStep()
		var diverged *lafite.DivergedError
		if errors.As(err, &diverged) {
			// The weights are NaN by now: writing them would replace the
			// last good checkpoint, so nothing more is written.
			saved := "no checkpoint was written before it"
			if lastSaved >= 0 {
				saved = fmt.Sprintf("%s (step %d) is kept as it was", lastPath, lastSaved)
			}
			return fmt.Errorf("%v; %s: lower the learning rates (--glr, --dlr) or raise --gamma, then continue with --resume auto", err, saved)
		}
		if err != nil {
			return err
		}
		secs := time.Since(start).Seconds()
		rate := float64(tr.ImagesSeen-startImgs) / max(secs, 1e-9)
		rec := lafite.LogRecord{Step: tr.Step, Kimg: float64(tr.ImagesSeen) / 1000, Seconds: secs, ImgPerSec: rate, Losses: parts}
		interrupted := false
		select {
		case <-stop:
			interrupted = true
		default:
		}
		snap := tr.ImagesSeen >= nextSnap || tr.ImagesSeen >= totalImgs || interrupted
		if snap && o.metrics > 0 {
			if rec.Metrics, err = snapshotMetrics(tr, ds.MemoryDataset, enc, snapEval); err != nil {
				return err
			}
		}
		if err := lafite.AppendLog(logPath, rec); err != nil {
			return err
		}
		if bar != nil {
			bar.Describe(fmt.Sprintf("%.2f kimg %.1f img/s %s", rec.Kimg, rate, summarize(parts)))
			bar.Set64(tr.ImagesSeen)
		}
		if snap {
			if err := snapshot(); err != nil {
				return err
			}
			lastSaved, lastPath = tr.Step, ckptPath
			nextSnap += snapImgs
		}
		if interrupted {
			fmt.Fprintf(stdout, "\ninterrupted: checkpoint written at step %d; continue with --resume auto\n", tr.Step)
			return nil
		}
	}
	if bar != nil {
		bar.Finish()
	}
	gpath := filepath.Join(o.out, "generator.safetensors")
	if err := lafite.SaveGenerator(gpath, tr.GEma, tr.Cfg); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\ndone: %d steps, %.1f kimg in %s; wrote %s, %s, %s\n", tr.Step, float64(tr.ImagesSeen)/1000,
		time.Since(start).Round(time.Second), ckptPath, gpath, logPath)
	return nil
}

// snapshotMetrics scores G_ema as `lafite eval` does with o (seed 0: the
// same latents and conditions at every snapshot); on a GPU its
// temporaries are freed on return.
func snapshotMetrics(tr *lafite.Trainer, ds *lafite.MemoryDataset, enc lafite.FeatureEncoder, o lafite.EvalOptions) (map[string]float64, error) {
	scope := tensor.OpenScope()
	defer scope.Close()
	o.Batch, o.Psi = tr.Cfg.Batch, 1
	r, err := lafite.Evaluate(tr.GEma, ds, enc, o)
	if err != nil {
		return nil, fmt.Errorf("snapshot metrics: %v", err)
	}
	m := map[string]float64{"fid_clip": r.FIDCLIP, "clip_score": r.CLIPScore, "shuffled_clip_score": r.ShuffledCLIPScore}
	if !math.IsNaN(r.FID) {
		m["fid"] = r.FID
	}
	if !math.IsNaN(r.IS) {
		m["is"] = r.IS
	}
	return m, nil
}

func summarize(parts lafite.Parts) string {
	keys := []string{"G/loss", "D/loss"}
	var b strings.Builder
	for _, k := range keys {
		if v, ok := parts[k]; ok {
			fmt.Fprintf(&b, " %s %.3f", k, v)
		}
	}
	return b.String()
}

// defaultPrompts picks up to 4 distinct captions of the dataset.
func defaultPrompts(caps []string) []string {
	seen := map[string]bool{}
	var out []string
	sorted := append([]string(nil), caps...)
	sort.Strings(sorted)
	for _, c := range sorted {
		if !seen[c] && len(out) < 4 {
			seen[c] = true
			out = append(out, c)
		}
	}
	return out
}

// writeSamples renders the grid with G_ema wherever it lives (Generate moves
// the prompt features there); on a GPU its temporaries are freed on return.
func writeSamples(tr *lafite.Trainer, prompts []string, fts *tensor.Tensor, path string) error {
	if fts == nil {
		return errors.New("no prompt features")
	}
	scope := tensor.OpenScope()
	defer scope.Close()
	const perPrompt = 6
	var cells []*image.RGBA
	for i := range prompts { // the same latents in every row: only the prompt changes
		img, err := lafite.Generate(tr.GEma, tensor.Concat(repeatRows(fts.Narrow(0, i, 1), perPrompt), 0), 1234, 1)
		if err != nil {
			return err
		}
		cells = append(cells, lafite.TensorToImages(img)...)
	}
	g := lafite.Grid{Images: cells, Cols: perPrompt, Cell: max(64, tr.Cfg.G.Resolution), RowTitles: prompts}
	return lafite.WritePNG(path, g.Render())
}
