package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

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
		if *cont {
			models, err = demo.Continue(recipe, dir, stdout, os.Stderr)
		} else {
			models, err = demo.Reproduce(recipe, dir, stdout, os.Stderr)
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
