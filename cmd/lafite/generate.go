package main

import (
	"fmt"
	"image"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/lafite-go/lafite/clip"
	"github.com/lafite-go/lafite/internal/atomicfile"
	"github.com/lafite-go/lafite/internal/sysmem"
	"github.com/lafite-go/lafite/lafite"
	"github.com/lafite-go/lafite/tensor"
)

type repeatedFlag []string

func (r *repeatedFlag) String() string     { return fmt.Sprint(*r) }
func (r *repeatedFlag) Set(v string) error { *r = append(*r, v); return nil }

func init() {
	register("generate", "render images from text prompts (and/or an image) with a trained generator", runGenerate)
}

func runGenerate(args []string, stdout io.Writer) error {
	fs := newFlags("generate", os.Stderr)
	gf := addGeneratorFlags(fs)
	var prompts repeatedFlag
	fs.Var(&prompts, "prompt", "text prompt (repeatable: one grid row per prompt)")
	imagePath := fs.String("image", "", "image condition (alone, or mixed with the prompt by --mix)")
	mix := fs.Float64("mix", 0.5, "weight of the text feature when both --prompt and --image are given")
	n := fs.Int("n", 8, "images per prompt")
	batch := fs.Int("batch", 16, "images rendered at a time (memory grows with it; the images do not change)")
	seed := fs.Uint64("seed", 0, "latent seed")
	psi := fs.Float64("psi", 1, "truncation ψ")
	promptFile := fs.String("prompts", "", "also take prompts from this file, one per non-empty line (e.g. a test set's captions)")
	out := fs.String("out", "grid.png", "output PNG grid (\"\": none, with --each)")
	each := fs.String("each", "", "also write every image to this folder as ROW-SAMPLE.png (rows as the grid's), with rows.txt naming the rows")
	if err := fs.Parse(args); err != nil {
		return err
	}
	dev, err := gf.parseDevice()
	if err != nil {
		return err
	}
	if dev == tensor.CUDA {
		// One pass over each shape: timing every way to run it would cost
		// more than the fastest saves (LAFITE_CUDA_AUTOTUNE=1 keeps it).
		if os.Getenv("LAFITE_CUDA_AUTOTUNE") != "1" {
			defer tensor.SetCUDAAutotune(false)()
		}
	}
	if *gf.ckpt == "" {
		return fmt.Errorf("--ckpt is required")
	}
	if *promptFile != "" {
		text, err := os.ReadFile(*promptFile)
		if err != nil {
			return err
		}
		for _, line := range strings.Split(string(text), "\n") {
			if line = strings.TrimSpace(line); line != "" {
				prompts = append(prompts, line)
			}
		}
	}
	if len(prompts) == 0 && *imagePath == "" {
		return fmt.Errorf("give at least one --prompt (or --prompts) or an --image")
	}
	if *out == "" && *each == "" {
		return fmt.Errorf("--out \"\" (no grid) goes with --each DIR")
	}
	if *n < 1 || *batch < 1 {
		return fmt.Errorf("--n and --batch must be positive")
	}
	if math.IsNaN(*psi) || math.IsInf(*psi, 0) || !(*mix >= 0 && *mix <= 1) {
		return fmt.Errorf("--psi %v must be a number and --mix %v in [0, 1]", *psi, *mix)
	}
	g, enc, err := gf.load(dev)
	if err != nil {
		return err
	}
	// A grid's images are held, then drawn: refused up front when that
	// cannot fit, rather than after the generator ran out of memory.
	res, cell, rows := uint64(g.Config.Resolution), uint64(max(64, g.Config.Resolution)), uint64(max(len(prompts), 1))
	if err := sysmem.Check(rows*uint64(*n)*4*(res*res+cell*cell), fmt.Sprintf("a grid of %d x %d images", rows, *n)); *out != "" && err != nil {
		return fmt.Errorf("%v; ask for fewer with --n, or write them one by one with --each DIR --out \"\"", err)
	}
	var imgFeat *tensor.Tensor
	if *imagePath != "" {
		im, err := clip.LoadImage(*imagePath)
		if err != nil {
			return err
		}
		b := im.Bounds()
		side := min(b.Dx(), b.Dy())
		if imgFeat, err = enc.EncodeImages([]*image.RGBA{lafite.CenterCropResize(im, side)}); err != nil {
			return err
		}
	}
	var conds []*tensor.Tensor
	var titles []string
	if len(prompts) == 0 {
		conds, titles = append(conds, imgFeat), append(titles, "[image]")
	}
	if len(prompts) > 0 {
		var chunks []*tensor.Tensor
		for lo := 0; lo < len(prompts); lo += 64 { // a test set's captions, a text batch at a time
			c, err := enc.EncodeTexts(prompts[lo:min(lo+64, len(prompts))])
			if err != nil {
				return err
			}
			chunks = append(chunks, c)
		}
		txt := tensor.Concat(chunks, 0)
		for i, p := range prompts {
			row := txt.Narrow(0, i, 1)
			if imgFeat != nil {
				row = lafite.MixConditions(row, imgFeat, float32(*mix))
				p = fmt.Sprintf("%s + [image] (%.2f)", p, *mix)
			}
			conds, titles = append(conds, row), append(titles, p)
		}
	}
	// --each names files by row and sample with enough digits to sort.
	rowDigits, sampleDigits := max(3, len(fmt.Sprint(len(conds)-1))), max(4, len(fmt.Sprint(*n-1)))
	// The same latents in every row: only the condition changes. Images go
	// to --each as they come; only the grid's are held.
	z := tensor.NewRNG(*seed).Normal(*n, g.Config.ZDim)
	var cells []*image.RGBA
	for r, c := range conds {
		for lo := 0; lo < *n; lo += *batch {
			m := min(*batch, *n-lo)
			scope := tensor.OpenScope() // on a GPU, a batch's memory is freed once its images are on the host
			img, err := lafite.GenerateFrom(g, z.Narrow(0, lo, m), tensor.Concat(repeatRows(c, m), 0), float32(*psi))
			var ims []*image.RGBA
			if err == nil {
				ims = lafite.TensorToImages(img)
			}
			scope.Close()
			if err != nil {
				return err
			}
			if *each != "" {
				for k, im := range ims {
					name := fmt.Sprintf("%0*d-%0*d.png", rowDigits, r, sampleDigits, lo+k)
					if err := lafite.WritePNG(filepath.Join(*each, name), im); err != nil {
						return err
					}
				}
			}
			if *out != "" {
				cells = append(cells, ims...)
			}
		}
	}
	if *each != "" {
		var rows strings.Builder
		for i, t := range titles {
			fmt.Fprintf(&rows, "%0*d\t%s\n", rowDigits, i, t)
		}
		if err := atomicfile.WriteFile(filepath.Join(*each, "rows.txt"), []byte(rows.String())); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote %d images to %s (rows.txt names the rows)\n", len(conds)**n, *each)
	}
	if *out == "" {
		return nil
	}
	grid := lafite.Grid{Images: cells, Cols: *n, Cell: max(64, g.Config.Resolution), RowTitles: titles}
	if err := lafite.WritePNG(*out, grid.Render()); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s: %d prompt(s) x %d images at %dx%d\n", *out, len(conds), *n, g.Config.Resolution, g.Config.Resolution)
	return nil
}

func repeatRows(row *tensor.Tensor, n int) []*tensor.Tensor {
	out := make([]*tensor.Tensor, n)
	for i := range out {
		out[i] = row
	}
	return out
}
