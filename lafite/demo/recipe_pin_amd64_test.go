//go:build amd64 && !amd64.v3

// The hashes below are of amd64 arithmetic as the Go compiler emits it by
// default; with GOAMD64=v3 (and on other architectures) it may fuse a*b + c
// in the scalar code, which changes the last bits, so the file is left out.

package demo

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"

	"github.com/lafite-go/lafite/clip"
	"github.com/lafite-go/lafite/kernels/cpu"
	"github.com/lafite-go/lafite/lafite/miniclip"
	"github.com/lafite-go/lafite/lafite/shapes"
)

// recipeHashes are the first 16 hex digits of the SHA-256 of the files a
// short run of each part of the demo recipe writes, per kernel variant,
// recorded with the code that made the bundled models (lafite/demo/assets,
// cd5edad). Checked against history: the trainer's hash changes at fb091a3
// and 91241bf, the mini-CLIP's at f203c68 (its rare float64 ties need the
// 200 steps; 100 did not show them), the commits that made the bundle stale.
var recipeHashes = map[string]map[string]string{
	cpu.VariantAVX512:  {"judge": "68df0c19d2c1bcfb", "miniclip": "4482d490df868630", "trainer": "d8dc3b587fbf0b58"},
	cpu.VariantAVX2:    {"judge": "351a886c6c5acabd", "miniclip": "fb33681e250fff39", "trainer": "d2657fb79427c9f3"},
	cpu.VariantGeneric: {"judge": "9a3147850bd65375", "miniclip": "41e0a8d8b36c0f75", "trainer": "ff0feca54c5cac85"},
}

// The bundled models are only as reproducible as the arithmetic that made
// them: a GAN amplifies a change in the last bit of one step into another
// generator, so any change to what a training step computes means that
// `lafite demo --train` no longer writes the bundle. Short runs of the
// recipe's three trainings (the judge 20 steps, the mini-CLIP 200 with its
// text tower unlocked half-way, the generator its first three steps, which
// include R1) hash what they write, under every variant this CPU runs; a
// change in any kernel, op or loss they reach shows here, not after a
// 30-minute retraining.
func TestRecipeArithmeticIsTheBundles(t *testing.T) {
	prev := cpu.ActiveVariant()
	defer cpu.UseVariant(prev)
	for _, v := range cpu.Variants() {
		if err := cpu.UseVariant(v); err != nil {
			t.Fatal(err)
		}
		got := recipeRunHashes(t)
		for part, h := range got {
			if want := recipeHashes[v][part]; h != want {
				t.Errorf("%s: the %s's short run hashes %s, recorded %q. The training arithmetic changed, so the bundled models "+
					"no longer come out of `lafite demo --train`: retrain them (README, \"How this bundle was made\"; lafite/demo/NOTES.md) and record the "+
					"hashes this test prints for every variant; keeping the old bundle instead, say in the README which code made it",
					v, part, h, want)
			}
		}
	}
}

func recipeRunHashes(t *testing.T) map[string]string {
	dir := t.TempDir()
	out := map[string]string{}
	hash := func(part, path string) {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		out[part] = hex.EncodeToString(sum[:8])
	}

	jc := shapes.DefaultJudgeConfig()
	jc.Steps, jc.EvalImages = 20, 32
	judge, _ := shapes.TrainJudge(jc, 1, nil)
	if err := judge.Save(filepath.Join(dir, "judge.safetensors")); err != nil {
		t.Fatal(err)
	}
	hash("judge", filepath.Join(dir, "judge.safetensors"))

	co := miniclip.DefaultOptions()
	co.Train.Steps, co.Train.LockTextSteps = 200, 100
	cm, tok, err := miniclip.Train(co, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := clip.SaveBundle(filepath.Join(dir, "miniclip.safetensors"), cm, tok); err != nil {
		t.Fatal(err)
	}
	hash("miniclip", filepath.Join(dir, "miniclip.safetensors"))

	// The generator learns from the bundled mini-CLIP, as the recipe's does
	// (the recipe's is byte-identical to it), with the cosine the recipe
	// measures on it.
	m, err := LoadModels("", "", "")
	if err != nil {
		t.Fatal(err)
	}
	rep, err := miniclip.Evaluate(m.CLIP.Model, m.CLIP.Tokenizer, 960)
	if err != nil {
		t.Fatal(err)
	}
	g := DefaultGeneratorOptions()
	g.Steps, g.TrueCos = 3, float32(rep.TrueCosine)
	tr, err := TrainGenerator(m.CLIP, g, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Save(filepath.Join(dir, "trainer.safetensors")); err != nil {
		t.Fatal(err)
	}
	hash("trainer", filepath.Join(dir, "trainer.safetensors"))
	return out
}
