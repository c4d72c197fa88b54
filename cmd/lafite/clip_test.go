package main

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/lafite-go/lafite/autograd"
	"github.com/lafite-go/lafite/clip"
	"github.com/lafite-go/lafite/internal/goldendir"
)

// clipFixtures is the golden clip_files folder ($LAFITE_GOLDEN or
// ../shared/golden beside the module root).
func clipFixtures(t *testing.T) string {
	t.Helper()
	dir, err := goldendir.Find()
	if err != nil {
		t.Skip(err)
	}
	dir = filepath.Join(dir, "clip_files")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("CLIP fixtures missing: %v", err)
	}
	return dir
}

func writeTestPNG(t *testing.T, path string, w, h int) {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.RGBA{R: uint8(6 * x), G: uint8(255 - 7*y), B: uint8(3 * (x ^ y)), A: 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func runCLIPCommand(args ...string) (code int, stdout, stderr string) {
	var o, e bytes.Buffer
	code = run(args, &o, &e)
	return code, o.String(), e.String()
}

func TestCLIPCommandScoresImagesAgainstTexts(t *testing.T) {
	fx := clipFixtures(t)
	model := filepath.Join(fx, "tiny_clip_jit.pt")
	dir := t.TempDir()
	// The tiny model embeds 120 ids: a word vocabulary fits, the BPE one not.
	texts := []string{"a dog", "a cat on a mat", "nothing"}
	vocab := filepath.Join(dir, "words.txt")
	if err := clip.BuildWordTokenizer(texts, 1).Save(vocab); err != nil {
		t.Fatal(err)
	}
	imgA, imgB := filepath.Join(dir, "a.png"), filepath.Join(dir, "b.png")
	writeTestPNG(t, imgA, 40, 36)
	writeTestPNG(t, imgB, 20, 50)

	code, out, errOut := runCLIPCommand("clip", "--model", model, "--vocab", vocab,
		"--text", texts[0], "--text", texts[1], "--text", texts[2], "--image", imgA, "--image", imgB)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	t.Logf("lafite clip printed:\n%s", out)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 1+2*3 || !strings.HasPrefix(lines[0], "image") {
		t.Fatalf("table:\n%s", out)
	}

	// Independent computation of the cosines through the package API.
	m, err := clip.Load(model)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := clip.LoadWordTokenizer(vocab)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := tok.Tokenize(texts, m.Config.ContextLength)
	if err != nil {
		t.Fatal(err)
	}
	x, err := clip.PreprocessFiles([]string{imgA, imgB}, m.Config.ImageResolution)
	if err != nil {
		t.Fatal(err)
	}
	var cos []float32
	autograd.NoGrad(func() {
		img := clip.Normalize(m.EncodeImage(autograd.Const(x)))
		txt, err := m.EncodeText(ids)
		if err != nil {
			t.Fatal(err)
		}
		cos = autograd.Matmul(img, autograd.Transpose(clip.Normalize(txt), 0, 1)).Value.ToSlice()
	})
	scale := math.Exp(float64(m.LogitScale.Item()))
	for i, img := range []string{imgA, imgB} {
		var probSum, expSum float64
		for j := range texts {
			expSum += math.Exp(scale * float64(cos[i*3+j]))
		}
		for j, text := range texts {
			f := strings.Fields(lines[1+3*i+j])
			if len(f) < 4 || f[0] != img || !strings.Contains(lines[1+3*i+j], strconv.Quote(text)) {
				t.Fatalf("row %d: %q", 1+3*i+j, lines[1+3*i+j])
			}
			prob, err1 := strconv.ParseFloat(f[len(f)-2], 64)
			c, err2 := strconv.ParseFloat(f[len(f)-1], 64)
			if err1 != nil || err2 != nil {
				t.Fatalf("row %q: %v %v", lines[1+3*i+j], err1, err2)
			}
			wantProb := math.Exp(scale*float64(cos[i*3+j])) / expSum
			if math.Abs(c-float64(cos[i*3+j])) > 6e-5 || math.Abs(prob-wantProb) > 6e-5 {
				t.Fatalf("row %q: want prob %.4f cosine %.4f", lines[1+3*i+j], wantProb, cos[i*3+j])
			}
			probSum += prob
		}
		if math.Abs(probSum-1) > 3e-4 {
			t.Fatalf("probabilities of %s sum to %v", img, probSum)
		}
	}
}

func TestCLIPCommandErrors(t *testing.T) {
	fx := clipFixtures(t)
	model := filepath.Join(fx, "tiny_clip_state_dict.pt")
	bpe := filepath.Join(fx, "bpe_simple_vocab_16e6.txt.gz")
	dir := t.TempDir()
	img := filepath.Join(dir, "a.png")
	writeTestPNG(t, img, 8, 8)
	broken := filepath.Join(dir, "broken.png")
	if err := os.WriteFile(broken, []byte("not a png"), 0o644); err != nil {
		t.Fatal(err)
	}
	vocab := filepath.Join(dir, "words.txt")
	if err := clip.BuildWordTokenizer([]string{"a dog"}, 1).Save(vocab); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.png")
	alone := filepath.Join(dir, "model.pt") // no BPE vocabulary beside it
	data, err := os.ReadFile(model)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(alone, data, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"--text", "x", "--image", img}, []string{"--model is required"}},
		{[]string{"--model", model, "--vocab", vocab, "--image", img}, []string{"--text"}},
		{[]string{"--model", model, "--vocab", vocab, "--text", "x"}, []string{"--image"}},
		{[]string{"--model", missing, "--vocab", vocab, "--text", "x", "--image", img}, []string{"model file", missing, "does not exist"}},
		{[]string{"--model", model, "--vocab", vocab, "--text", "x", "--image", missing}, []string{"image file", missing, "does not exist"}},
		{[]string{"--model", model, "--vocab", missing, "--text", "x", "--image", img}, []string{"vocabulary file", missing}},
		{[]string{"--model", alone, "--text", "x", "--image", img}, []string{"--vocab is required", alone}},
		{[]string{"--model", model, "--vocab", vocab, "--text", "x", "--image", broken}, []string{broken, "PNG or JPEG"}},
		{[]string{"--model", img, "--vocab", vocab, "--text", "x", "--image", img}, []string{img, "expected a CLIP checkpoint"}},
		{[]string{"--model", model, "--vocab", bpe, "--text", "x", "--image", img}, []string{"49408 tokens", "120"}},
	} {
		code, _, errOut := runCLIPCommand(append([]string{"clip"}, c.args...)...)
		if code == 0 {
			t.Errorf("%v: succeeded", c.args)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(errOut, w) {
				t.Errorf("%v: error %q lacks %q", c.args, errOut, w)
			}
		}
	}
}

func TestCLIPCommandUsesBundleVocabulary(t *testing.T) {
	fx := clipFixtures(t)
	m, err := clip.Load(filepath.Join(fx, "tiny_clip_state_dict.pt"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	bundle := filepath.Join(dir, "mini.safetensors")
	if err := clip.SaveBundle(bundle, m, clip.BuildWordTokenizer([]string{"red ball", "blue box"}, 1)); err != nil {
		t.Fatal(err)
	}
	img := filepath.Join(dir, "a.png")
	writeTestPNG(t, img, 33, 33)
	code, out, errOut := runCLIPCommand("clip", "--model", bundle, "--text", "red ball", "--text", "blue box", "--image", img)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if n := len(strings.Split(strings.TrimSpace(out), "\n")); n != 3 {
		t.Fatalf("table of %d lines:\n%s", n, out)
	}
}
