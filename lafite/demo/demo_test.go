package demo

import (
	"bytes"
	"context"
	"errors"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// tinyRecipe runs the whole pipeline in seconds: every model far too small
// and too briefly trained to be good, but every stage exercised.
func tinyRecipe() Recipe {
	r := DefaultRecipe()
	r.Judge.Steps, r.Judge.Batch, r.Judge.EvalImages, r.Judge.EvalRes = 4, 8, 48, []int{32}
	r.CLIP.Train.Steps, r.CLIP.Batch = 3, 8
	r.Generator.Steps, r.Generator.Images, r.Generator.Batch, r.Generator.Channels, r.Generator.Latent = 3, 32, 4, 8, 8
	r.SnapshotEvery = 2
	return r
}

var headline = regexp.MustCompile(`^joint accuracy: \d+\.\d% \(chance 2\.1%, shuffled-prompt baseline \d+\.\d%\)$`)

func TestReproduceAndRunEndToEnd(t *testing.T) {
	dir := t.TempDir()
	var out, progress bytes.Buffer
	m, err := Reproduce(context.Background(), tinyRecipe(), dir, &out, &progress)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"judge.safetensors", "miniclip.safetensors", "generator.safetensors", "generator-step2.safetensors"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Fatalf("Reproduce did not write %s", f)
		}
	}
	if !regexp.MustCompile(`(?s)mini-CLIP: \d+ steps in \S+; zero-shot.*\ngenerator: trained to step \d+ in `).MatchString(out.String()) || !strings.Contains(out.String(), "pseudo-text perturbation a =") {
		t.Fatalf("summary:\n%s", out.String())
	}
	// The saved models load back and give the same report as the in-memory ones.
	loaded, err := LoadModels(filepath.Join(dir, "miniclip.safetensors"), filepath.Join(dir, "generator.safetensors"), filepath.Join(dir, "judge.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	o := EvalOptions{PerPrompt: 2, Seed: 3, Psi: 1, RealSeed: 5}
	var table bytes.Buffer
	grid := filepath.Join(dir, "demo.png")
	r1, err := Run(m, grid, o, &table)
	if err != nil {
		t.Fatal(err)
	}
	r2, err := Run(loaded, grid, o, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if r1.Joint != r2.Joint || r1.FID != r2.FID {
		t.Fatalf("reloaded models disagree: joint %v vs %v, FID %v vs %v", r1.Joint, r2.Joint, r1.FID, r2.FID)
	}
	lines := strings.Split(strings.TrimSpace(table.String()), "\n")
	if last := lines[len(lines)-1]; !headline.MatchString(last) {
		t.Fatalf("last line %q is not the headline", last)
	}
	if len(r1.PerPrompt) != 48 || r1.Chance != 1.0/48 {
		t.Fatalf("%d prompts, chance %v", len(r1.PerPrompt), r1.Chance)
	}
	f, err := os.Open(grid)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil || img.Bounds().Dx() < 8*96 {
		t.Fatalf("grid: %v, %v", err, img.Bounds())
	}
}

// Continuing a run to more steps gives the generator a run of that length
// from scratch gives, bit for bit.
func TestContinueEqualsALongerRun(t *testing.T) {
	short, long := tinyRecipe(), tinyRecipe()
	short.Generator.Steps, long.Generator.Steps = 2, 4
	dirA, dirB := t.TempDir(), t.TempDir()
	var sink bytes.Buffer
	if _, err := Reproduce(context.Background(), short, dirA, &sink, &sink); err != nil {
		t.Fatal(err)
	}
	if _, err := Continue(context.Background(), long, dirA, &sink, &sink); err != nil {
		t.Fatal(err)
	}
	if _, err := Reproduce(context.Background(), long, dirB, &sink, &sink); err != nil {
		t.Fatal(err)
	}
	a, err := os.ReadFile(filepath.Join(dirA, "generator.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dirB, "generator.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Fatal("generator continued from step 2 to 4 differs from a 4-step run")
	}
	// Asking for fewer steps than the checkpoint holds is an error naming it.
	if _, err := Continue(context.Background(), short, dirA, &sink, &sink); err == nil || !strings.Contains(err.Error(), "step 4") {
		t.Fatalf("continuing to 2 steps from step 4: %v", err)
	}
}

// A run stopped through its context mid-way through the generator's training
// leaves a trainer checkpoint that Continue takes to the same generator, bit
// for bit, as an uninterrupted run; stopped before the generator, it says
// there is nothing to continue from.
func TestInterruptedRunContinuesToTheSameGenerator(t *testing.T) {
	r := tinyRecipe()
	r.Generator.Steps, r.SnapshotEvery = 5, 0
	dirA, dirB := t.TempDir(), t.TempDir()
	var sink bytes.Buffer
	ctx, cancel := context.WithCancel(context.Background())
	afterGeneratorStep = func(step int) {
		if step == 3 {
			cancel()
		}
	}
	_, err := Reproduce(ctx, r, dirA, &sink, &sink)
	afterGeneratorStep = nil
	var stop *Interrupted
	if !errors.As(err, &stop) || stop.Step != 3 || stop.Steps != 5 {
		t.Fatalf("stopped after step 3: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dirA, trainerFile)); err != nil {
		t.Fatalf("no trainer checkpoint after the stop: %v", err)
	}
	if _, err := Continue(context.Background(), r, dirA, &sink, &sink); err != nil {
		t.Fatal(err)
	}
	if _, err := Reproduce(context.Background(), r, dirB, &sink, &sink); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"generator.safetensors", trainerFile} {
		a, errA := os.ReadFile(filepath.Join(dirA, f))
		b, errB := os.ReadFile(filepath.Join(dirB, f))
		if errA != nil || errB != nil || !bytes.Equal(a, b) {
			t.Errorf("%s of the interrupted and continued run differs from the uninterrupted one (%v, %v)", f, errA, errB)
		}
	}

	done, cancelAll := context.WithCancel(context.Background())
	cancelAll()
	dirC := t.TempDir()
	_, err = Reproduce(done, r, dirC, &sink, &sink)
	if !errors.As(err, &stop) || stop.Step != 0 || !strings.Contains(err.Error(), "nothing to continue from") {
		t.Fatalf("stopped before the generator: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dirC, trainerFile)); err == nil {
		t.Error("a trainer checkpoint written though the generator never trained")
	}
}
