package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"maps"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lafite-go/lafite/clip"
	"github.com/lafite-go/lafite/lafite"
	"github.com/lafite-go/lafite/safetensors"
	"github.com/lafite-go/lafite/tensor"
)

// The child mode lets a test run `lafite train` in a separate process that it
// can kill: the test binary re-executes itself with LAFITE_CLI_CHILD set.
func TestMain(m *testing.M) {
	if args := os.Getenv("LAFITE_CLI_CHILD"); args != "" {
		os.Exit(run(strings.Split(args, "\x1f"), os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

var colors = map[string]color.RGBA{"red": {220, 30, 30, 255}, "green": {30, 200, 40, 255}, "blue": {30, 40, 220, 255}}

// fixture writes a tiny CLIP bundle (random weights, word tokenizer) and an
// image folder with captions and one corrupt file.
func fixture(t *testing.T) (dir, clipPath, imgDir string) {
	t.Helper()
	dir = t.TempDir()
	imgDir = filepath.Join(dir, "images")
	if err := os.MkdirAll(imgDir, 0o755); err != nil {
		t.Fatal(err)
	}
	var corpus []string
	i := 0
	for name, col := range colors {
		for k := 0; k < 3; k++ {
			im := image.NewRGBA(image.Rect(0, 0, 20, 18))
			for y := 0; y < 18; y++ {
				for x := 0; x < 20; x++ {
					if (x-10)*(x-10)+(y-9)*(y-9) < 16+4*k {
						im.Set(x, y, col)
					} else {
						im.Set(x, y, color.RGBA{200, 200, 200, 255})
					}
				}
			}
			var b bytes.Buffer
			png.Encode(&b, im)
			base := fmt.Sprintf("img%02d", i)
			os.WriteFile(filepath.Join(imgDir, base+".png"), b.Bytes(), 0o644)
			capt := "a " + name + " circle\n" + name + " round thing\n"
			os.WriteFile(filepath.Join(imgDir, base+".txt"), []byte(capt), 0o644)
			corpus = append(corpus, strings.Split(strings.TrimSpace(capt), "\n")...)
			i++
		}
	}
	os.WriteFile(filepath.Join(imgDir, "broken.png"), []byte("not a png"), 0o644)
	tok := clip.BuildWordTokenizer(corpus, 1)
	m := clip.New(clip.Config{EmbedDim: 8, ImageResolution: 16, VisionLayers: 1, VisionWidth: 16, VisionPatch: 8, VisionHeads: 2,
		ContextLength: 8, VocabSize: tok.VocabSize(), TextWidth: 16, TextHeads: 2, TextLayers: 1}, tensor.NewRNG(1))
	clipPath = filepath.Join(dir, "clip.safetensors")
	if err := clip.SaveBundle(clipPath, m, tok); err != nil {
		t.Fatal(err)
	}
	return dir, clipPath, imgDir
}

func runCLI(t *testing.T, args ...string) string {
	t.Helper()
	var out, errb bytes.Buffer
	if code := run(args, &out, &errb); code != 0 {
		t.Fatalf("lafite %s: exit %d\n%s%s", strings.Join(args, " "), code, out.String(), errb.String())
	}
	return out.String()
}

// runCLIFailing runs a command that must fail and returns its stderr.
func runCLIFailing(t *testing.T, args ...string) string {
	t.Helper()
	var out, errb bytes.Buffer
	if code := run(args, &out, &errb); code == 0 {
		t.Fatalf("lafite %s succeeded; want a failure\n%s", strings.Join(args, " "), out.String())
	}
	return errb.String()
}

var tinyTrainFlags = []string{"--batch", "4", "--z-dim", "8", "--w-dim", "8", "--map-layers", "2", "--channel-base", "64",
	"--channel-max", "16", "--mbstd-group", "2", "--quiet"}

func TestDatasetTrainGenerateEndToEnd(t *testing.T) {
	dir, clipPath, imgDir := fixture(t)
	data := filepath.Join(dir, "data.safetensors")
	out := runCLI(t, "dataset", "--images", imgDir, "--res", "16", "--clip", clipPath, "--out", data)
	if !strings.Contains(out, "skipped broken.png") || !strings.Contains(out, "9 images") || !strings.Contains(out, "18 captions") {
		t.Fatalf("dataset output:\n%s", out)
	}
	coco := filepath.Join(dir, "captions.json")
	os.WriteFile(coco, []byte(`{"images": [{"id": 1, "file_name": "img00.png"}, {"id": 2, "file_name": "img03.png"}],
		"annotations": [{"image_id": 1, "caption": "first"}, {"image_id": 2, "caption": "second"}, {"image_id": 2, "caption": "third"}]}`), 0o644)
	out = runCLI(t, "dataset", "--images", imgDir, "--res", "16", "--clip", clipPath, "--out", filepath.Join(dir, "coco.safetensors"),
		"--coco-captions", coco, "--quiet")
	if !strings.Contains(out, "captions for 2 of the 10 images") || !strings.Contains(out, "9 images at 16x16, 3 captions") {
		t.Fatalf("dataset --coco-captions:\n%s", out)
	}
	if _, err := os.Stat(data + ".parts"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the build's parts folder outlived the saved dataset: %v", err)
	}
	if se := runCLIFailing(t, "dataset", "--images", imgDir, "--res", "4", "--clip", clipPath, "--out", filepath.Join(dir, "r4.safetensors")); !strings.Contains(se, "--res 4 must be a power of two in [8, 1024]") {
		t.Fatalf("a dataset at 4x4, which no generator trains at: %q", se)
	}
	// Parts kept for another build are refused, not mixed in; without
	// parts they are not read.
	other := filepath.Join(dir, "other.safetensors")
	os.MkdirAll(other+".parts", 0o755)
	os.WriteFile(filepath.Join(other+".parts", "build.json"), []byte(`{"format": "lafite-go dataset parts v1", "resolution": 32, "images": 19}`), 0o644)
	if se := runCLIFailing(t, "dataset", "--images", imgDir, "--res", "16", "--clip", clipPath, "--out", other, "--quiet"); !strings.Contains(se, "holds a build of other inputs (19 images at 32") {
		t.Fatalf("dataset over another build's parts: %q", se)
	}
	runCLI(t, "dataset", "--images", imgDir, "--res", "16", "--clip", clipPath, "--out", other, "--part-images", "0", "--quiet")
	if !bytes.Equal(readFile(t, data), readFile(t, other)) {
		t.Fatal("the dataset built without parts differs from the one built with them")
	}
	if out := runCLI(t, "inspect", data); !strings.Contains(out, "safetensors (lafite-go dataset v1)") ||
		!strings.Contains(out, "dataset: 9 images of 3x16x16, 18 captions, CLIP features of size 8 (clip="+clipPath+")") {
		t.Fatalf("inspect of the dataset:\n%s", out)
	}
	var stdout, stderr bytes.Buffer
	if code := run([]string{"train", "--data", data, "--clip", clipPath, "--res", "32"}, &stdout, &stderr); code == 0 ||
		!strings.Contains(stderr.String(), "holds 16x16 images") {
		t.Fatalf("train --res 32 on a 16x16 dataset: exit %d, %q", code, stderr.String())
	}
	run := filepath.Join(dir, "run")
	args := append([]string{"train", "--data", data, "--clip", clipPath, "--out", run, "--kimg", "0.016", "--snap", "0.008", "--res", "16"}, tinyTrainFlags...)
	out = runCLI(t, args...)
	if !strings.Contains(out, "done: 4 steps") {
		t.Fatalf("train output:\n%s", out)
	}
	// Every output is whole; those written through a temporary file and a
	// rename are readable by all (0644) whatever the umask, as the log is
	// under the usual one.
	for _, f := range []string{"checkpoint.safetensors", "generator.safetensors", "log.jsonl", "losses.png", "samples-000002.png", "samples-000004.png"} {
		st, err := os.Stat(filepath.Join(run, f))
		if err != nil {
			t.Fatalf("missing output %s: %v", f, err)
		}
		if f != "log.jsonl" && st.Mode().Perm() != 0o644 {
			t.Errorf("%s has mode %v, want 0644", f, st.Mode().Perm())
		}
		if strings.HasSuffix(f, ".png") {
			b, err := os.ReadFile(filepath.Join(run, f))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := png.Decode(bytes.NewReader(b)); err != nil {
				t.Errorf("%s: %v", f, err)
			}
		}
	}
	// A second run into the same folder without --resume would replace
	// this run's checkpoint: it is refused and the checkpoint kept.
	ckpt := readFile(t, filepath.Join(run, "checkpoint.safetensors"))
	if se := runCLIFailing(t, args...); !strings.Contains(se, "holds an earlier run's checkpoint: continue it with --resume auto") {
		t.Fatalf("a new run over an earlier one: %q", se)
	}
	if !bytes.Equal(ckpt, readFile(t, filepath.Join(run, "checkpoint.safetensors"))) {
		t.Fatal("the refused run changed the earlier checkpoint")
	}
	recs, err := lafite.ReadLog(filepath.Join(run, "log.jsonl"))
	if err != nil || len(recs) != 4 || recs[3].Losses["D/r1"] == 0 && recs[0].Losses["D/r1"] == 0 {
		t.Fatalf("log: %d records, err %v", len(recs), err)
	}
	if recs[1].Metrics != nil {
		t.Fatalf("metrics logged without --metrics: %v", recs[1].Metrics)
	}
	// --metrics scores G_ema at each snapshot into the log, and leaves the
	// training itself as it was: the same checkpoint, byte for byte.
	scored := filepath.Join(dir, "scored")
	runCLI(t, append([]string{"train", "--data", data, "--clip", clipPath, "--out", scored, "--kimg", "0.016", "--snap", "0.008",
		"--metrics", "6"}, tinyTrainFlags...)...)
	if a, b := readFile(t, filepath.Join(run, "checkpoint.safetensors")), readFile(t, filepath.Join(scored, "checkpoint.safetensors")); !bytes.Equal(a, b) {
		t.Fatal("--metrics changed the training")
	}
	srecs, err := lafite.ReadLog(filepath.Join(scored, "log.jsonl"))
	if err != nil || len(srecs) != 4 {
		t.Fatalf("log with metrics: %d records, err %v", len(srecs), err)
	}
	for i, r := range srecs {
		if snap := i%2 == 1; snap != (r.Metrics != nil) {
			t.Fatalf("record %d (step %d) has metrics %v", i, r.Step, r.Metrics)
		}
		if r.Metrics != nil && (!(r.Metrics["fid_clip"] > 0) || math.Abs(r.Metrics["clip_score"]) > 1) {
			t.Fatalf("record %d's metrics %v", i, r.Metrics)
		}
	}
	if _, err := png.Decode(bytes.NewReader(readFile(t, filepath.Join(scored, "metrics.png")))); err != nil {
		t.Fatalf("metrics.png: %v", err)
	}
	if _, err := os.Stat(filepath.Join(run, "metrics.png")); err == nil {
		t.Fatal("metrics.png written without --metrics")
	}
	// --inception adds each snapshot's FID and IS, plotted apart; the
	// training is still the same.
	weights, _ := filepath.Abs(filepath.Join("..", "..", "lafite", "metrics", "inception", "testdata", "tiny_inception.pth"))
	incRun := filepath.Join(dir, "scored-inception")
	runCLI(t, append([]string{"train", "--data", data, "--clip", clipPath, "--out", incRun, "--kimg", "0.016", "--snap", "0.008",
		"--metrics", "6", "--inception", weights}, tinyTrainFlags...)...)
	if !bytes.Equal(readFile(t, filepath.Join(run, "checkpoint.safetensors")), readFile(t, filepath.Join(incRun, "checkpoint.safetensors"))) {
		t.Fatal("--inception changed the training")
	}
	irecs, err := lafite.ReadLog(filepath.Join(incRun, "log.jsonl"))
	if err != nil || len(irecs) != 4 || !(irecs[1].Metrics["fid"] > 0) || !(irecs[3].Metrics["is"] > 0.999) || irecs[1].Metrics["clip_score"] != srecs[1].Metrics["clip_score"] {
		t.Fatalf("log with inception metrics: %v (%v)", irecs, err)
	}
	if _, err := png.Decode(bytes.NewReader(readFile(t, filepath.Join(incRun, "inception.png")))); err != nil {
		t.Fatalf("inception.png: %v", err)
	}
	if se := runCLIFailing(t, append([]string{"train", "--data", data, "--clip", clipPath, "--out", filepath.Join(dir, "x"), "--inception", weights}, tinyTrainFlags...)...); !strings.Contains(se, "--inception goes with --metrics") {
		t.Fatalf("--inception without --metrics: %q", se)
	}
	os.Remove(data + ".inception.safetensors") // eval below computes them again
	grid := filepath.Join(dir, "grid.png")
	out = runCLI(t, "generate", "--ckpt", filepath.Join(run, "generator.safetensors"), "--clip", clipPath,
		"--prompt", "a red circle", "--prompt", "a blue circle", "--n", "3", "--out", grid)
	f, err := os.Open(grid)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := png.Decode(f); err != nil || !strings.Contains(out, "2 prompt(s) x 3 images") {
		t.Fatalf("grid: %v\n%s", err, out)
	}
	// Rendered two images at a time, the grid is the same, byte for byte.
	inTwos := filepath.Join(dir, "grid2.png")
	each := filepath.Join(dir, "each")
	runCLI(t, "generate", "--ckpt", filepath.Join(run, "generator.safetensors"), "--clip", clipPath,
		"--prompt", "a red circle", "--prompt", "a blue circle", "--n", "3", "--batch", "2", "--out", inTwos, "--each", each)
	if !bytes.Equal(readFile(t, grid), readFile(t, inTwos)) {
		t.Fatal("generate --batch 2 drew another grid")
	}
	// --each writes every image of the grid, and which row is which prompt.
	if rows := string(readFile(t, filepath.Join(each, "rows.txt"))); rows != "000\ta red circle\n001\ta blue circle\n" {
		t.Fatalf("rows.txt: %q", rows)
	}
	names, _ := filepath.Glob(filepath.Join(each, "*.png"))
	if len(names) != 6 || filepath.Base(names[5]) != "001-0002.png" {
		t.Fatalf("--each wrote %v", names)
	}
	if im, err := png.Decode(bytes.NewReader(readFile(t, names[4]))); err != nil || im.Bounds().Dx() != 16 {
		t.Fatalf("%s: %v", names[4], err)
	}
	// Values that cannot work are refused before any image is drawn: a
	// truncation that is not a number, a mix out of range, a grid that
	// cannot fit in memory.
	for _, c := range []struct{ flag, value, want string }{
		{"--psi", "NaN", "--psi NaN must be a number"},
		{"--mix", "1.5", "--mix 1.5 in [0, 1]"},
		{"--n", "1000000000000", "more than this machine's"},
	} {
		stderr := runCLIFailing(t, "generate", "--ckpt", filepath.Join(run, "generator.safetensors"), "--clip", clipPath,
			"--prompt", "x", c.flag, c.value, "--out", filepath.Join(dir, "refused.png"))
		if !strings.Contains(stderr, c.want) {
			t.Errorf("generate %s %s: %q; want an error with %q", c.flag, c.value, stderr, c.want)
		}
	}
	// --prompts reads a file of prompts; --out "" writes no grid, only the
	// images (as they come) and rows.txt.
	promptFile := filepath.Join(dir, "prompts.txt")
	os.WriteFile(promptFile, []byte("a red circle\n\n  a blue circle \nred round thing\n"), 0o644)
	many := filepath.Join(dir, "many")
	out = runCLI(t, "generate", "--ckpt", filepath.Join(run, "generator.safetensors"), "--clip", clipPath,
		"--prompts", promptFile, "--n", "2", "--out", "", "--each", many)
	if rows := string(readFile(t, filepath.Join(many, "rows.txt"))); rows != "000\ta red circle\n001\ta blue circle\n002\tred round thing\n" ||
		!strings.Contains(out, "wrote 6 images to "+many) {
		t.Fatalf("generate --prompts: rows.txt %q, output %q", rows, out)
	}
	if !bytes.Equal(readFile(t, filepath.Join(many, "001-0001.png")), readFile(t, filepath.Join(each, "001-0001.png"))) {
		t.Fatal("the file's second prompt drew other images than --prompt did")
	}
	if se := runCLIFailing(t, "generate", "--ckpt", filepath.Join(run, "generator.safetensors"), "--clip", clipPath,
		"--prompt", "x", "--out", ""); !strings.Contains(se, "goes with --each") {
		t.Fatalf("--out \"\" without --each: %q", se)
	}
	// An image condition mixed with text also works.
	runCLI(t, "generate", "--ckpt", filepath.Join(run, "checkpoint.safetensors"), "--clip", clipPath,
		"--prompt", "a red circle", "--image", filepath.Join(imgDir, "img00.png"), "--out", grid)

	// eval scores the generator against the dataset, the same way twice.
	var reports [2]map[string]any
	for i := range reports {
		report := filepath.Join(dir, fmt.Sprintf("eval%d.json", i))
		out = runCLI(t, "eval", "--ckpt", filepath.Join(run, "generator.safetensors"), "--data", data, "--clip", clipPath,
			"--n", "10", "--batch", "4", "--seed", "3", "--json", report, "--quiet")
		if !strings.Contains(out, "10 images conditioned on the dataset's captions, against its 9 images") || !strings.Contains(out, "FID_CLIP") {
			t.Fatalf("eval output:\n%s", out)
		}
		b, err := os.ReadFile(report)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &reports[i]); err != nil {
			t.Fatalf("eval JSON: %v\n%s", err, b)
		}
	}
	r := reports[0]
	for _, k := range []string{"clip_score", "shuffled_clip_score", "real_clip_score"} {
		if v, ok := r[k].(float64); !ok || v < -1 || v > 1 {
			t.Errorf("eval %s = %v, want a cosine", k, r[k])
		}
	}
	if v, ok := r["fid_clip"].(float64); !ok || !(v > 0) || math.IsInf(v, 0) {
		t.Errorf("eval fid_clip = %v", r["fid_clip"])
	}
	if !maps.Equal(reports[0], reports[1]) {
		t.Errorf("two evaluations with one seed differ:\n%v\n%v", reports[0], reports[1])
	}
	if strings.Contains(out, "rank-deficient") {
		t.Errorf("10 images of 8 features reported as too few:\n%s", out)
	}
	// With Inception weights (the 1/16-width test network) eval adds FID
	// and IS; the dataset's statistics are computed once and kept beside
	// it, and the next run reads them to the same scores.
	var fids [2]any
	for i := range fids {
		report := filepath.Join(dir, fmt.Sprintf("inception%d.json", i))
		out = runCLI(t, "eval", "--ckpt", filepath.Join(run, "generator.safetensors"), "--data", data, "--clip", clipPath,
			"--n", "10", "--batch", "4", "--seed", "3", "--json", report, "--quiet", "--inception", weights)
		want := []string{"wrote the dataset's Inception statistics to " + data + ".inception.safetensors", "the dataset's Inception statistics: "}[i]
		if !strings.Contains(out, want) || !strings.Contains(out, "FID  ") || !strings.Contains(out, "IS  ") {
			t.Fatalf("eval --inception, run %d:\n%s", i, out)
		}
		var rec map[string]any
		if err := json.Unmarshal(readFile(t, report), &rec); err != nil {
			t.Fatal(err)
		}
		if v, ok := rec["fid"].(float64); !ok || !(v > 0) || rec["is"] == nil || rec["clip_score"] != r["clip_score"] || rec["fid_clip"] != r["fid_clip"] {
			t.Fatalf("eval --inception JSON %v; CLIP scores of the plain run %v, %v", rec, r["clip_score"], r["fid_clip"])
		}
		fids[i] = rec["fid"]
	}
	if fids[0] != fids[1] {
		t.Errorf("FID %v with the statistics computed, %v with them read back", fids[0], fids[1])
	}
	// --real-stats puts kept statistics (here those of the image folder,
	// from lafite fid) on the real side.
	folderStats := filepath.Join(dir, "folder.safetensors")
	runCLI(t, "fid", "--inception", weights, "--save-stats", folderStats, "--quiet", imgDir)
	out = runCLI(t, "eval", "--ckpt", filepath.Join(run, "generator.safetensors"), "--data", data, "--clip", clipPath,
		"--n", "10", "--batch", "4", "--seed", "3", "--quiet", "--inception", weights, "--real-stats", folderStats)
	if !strings.Contains(out, "the FID's real side: "+folderStats+" (9 images; ") || !strings.Contains(out, "against 9 real images") {
		t.Errorf("eval --real-stats:\n%s", out)
	}
	if se := runCLIFailing(t, "eval", "--ckpt", filepath.Join(run, "generator.safetensors"), "--data", data, "--clip", clipPath,
		"--real-stats", folderStats); !strings.Contains(se, "go with --inception") {
		t.Errorf("--real-stats without --inception: %q", se)
	}
	if se := runCLIFailing(t, "eval", "--ckpt", filepath.Join(run, "generator.safetensors"), "--data", data, "--clip", clipPath,
		"--n", "10", "--quiet", "--inception", weights, "--inception-stats", data+".inception.safetensors", "--data", other); !strings.Contains(se, "holds the Inception statistics of") {
		t.Errorf("statistics of another dataset: %q", se)
	}
	if out := runCLI(t, "eval", "--ckpt", filepath.Join(run, "generator.safetensors"), "--data", data, "--clip", clipPath,
		"--n", "4", "--quiet"); !strings.Contains(out, "from 4 generated and 9 real images, at most the feature size 8") {
		t.Errorf("eval of 4 images does not warn of the biased FID:\n%s", out)
	}
}

func TestCLIErrorsNameTheProblem(t *testing.T) {
	dir, clipPath, _ := fixture(t)
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"train"}, "--data is required"},
		{[]string{"train", "--data", filepath.Join(dir, "nope.safetensors"), "--clip", clipPath}, "nope.safetensors"},
		{[]string{"dataset", "--images", filepath.Join(dir, "missing"), "--clip", clipPath}, "missing"},
		{[]string{"dataset", "--images", dir, "--clip", filepath.Join(dir, "noclip.pt")}, "noclip.pt"},
		{[]string{"generate", "--ckpt", clipPath, "--clip", clipPath, "--prompt", "x"}, "not a lafite-go checkpoint"},
		{[]string{"train", "--data", clipPath, "--metrics", "1"}, "--metrics 1: 0 (off) or at least 2"},
		{[]string{"eval", "--ckpt", clipPath}, "--ckpt and --data are required"},
		{[]string{"eval", "--ckpt", clipPath, "--data", clipPath, "--n", "1"}, "--n must be at least 2"},
		{[]string{"eval", "--ckpt", filepath.Join(dir, "nope.safetensors"), "--data", clipPath}, "nope.safetensors"},
		{[]string{"bogus"}, "unknown command"},
	}
	for _, c := range cases {
		var out, errb bytes.Buffer
		if code := run(c.args, &out, &errb); code == 0 || !strings.Contains(errb.String(), c.want) {
			t.Errorf("lafite %v: exit %d, stderr %q; want a failure mentioning %q", c.args, code, errb.String(), c.want)
		}
	}
}

// Killing a training run at random moments — including in the middle of
// writing a checkpoint, which happens every step here — must always leave a
// checkpoint that loads, and the run must resume from it.
func TestKilledTrainingNeverLeavesACorruptCheckpoint(t *testing.T) {
	dir, clipPath, imgDir := fixture(t)
	data := filepath.Join(dir, "data.safetensors")
	runCLI(t, "dataset", "--images", imgDir, "--res", "16", "--clip", clipPath, "--out", data)
	run := filepath.Join(dir, "run")
	ckpt := filepath.Join(run, "checkpoint.safetensors")
	args := append([]string{"train", "--data", data, "--clip", clipPath, "--out", run, "--kimg", "10", "--snap", "0.004", "--resume", "auto"}, tinyTrainFlags...)
	rng := rand.New(rand.NewPCG(1, 2))
	lastStep := -1
	for round := 0; round < 4; round++ {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "LAFITE_CLI_CHILD="+strings.Join(args, "\x1f"))
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Wait for a checkpoint newer than the last one, then kill at a random moment.
		deadline := time.Now().Add(60 * time.Second)
		for {
			if st, err := os.Stat(ckpt); err == nil && st.Size() > 0 {
				if tr, err := lafite.LoadCheckpoint(ckpt, nil, nil); err == nil && tr.Step > lastStep {
					break
				}
			}
			if time.Now().After(deadline) {
				cmd.Process.Kill()
				t.Fatal("no new checkpoint within 60 s")
			}
			time.Sleep(20 * time.Millisecond)
		}
		time.Sleep(time.Duration(rng.IntN(400)) * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		tr, err := lafite.LoadCheckpoint(ckpt, nil, nil)
		if err != nil {
			t.Fatalf("round %d: checkpoint after kill does not load: %v", round, err)
		}
		if tr.Step <= lastStep {
			t.Fatalf("round %d: step %d did not advance past %d", round, tr.Step, lastStep)
		}
		lastStep = tr.Step
		// A killed write may leave its own temporary file; the next start
		// removes those of earlier kills.
		if leftovers, _ := filepath.Glob(filepath.Join(run, ".checkpoint*")); len(leftovers) > 1 {
			t.Fatalf("round %d: stale temporary files pile up: %v", round, leftovers)
		}
	}
}

// A run whose losses turn NaN stops at that step with an error that says
// so and keeps the last checkpoint as it was, rather than overwriting it
// with NaN weights. The divergence is forced: one of G's weights in the
// checkpoint is made NaN before the run resumes from it.
func TestDivergedTrainingKeepsTheLastCheckpoint(t *testing.T) {
	dir, clipPath, imgDir := fixture(t)
	data := filepath.Join(dir, "data.safetensors")
	runCLI(t, "dataset", "--images", imgDir, "--res", "16", "--clip", clipPath, "--out", data)
	run1 := filepath.Join(dir, "run")
	runCLI(t, append([]string{"train", "--data", data, "--clip", clipPath, "--out", run1, "--kimg", "0.008", "--snap", "0.008", "--res", "16"}, tinyTrainFlags...)...)
	ckpt := filepath.Join(run1, "checkpoint.safetensors")
	f, err := safetensors.ReadFile(ckpt)
	if err != nil {
		t.Fatal(err)
	}
	var ts []*safetensors.Tensor
	poisoned := false
	for _, name := range slices.Sorted(maps.Keys(f.Tensors)) {
		st := f.Tensors[name]
		if !poisoned && strings.HasPrefix(name, "G.") && strings.HasSuffix(name, ".weight") {
			v, err := st.Float32()
			if err != nil {
				t.Fatal(err)
			}
			v[0] = float32(math.NaN())
			st = safetensors.F32Tensor(name, st.Shape, v)
			poisoned = true
		}
		ts = append(ts, st)
	}
	if err := safetensors.WriteFile(ckpt, ts, f.Metadata); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(ckpt)
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	code := run(append([]string{"train", "--data", data, "--clip", clipPath, "--out", run1, "--kimg", "0.016", "--snap", "0.004",
		"--res", "16", "--resume", "auto"}, tinyTrainFlags...), &stdout, &stderr)
	msg := stderr.String()
	if code == 0 || !strings.Contains(msg, "training diverged at step 3") || !strings.Contains(msg, "(step 2) is kept as it was") {
		t.Fatalf("resuming from NaN weights: exit %d, stderr %q", code, msg)
	}
	after, err := os.ReadFile(ckpt)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, after) {
		t.Fatal("the diverged run rewrote the checkpoint")
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
