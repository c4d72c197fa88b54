// Package demo is the built-in default of the project: a shapes world the
// project makes itself, a mini-CLIP trained on it, a Lafite generator
// trained on its images only (language-free), and an independent judge that
// measures whether generated images follow text prompts.
package demo

import (
	"fmt"
	"io"
	"math/rand/v2"
	"strings"

	"github.com/lafite-go/lafite/lafite"
	"github.com/lafite-go/lafite/lafite/metrics"
	"github.com/lafite-go/lafite/lafite/miniclip"
	"github.com/lafite-go/lafite/lafite/shapes"
	"github.com/lafite-go/lafite/tensor"
)

// Report is the demo's measurement of prompt following.
type Report struct {
	Prompts         []string
	PerPrompt       []float64 // joint accuracy per prompt
	Colour, Shape   float64   // accuracy of each attribute over all images
	Joint           float64   // both right
	Chance          float64   // 1 / number of prompts
	Shuffled        float64   // joint accuracy of the same images judged against shuffled prompts
	FID             float64   // judge-feature FID, generated vs real
	ImagesPerPrompt int       // images per prompt
	Psi             float32   // truncation of w
	Images          []*tensor.Tensor
}

// DefaultPsi is the demo's truncation: w pulled 30% of the way to its mean,
// StyleGAN's usual trade of variety for fidelity. The text condition enters
// the styles apart from w and is not truncated.
const DefaultPsi = 0.7

// EvalOptions sets the evaluation's size.
type EvalOptions struct {
	PerPrompt int     // images generated per prompt
	Seed      uint64  // latent seed
	Psi       float32 // truncation
	RealSeed  uint64  // real images for FID
}

// Evaluate generates PerPrompt images for each of the 48 colour × shape
// prompts (text features from the mini-CLIP), has the judge read colour and
// shape, and compares judge features with real images of the world.
func Evaluate(g *lafite.Generator, enc *lafite.CLIPEncoder, judge *shapes.Judge, o EvalOptions) (*Report, error) {
	prompts, shapeOf, colourOf := miniclip.Prompts()
	fts, err := enc.EncodeTexts(prompts)
	if err != nil {
		return nil, err
	}
	r := &Report{Prompts: prompts, PerPrompt: make([]float64, len(prompts)), Chance: 1 / float64(len(prompts)), ImagesPerPrompt: o.PerPrompt, Psi: o.Psi}
	var predC, predS, wantC, wantS []int
	var gen []*tensor.Tensor
	for p := range prompts {
		rows := make([]*tensor.Tensor, o.PerPrompt)
		for i := range rows {
			rows[i] = fts.Narrow(0, p, 1)
		}
		img, err := lafite.Generate(g, tensor.Concat(rows, 0), o.Seed+uint64(p), o.Psi)
		if err != nil {
			return nil, err
		}
		c, s := judge.Predict(img)
		hits := 0
		for i := range c {
			if c[i] == colourOf[p] && s[i] == shapeOf[p] {
				hits++
			}
		}
		r.PerPrompt[p] = float64(hits) / float64(o.PerPrompt)
		predC, predS = append(predC, c...), append(predS, s...)
		for range c {
			wantC, wantS = append(wantC, colourOf[p]), append(wantS, shapeOf[p])
		}
		gen = append(gen, img)
	}
	n := len(predC)
	var okC, okS, okJ int
	for i := 0; i < n; i++ {
		cOK, sOK := predC[i] == wantC[i], predS[i] == wantS[i]
		if cOK {
			okC++
		}
		if sOK {
			okS++
		}
		if cOK && sOK {
			okJ++
		}
	}
	r.Colour, r.Shape, r.Joint = float64(okC)/float64(n), float64(okS)/float64(n), float64(okJ)/float64(n)
	// Baseline: the same images, each judged against the prompt of another
	// image drawn by a fixed permutation.
	perm := rand.New(rand.NewPCG(o.Seed, 7)).Perm(n)
	okShuf := 0
	for i := 0; i < n; i++ {
		j := perm[i]
		if predC[i] == wantC[j] && predS[i] == wantS[j] {
			okShuf++
		}
	}
	r.Shuffled = float64(okShuf) / float64(n)
	all := tensor.Concat(gen, 0)
	real := shapes.ToTensor(shapes.Generate(o.RealSeed, n, g.Config.Resolution))
	if r.FID, err = metrics.FID(rowsOf(judge.Features(all)), rowsOf(judge.Features(real))); err != nil {
		return nil, err
	}
	r.Images = gen
	return r, nil
}

func rowsOf(t *tensor.Tensor) [][]float64 {
	n, d := t.Size(0), t.Size(1)
	v := t.Contiguous().Data()
	out := make([][]float64, n)
	for i := range out {
		out[i] = make([]float64, d)
		for j := range out[i] {
			out[i][j] = float64(v[i*d+j])
		}
	}
	return out
}

// Print writes the report as a table, then the notes, then the headline
// `joint accuracy: …` as the last line.
func (r *Report) Print(w io.Writer, notes ...string) {
	fmt.Fprintf(w, "%-32s %s\n", "prompt", "joint accuracy (judge)")
	for i, p := range r.Prompts {
		fmt.Fprintf(w, "%-32s %5.1f%%  %s\n", p, 100*r.PerPrompt[i], strings.Repeat("#", int(r.PerPrompt[i]*20+0.5)))
	}
	fmt.Fprintf(w, "\nimages: %d (%d per prompt, %d prompts; truncation psi %.2g)\n", r.ImagesPerPrompt*len(r.Prompts), r.ImagesPerPrompt, len(r.Prompts), r.Psi)
	fmt.Fprintf(w, "colour accuracy: %5.1f%% (chance %.1f%%)\n", 100*r.Colour, 100.0/shapes.NumColors)
	fmt.Fprintf(w, "shape accuracy:  %5.1f%% (chance %.1f%%)\n", 100*r.Shape, 100.0/shapes.NumShapes)
	fmt.Fprintf(w, "judge-feature FID (generated vs real): %.2f\n", r.FID)
	for _, n := range notes {
		fmt.Fprintln(w, n)
	}
	fmt.Fprintf(w, "joint accuracy: %.1f%% (chance %.1f%%, shuffled-prompt baseline %.1f%%)\n", 100*r.Joint, 100*r.Chance, 100*r.Shuffled)
}
