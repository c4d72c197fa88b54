package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/lafite-go/lafite/lafite/demo"
)

func init() {
	register("demo", "the built-in default: text-to-image on a shapes world, trained language-free (no arguments needed)", runDemo)
}

func runDemo(args []string, stdout io.Writer) error {
	fs := newFlags("demo", os.Stderr)
	train := fs.Bool("train", false, "reproduce the bundled models from scratch (judge, mini-CLIP, generator) before evaluating")
	out := fs.String("out", "out", "output folder (demo.png; with --train the trained models)")
	perPrompt := fs.Int("n", 4, "images per prompt")
	seed := fs.Uint64("seed", 1, "latent seed")
	clipPath := fs.String("clip", "", "mini-CLIP bundle (default: the bundled one)")
	genPath := fs.String("generator", "", "generator (default: the bundled one)")
	judgePath := fs.String("judge", "", "judge (default: the bundled one)")
	psi := fs.Float64("psi", demo.DefaultPsi, "truncation of w towards its mean (1: none); the text condition is not truncated")
	steps := fs.Int("steps", 0, "with --train: generator steps (default: the bundled recipe's)")
	cont := fs.Bool("continue", false, "with --train: extend the run in <out>/models (its judge, mini-CLIP and trainer checkpoint) to --steps")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *perPrompt < 1 {
		return fmt.Errorf("-n must be positive")
	}
	if !(*psi > 0 && *psi <= 1) {
		return fmt.Errorf("--psi %v: want 0 < psi <= 1", *psi)
	}
	if *cont && !*train {
		return fmt.Errorf("--continue goes with --train")
	}
	if *steps < 0 {
		return fmt.Errorf("--steps %d: want a positive count (0: the recipe's)", *steps)
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	var models *demo.Models
	var err error
	if *train {
		dir := filepath.Join(*out, "models")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		recipe := demo.DefaultRecipe()
		if *steps > 0 {
			recipe.Generator.Steps = *steps
		}
		// Ctrl-C (or SIGTERM) stops the generator after the step in flight
		// with its checkpoint written; a second one quits at once.
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		sigs := make(chan os.Signal, 1)
		signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
		defer signal.Stop(sigs)
		go func() {
			select {
			case <-sigs:
				fmt.Fprintln(os.Stderr, "\nstopping: the generator after the step in flight, its checkpoint written (the judge and "+
					"mini-CLIP finish their phase first); interrupt again to quit at once")
				signal.Reset(os.Interrupt, syscall.SIGTERM) // the next one takes its default action
				cancel()
			case <-ctx.Done():
			}
		}()
		if *cont {
			models, err = demo.Continue(ctx, recipe, dir, stdout, os.Stderr)
		} else {
			models, err = demo.Reproduce(ctx, recipe, dir, stdout, os.Stderr)
		}
		var stopped *demo.Interrupted
		if errors.As(err, &stopped) {
			if stopped.Step == 0 {
				fmt.Fprintf(stdout, "\ninterrupted before the generator's training: nothing to continue from; run lafite demo --train again\n")
			} else {
				fmt.Fprintf(stdout, "\ninterrupted at generator step %d of %d: %s holds the run; continue it with lafite demo --train --continue --out %s\n",
					stopped.Step, stopped.Steps, dir, *out)
			}
			return nil
		}
		if err != nil {
			return err
		}
	} else if models, err = demo.LoadModels(*clipPath, *genPath, *judgePath); err != nil {
		return err
	}
	_, err = demo.Run(models, filepath.Join(*out, "demo.png"), demo.EvalOptions{PerPrompt: *perPrompt, Seed: *seed, Psi: float32(*psi), RealSeed: 99}, stdout)
	return err
}
