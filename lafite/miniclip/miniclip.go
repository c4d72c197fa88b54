// Package miniclip is the demo's own CLIP: the clip package's ViT and text
// transformer with the word-level tokenizer, trained from scratch on
// (image, caption) pairs of the shapes world and evaluated zero-shot on
// held-out images against the 48 colour × shape prompts.
//
// Duplicate labels: CLIP's loss calls every other caption of a batch a
// negative, which is wrong when two images share a colour and shape. Batches
// are therefore drawn with distinct colour × shape pairs (a batch of up to 48
// is a slice of one balanced block of shapes.Generate), and for larger
// batches LabelKey gives the trainer each caption's canonical label, so rows
// with the same label become soft positives of each other
// (clip.ContrastiveTargets).
//
// Training locks the text tower for its first steps (clip.TrainConfig's
// LockTextSteps): without that, both towers settle on colour and shape stays
// at chance for hundreds of steps. README.md has the measurements.
package miniclip

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"unicode"

	"github.com/lafite-go/lafite/clip"
	"github.com/lafite-go/lafite/lafite/shapes"
	"github.com/lafite-go/lafite/tensor"
)

// HeldOutSeed draws the evaluation images; training draws its batches from
// seeds derived from its own seed and the step (dataSeed), which skip it.
const HeldOutSeed uint64 = 0x4e1d_0075

// Classes is the number of colour × shape prompts.
const Classes = shapes.NumShapes * shapes.NumColors

// Class is the prompt index of a shape and colour.
func Class(shape, colour int) int { return shape*shapes.NumColors + colour }

// Prompts returns the canonical prompt of every class (shapes.CaptionFor,
// index Class(shape, colour)) and each class's shape and colour.
func Prompts() (prompts []string, shapeOf, colourOf []int) {
	for s := range shapes.NumShapes {
		for c := range shapes.NumColors {
			prompts = append(prompts, shapes.CaptionFor(s, c))
			shapeOf = append(shapeOf, s)
			colourOf = append(colourOf, c)
		}
	}
	return prompts, shapeOf, colourOf
}

// vocabSeed and vocabSamples draw the caption corpus the vocabulary is built
// from: at 5 captions per sample every synonym and template word appears
// thousands of times, and the word lists are added besides.
const (
	vocabSeed    = 1
	vocabSamples = 2 * Classes * 20
)

// Tokenizer returns the word vocabulary of the world's captions (deterministic).
func Tokenizer() *clip.WordTokenizer {
	var corpus []string
	for _, s := range shapes.Generate(vocabSeed, vocabSamples, 8) {
		corpus = append(corpus, s.Captions...)
	}
	for _, ws := range [][][]string{shapes.ShapeWords, shapes.ColorWords} {
		for _, w := range ws {
			corpus = append(corpus, w...)
		}
	}
	p, _, _ := Prompts()
	return clip.BuildWordTokenizer(append(corpus, p...), 1)
}

func words(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

// containsPhrase reports whether the words of phrase occur consecutively in ws.
func containsPhrase(ws, phrase []string) bool {
	for i := 0; i+len(phrase) <= len(ws); i++ {
		match := true
		for j, p := range phrase {
			if ws[i+j] != p {
				match = false
				break
			}
		}
		if match {
			return true
		}
	}
	return false
}

// findClass returns the only class whose phrases occur in ws, or -1 when none
// or several do.
func findClass(ws []string, phrases [][]string) int {
	found := -1
	for class, ps := range phrases {
		for _, p := range ps {
			if containsPhrase(ws, words(p)) {
				if found >= 0 && found != class {
					return -1
				}
				found = class
			}
		}
	}
	return found
}

// CaptionLabel reads the shape and colour a caption names through the world's
// synonyms ("a crimson disc" is a red circle); ok is false unless it names
// exactly one of each.
func CaptionLabel(caption string) (shape, colour int, ok bool) {
	ws := words(caption)
	shape, colour = findClass(ws, shapes.ShapeWords), findClass(ws, shapes.ColorWords)
	return shape, colour, shape >= 0 && colour >= 0
}

// LabelKey is the trainer's key (clip.TrainConfig.Key): the canonical prompt
// of the caption's colour and shape, or the caption itself if it names no
// single pair.
func LabelKey(caption string) string {
	if s, c, ok := CaptionLabel(caption); ok {
		return shapes.CaptionFor(s, c)
	}
	return caption
}

// dataSeed is the world seed of training batch step (splitmix64 of the two),
// never HeldOutSeed.
func dataSeed(seed uint64, step int) uint64 {
	z := seed ^ (uint64(step)+1)*0x9e3779b97f4a7c15
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	z ^= z >> 31
	if z == HeldOutSeed {
		z++
	}
	return z
}

// Pairs returns the batches of training: batch step is freshly generated from
// dataSeed(seed, step), so no image repeats, with one of each sample's
// captions chosen at random. shapes.Generate puts every colour × shape pair
// once in each block of Classes samples, so a batch of at most Classes
// has no two images with the same label.
func Pairs(seed uint64, batch, res int) func(step int) (*tensor.Tensor, []string) {
	return func(step int) (*tensor.Tensor, []string) {
		ds := dataSeed(seed, step)
		samples := shapes.Generate(ds, batch, res)
		pick := rand.New(rand.NewPCG(ds, 0xca97))
		captions := make([]string, batch)
		for i, s := range samples {
			captions[i] = s.Captions[pick.IntN(len(s.Captions))]
		}
		return shapes.ToTensor(samples), captions
	}
}

// Options configure Train.
type Options struct {
	Train clip.TrainConfig
	Batch int
	// DataSeed draws the training batches (Train.Seed draws the weights).
	DataSeed uint64
}

// ContextLength fits the longest caption of the world (12 words, with
// <sot> and <eot>).
const ContextLength = 14

// DefaultOptions is the configuration `lafite clip-train` uses by default
// (measurements in the package's README.md).
func DefaultOptions() Options {
	c := clip.Config{EmbedDim: 64, ImageResolution: 32, VisionPatch: 8, VisionWidth: 64, VisionLayers: 2, VisionHeads: 4,
		ContextLength: ContextLength, TextWidth: 32, TextLayers: 1, TextHeads: 2}
	t := clip.DefaultTrainConfig(c, 2400)
	t.LR = 3e-3
	t.LockTextSteps = 150
	return Options{Train: t, Batch: Classes}
}

// Train fits a mini-CLIP with o; progress as clip.Train.
func Train(o Options, progress func(step, steps int, loss float64)) (*clip.Model, *clip.WordTokenizer, error) {
	if o.Batch < 2 {
		return nil, nil, fmt.Errorf("miniclip: batch %d, need at least 2", o.Batch)
	}
	tok := Tokenizer()
	cfg := o.Train
	if cfg.Key == nil {
		cfg.Key = LabelKey
	}
	m, err := clip.Train(cfg, Pairs(o.DataSeed, o.Batch, cfg.Model.ImageResolution), tok, progress)
	return m, tok, err
}

// HeldOut returns n images of the world at res from HeldOutSeed, in [−1, 1],
// and their classes.
func HeldOut(n, res int) (*tensor.Tensor, []int) {
	samples := shapes.Generate(HeldOutSeed, n, res)
	labels := make([]int, n)
	for i, s := range samples {
		labels[i] = Class(s.Shape, s.Color)
	}
	return shapes.ToTensor(samples), labels
}

// Evaluate is zero-shot retrieval on n held-out images: each image against
// all Classes prompts; AttributeAccuracy is [shape, colour].
func Evaluate(m *clip.Model, tok clip.Tokenizer, n int) (clip.RetrievalReport, error) {
	imgs, labels := HeldOut(n, m.Config.ImageResolution)
	prompts, shapeOf, colourOf := Prompts()
	return clip.EvaluateRetrieval(m, tok, imgs, labels, prompts, shapeOf, colourOf)
}
