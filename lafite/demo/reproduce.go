package demo

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/lafite-go/lafite/clip"
	"github.com/lafite-go/lafite/lafite"
	"github.com/lafite-go/lafite/lafite/miniclip"
	"github.com/lafite-go/lafite/lafite/shapes"
)

// Recipe is everything `lafite demo --train` does, with the seeds and sizes
// of the bundled models.
type Recipe struct {
	Judge     shapes.JudgeConfig
	JudgeSeed uint64
	CLIP      miniclip.Options
	Generator GeneratorOptions
	// SnapshotEvery writes generator-stepN.safetensors every that many
	// generator steps (0: only the final generator).
	SnapshotEvery int
}

// DefaultRecipe reproduces the bundled models.
func DefaultRecipe() Recipe {
	return Recipe{Judge: shapes.DefaultJudgeConfig(), JudgeSeed: 1, CLIP: miniclip.DefaultOptions(), Generator: DefaultGeneratorOptions(),
		SnapshotEvery: 1000}
}

func bar(w io.Writer, total int, what string) *progressbar.ProgressBar {
	return progressbar.NewOptions(total, progressbar.OptionSetWriter(w), progressbar.OptionSetDescription(what),
		progressbar.OptionShowCount(), progressbar.OptionSetPredictTime(true), progressbar.OptionThrottle(200*time.Millisecond),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }))
}

// Reproduce trains the judge, the mini-CLIP and the generator from scratch
// into dir (judge.safetensors, miniclip.safetensors, generator.safetensors),
// with progress bars on progress and a summary of each model on out.
//
// When ctx ends, the generator stops after the step in flight with its
// trainer checkpoint written, and Reproduce returns an *Interrupted that
// Continue picks up from; before the generator's training (the judge and
// mini-CLIP take about two minutes) there is nothing to keep.
func Reproduce(ctx context.Context, r Recipe, dir string, out, progress io.Writer) (*Models, error) {
	m := &Models{}
	start := time.Now()

	b := bar(progress, r.Judge.Steps, "judge")
	judge, js := shapes.TrainJudge(r.Judge, r.JudgeSeed, func(step, steps int, loss float64) { b.Set(step) })
	b.Finish()
	if err := judge.Save(filepath.Join(dir, "judge.safetensors")); err != nil {
		return nil, err
	}
	m.Judge = judge
	fmt.Fprintf(out, "judge: %d steps in %s; held-out accuracy %v\n", js.Steps, js.TrainTime.Round(time.Second), js.Accuracy)
	if ctx.Err() != nil {
		return nil, &Interrupted{Steps: r.Generator.Steps}
	}

	b = bar(progress, r.CLIP.Train.Steps, "mini-CLIP")
	phase := time.Now()
	cm, tok, err := miniclip.Train(r.CLIP, func(step, steps int, loss float64) { b.Set(step) })
	b.Finish()
	if err != nil {
		return nil, err
	}
	clipPath := filepath.Join(dir, "miniclip.safetensors")
	if err := clip.SaveBundle(clipPath, cm, tok); err != nil {
		return nil, err
	}
	m.CLIP = lafite.NewCLIPEncoder(cm, tok)
	rep, err := miniclip.Evaluate(cm, tok, 960)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(out, "mini-CLIP: %d steps in %s; zero-shot on 960 held-out images: joint %.1f%%, shape %.1f%%, colour %.1f%%; cos(image, caption) %.3f (others %.3f)\n",
		r.CLIP.Train.Steps, time.Since(phase).Round(time.Second), 100*rep.Accuracy, 100*rep.AttributeAccuracy[0], 100*rep.AttributeAccuracy[1], rep.TrueCosine, rep.OtherCosine)

	if ctx.Err() != nil {
		return nil, &Interrupted{Steps: r.Generator.Steps}
	}
	g := r.Generator
	g.TrueCos = float32(rep.TrueCosine)
	fmt.Fprintf(out, "generator: language-free (images only); pseudo-text perturbation a = %.3f for cos %.3f\n",
		lafite.PerturbationForCosine(g.TrueCos), g.TrueCos)
	phase = time.Now()
	tr, err := trainGenerator(ctx, r, g, m.CLIP, dir, "", progress)
	if err != nil {
		return nil, err
	}
	m.Generator = tr.GEma
	fmt.Fprintf(out, "generator: trained to step %d in %s\n", tr.Step, time.Since(phase).Round(time.Second))
	fmt.Fprintf(out, "trained everything in %s\n", time.Since(start).Round(time.Second))
	return m, nil
}

// Continue extends the generator of an earlier Reproduce in dir (its judge,
// mini-CLIP and trainer checkpoint) to r.Generator.Steps, with the same
// snapshots and files; the result equals a Reproduce run of that length.
// It stops on ctx as Reproduce does.
func Continue(ctx context.Context, r Recipe, dir string, out, progress io.Writer) (*Models, error) {
	start := time.Now()
	m := &Models{}
	var err error
	if m.CLIP, err = lafite.OpenCLIP(filepath.Join(dir, "miniclip.safetensors"), ""); err != nil {
		return nil, err
	}
	if m.Judge, err = shapes.LoadJudge(filepath.Join(dir, "judge.safetensors")); err != nil {
		return nil, err
	}
	// The configuration (perturbation included) comes from the checkpoint.
	tr, err := trainGenerator(ctx, r, r.Generator, m.CLIP, dir, filepath.Join(dir, trainerFile), progress)
	if err != nil {
		return nil, err
	}
	m.Generator = tr.GEma
	fmt.Fprintf(out, "continued the generator to step %d in %s\n", tr.Step, time.Since(start).Round(time.Second))
	return m, nil
}

// trainerFile is the generator's full training state, for Continue.
const trainerFile = "trainer.safetensors"

// Interrupted is Reproduce's and Continue's error when their context ended
// the run: after Step of Steps generator steps, with the trainer checkpoint
// written when Step > 0.
type Interrupted struct{ Step, Steps int }

func (e *Interrupted) Error() string {
	if e.Step == 0 {
		return "interrupted before the generator's training: nothing to continue from"
	}
	return fmt.Sprintf("interrupted at generator step %d of %d; the trainer checkpoint is written: continue with --continue", e.Step, e.Steps)
}

// afterGeneratorStep, when set, is called after each generator step (tests:
// a stop at a chosen step).
var afterGeneratorStep func(step int)

// trainGenerator trains (or, from checkpoint, continues) the generator with a
// progress bar and snapshots, then writes generator.safetensors and the
// trainer checkpoint into dir. The checkpoint is also written with each
// snapshot, so that a run cut off without warning loses at most the steps
// since, and when ctx ends, after the step in flight.
func trainGenerator(ctx context.Context, r Recipe, g GeneratorOptions, enc *lafite.CLIPEncoder, dir, checkpoint string, progress io.Writer) (*lafite.Trainer, error) {
	b := bar(progress, g.Steps, "Lafite")
	trainerPath := filepath.Join(dir, trainerFile)
	step := func(tr *lafite.Trainer, _ lafite.Parts) error {
		b.Set(tr.Step)
		if afterGeneratorStep != nil {
			afterGeneratorStep(tr.Step)
		}
		// Snapshots of G_ema along the way, to look at (or evaluate with
		// lafite demo --generator) how prompt following grows.
		snapshot := r.SnapshotEvery > 0 && tr.Step%r.SnapshotEvery == 0 && tr.Step < g.Steps
		stop := ctx.Err() != nil && tr.Step < g.Steps
		if snapshot {
			if err := lafite.SaveGenerator(filepath.Join(dir, fmt.Sprintf("generator-step%d.safetensors", tr.Step)), tr.GEma, tr.Cfg); err != nil {
				return err
			}
		}
		if snapshot || stop {
			if err := tr.Save(trainerPath); err != nil {
				return err
			}
		}
		if stop {
			return &Interrupted{Step: tr.Step, Steps: g.Steps}
		}
		return nil
	}
	var tr *lafite.Trainer
	var err error
	if checkpoint == "" {
		tr, err = TrainGenerator(enc, g, step)
	} else {
		tr, err = ContinueGenerator(enc, g, checkpoint, step)
	}
	if err != nil {
		b.Exit() // the bar stays where the run stopped
		return nil, err
	}
	b.Finish()
	if err := lafite.SaveGenerator(filepath.Join(dir, "generator.safetensors"), tr.GEma, tr.Cfg); err != nil {
		return nil, err
	}
	return tr, tr.Save(trainerPath)
}
