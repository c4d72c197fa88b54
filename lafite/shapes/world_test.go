package shapes

import (
	"archive/zip"
	"bytes"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lafite-go/lafite/lafite"
)

func sameSample(a, b Sample) bool {
	return a.Shape == b.Shape && a.Color == b.Color && a.Size == b.Size && a.Position == b.Position &&
		a.Background == b.Background && slices.Equal(a.Captions, b.Captions) &&
		bytes.Equal(a.Image.Pix, b.Image.Pix) && a.Image.Rect == b.Image.Rect
}

func TestGenerateIsDeterministicInTheSeed(t *testing.T) {
	a, b := Generate(7, 60, 32), Generate(7, 60, 32)
	for i := range a {
		if !sameSample(a[i], b[i]) {
			t.Fatalf("sample %d differs between two runs with the same seed", i)
		}
	}
	// Sample i does not depend on n.
	prefix := Generate(7, 13, 32)
	for i := range prefix {
		if !sameSample(prefix[i], a[i]) {
			t.Fatalf("sample %d of n=13 differs from sample %d of n=60", i, i)
		}
	}
	c := Generate(8, 60, 32)
	differ := 0
	for i := range a {
		if !sameSample(a[i], c[i]) {
			differ++
		}
	}
	if differ < 55 {
		t.Fatalf("seeds 7 and 8 share %d of 60 samples", 60-differ)
	}
}

func TestEveryClassAppears(t *testing.T) {
	const blocks = 5
	ss := Generate(3, blocks*NumShapes*NumColors, 16)
	pairs := map[[2]int]int{}
	sizes, positions, backgrounds := map[int]int{}, map[int]int{}, map[int]int{}
	for i, s := range ss {
		pairs[[2]int{s.Shape, s.Color}]++
		sizes[s.Size]++
		positions[s.Position]++
		backgrounds[s.Background]++
		if i == NumShapes*NumColors-1 && len(pairs) != NumShapes*NumColors {
			t.Fatalf("the first block holds %d distinct (shape, colour) pairs, want %d", len(pairs), NumShapes*NumColors)
		}
	}
	for sh := range NumShapes {
		for c := range NumColors {
			if n := pairs[[2]int{sh, c}]; n != blocks {
				t.Errorf("%s %s appears %d times, want %d", ColorNames[c], ShapeNames[sh], n, blocks)
			}
		}
	}
	for _, m := range []struct {
		name string
		seen map[int]int
		want int
	}{{"sizes", sizes, NumSizes}, {"positions", positions, NumPositions}, {"backgrounds", backgrounds, NumBackgrounds}} {
		if len(m.seen) != m.want {
			t.Errorf("%d distinct %s, want %d", len(m.seen), m.name, m.want)
		}
	}
	if len(ShapeNames) != NumShapes || len(ShapeWords) != NumShapes || len(ColorNames) != NumColors || len(ColorWords) != NumColors {
		t.Fatal("name tables disagree with the class counts")
	}
}

func near(a, b color.RGBA, tol int) bool {
	d := func(x, y uint8) bool { return math.Abs(float64(x)-float64(y)) <= float64(tol) }
	return d(a.R, b.R) && d(a.G, b.G) && d(a.B, b.B)
}

func TestShapePixelsCarryTheirColour(t *testing.T) {
	for _, res := range []int{32, 64} {
		for i, s := range Generate(11, 96, res) {
			fg, bg := shapeRGB[s.Color], backgroundRGB[s.Background]
			var nFg, nBg int
			for y := range res {
				for x := range res {
					p := s.Image.RGBAAt(x, y)
					switch {
					case near(p, fg, colorNoise):
						nFg++
					case near(p, bg, bgNoise):
						nBg++
					}
				}
			}
			// Every shape fills at least a quarter of its (2r)² frame, and the
			// thinnest (the small star) still has r²·res² pixels fully inside.
			area := float64(res*res) * sizeRadius[s.Size] * sizeRadius[s.Size]
			if float64(nFg) < 0.4*area {
				t.Errorf("res %d sample %d (%s %s): %d pixels of the shape colour, want >= %.0f",
					res, i, ColorNames[s.Color], ShapeNames[s.Shape], nFg, 0.4*area)
			}
			if nBg < res*res/2 {
				t.Errorf("res %d sample %d: %d background pixels of %d", res, i, nBg, res*res)
			}
		}
	}
}

func TestDrawAntialiasesEdges(t *testing.T) {
	// A square of half-side 0.8r = 3/16 centred at 0.5 on an 8x8 image spans
	// [2.5, 5.5] pixels on both axes: columns and rows 2 and 5 are half
	// covered, and the corner pixels a quarter.
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	fg, bg := color.RGBA{200, 100, 0, 255}, color.RGBA{0, 0, 100, 255}
	half, quarter := color.RGBA{100, 50, 50, 255}, color.RGBA{50, 25, 75, 255}
	Draw(img, Square, 0.5, 0.5, 0.234375, fg, bg)
	for _, c := range []struct {
		x, y int
		want color.RGBA
	}{
		{4, 4, fg}, {3, 3, fg},
		{5, 4, half}, {2, 3, half}, {4, 2, half}, {3, 5, half},
		{5, 5, quarter}, {2, 2, quarter}, {5, 2, quarter},
		{6, 4, bg}, {1, 4, bg}, {0, 0, bg}, {4, 6, bg},
	} {
		if got := img.RGBAAt(c.x, c.y); got != c.want {
			t.Errorf("pixel (%d,%d) = %v, want %v", c.x, c.y, got, c.want)
		}
	}
}

func TestShapesAreDistinctAndFitTheirFrame(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const n = 40000
	pts := make([][2]float64, n)
	for i := range pts {
		pts[i] = [2]float64{2.4*rng.Float64() - 1.2, 2.4*rng.Float64() - 1.2}
	}
	masks := make([][]bool, NumShapes)
	for s := range NumShapes {
		masks[s] = make([]bool, n)
		var in int
		for i, p := range pts {
			masks[s][i] = Inside(s, p[0], p[1])
			if masks[s][i] {
				in++
				if math.Abs(p[0]) > 1 || math.Abs(p[1]) > 1 {
					t.Fatalf("%s contains (%.3f, %.3f), outside [-1, 1]²", ShapeNames[s], p[0], p[1])
				}
			}
		}
		frac := float64(in) / n * 2.4 * 2.4 / 4 // fraction of [-1, 1]²
		if frac < 0.25 || frac > 0.75 {
			t.Errorf("%s fills %.2f of its frame, want a comparable area in [0.25, 0.75]", ShapeNames[s], frac)
		}
	}
	for a := range NumShapes {
		for b := a + 1; b < NumShapes; b++ {
			var inter, union int
			for i := range pts {
				if masks[a][i] && masks[b][i] {
					inter++
				}
				if masks[a][i] || masks[b][i] {
					union++
				}
			}
			// Circle and square of equal area overlap with IoU ≈ 0.82 by
			// geometry alone; every other pair is far lower.
			if iou := float64(inter) / float64(union); iou > 0.85 {
				t.Errorf("%s and %s overlap with IoU %.2f", ShapeNames[a], ShapeNames[b], iou)
			}
		}
	}
}

// containsPhrase matches whole words only, so "red" does not match "centered".
func containsPhrase(caption, phrase string) bool {
	return strings.Contains(" "+strings.ReplaceAll(caption, ",", " ")+" ", " "+phrase+" ")
}

func mentionsAny(caption string, words []string) bool {
	return slices.ContainsFunc(words, func(w string) bool { return containsPhrase(caption, w) })
}

func TestCaptionsNameColourAndShape(t *testing.T) {
	if NumTemplates < 8 {
		t.Fatalf("%d caption templates, want at least 8", NumTemplates)
	}
	shapes := Generate(5, 480, 16)
	distinct := map[string]bool{}
	for i, s := range shapes {
		if len(s.Captions) != CaptionsPerSample {
			t.Fatalf("sample %d has %d captions, want %d", i, len(s.Captions), CaptionsPerSample)
		}
		for _, c := range s.Captions {
			distinct[c] = true
			if !mentionsAny(c, ColorWords[s.Color]) {
				t.Errorf("sample %d (%s): caption %q names no word for the colour", i, ColorNames[s.Color], c)
			}
			if !mentionsAny(c, ShapeWords[s.Shape]) {
				t.Errorf("sample %d (%s): caption %q names no word for the shape", i, ShapeNames[s.Shape], c)
			}
			for other := range NumColors {
				if other != s.Color && mentionsAny(c, ColorWords[other]) {
					t.Errorf("sample %d (%s): caption %q names colour %s", i, ColorNames[s.Color], c, ColorNames[other])
				}
			}
			for _, bad := range []string{"a a", "a e", "a i", "a o", "a u", "an b", "an c", "an r", "an s"} {
				if strings.Contains(" "+c, " "+bad) {
					t.Errorf("caption %q has a wrong article (%q)", c, bad)
				}
			}
		}
	}
	if len(distinct) < 500 {
		t.Errorf("only %d distinct captions among %d", len(distinct), len(shapes)*CaptionsPerSample)
	}
	for _, c := range []struct {
		shape, colour int
		want          string
	}{{Circle, Red, "a red circle"}, {Star, Orange, "an orange star"}, {Heart, Purple, "a purple heart"}} {
		if got := CaptionFor(c.shape, c.colour); got != c.want {
			t.Errorf("CaptionFor(%d, %d) = %q, want %q", c.shape, c.colour, got, c.want)
		}
	}
}

func TestTensorRoundTrip(t *testing.T) {
	ss := Generate(2, 5, 32)
	x := ToTensor(ss)
	if got := x.Shape(); !slices.Equal(got, []int{5, 3, 32, 32}) {
		t.Fatalf("ToTensor shape %v", got)
	}
	for _, v := range x.Data() {
		if v < -1 || v > 1 {
			t.Fatalf("value %v outside [-1, 1]", v)
		}
	}
	// Channel order: the red channel of a pixel sits in plane 0.
	p := ss[3].Image.RGBAAt(7, 9)
	if got, want := x.At(3, 0, 9, 7), float32(p.R)/127.5-1; got != want {
		t.Fatalf("x[3,0,9,7] = %v, want %v", got, want)
	}
	for i, s := range ss {
		if back := lafite.TensorToImages(x.Narrow(0, i, 1))[0]; !bytes.Equal(back.Pix, s.Image.Pix) {
			t.Fatalf("TensorToImages(ToTensor) changed image %d", i)
		}
	}
}

// Scenes do not depend on the resolution: the 64x64 image averaged over
// 2x2 blocks is the 32x32 one up to rounding, which lets one judge read both.
func TestResolutionsDrawTheSameScene(t *testing.T) {
	lo, hi := Generate(4, 48, 32), Generate(4, 48, 64)
	var sum float64
	for i := range lo {
		for y := range 32 {
			for x := range 32 {
				for c := range 3 {
					var avg float64
					for _, d := range [][2]int{{0, 0}, {1, 0}, {0, 1}, {1, 1}} {
						avg += float64(hi[i].Image.Pix[(2*y+d[1])*hi[i].Image.Stride+4*(2*x+d[0])+c]) / 4
					}
					sum += math.Abs(avg - float64(lo[i].Image.Pix[y*lo[i].Image.Stride+4*x+c]))
				}
			}
		}
	}
	if mean := sum / float64(48*32*32*3); mean > 1.5 {
		t.Fatalf("mean |pool(64) - 32| = %.2f levels, want <= 1.5", mean)
	}
}

func checkExported(t *testing.T, ss []Sample, read func(name string) []byte) {
	t.Helper()
	for i, s := range ss {
		img, err := png.Decode(bytes.NewReader(read(sampleName(i) + ".png")))
		if err != nil {
			t.Fatalf("sample %d: %v", i, err)
		}
		b := img.Bounds()
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				if color.RGBAModel.Convert(img.At(x, y)) != s.Image.RGBAAt(x, y) {
					t.Fatalf("sample %d pixel (%d,%d) changed in the export", i, x, y)
				}
			}
		}
		lines := strings.Split(strings.TrimSuffix(string(read(sampleName(i)+".txt")), "\n"), "\n")
		if !slices.Equal(lines, s.Captions) {
			t.Fatalf("sample %d captions %q, want %q", i, lines, s.Captions)
		}
	}
}

func TestExportRoundTrip(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "world")
	if err := Export(Generate(1, 9, 32), dir); err != nil {
		t.Fatal(err)
	}
	// Exporting again replaces the folder whole: no stale file survives.
	ss := Generate(2, 4, 32)
	if err := Export(ss, dir); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2*len(ss) {
		t.Fatalf("%d files in the export, want %d", len(entries), 2*len(ss))
	}
	checkExported(t, ss, func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	})

	zpath := filepath.Join(root, "world.zip")
	if err := ExportZip(ss, zpath); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.OpenReader(zpath)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	if len(zr.File) != 2*len(ss) {
		t.Fatalf("%d files in the zip, want %d", len(zr.File), 2*len(ss))
	}
	checkExported(t, ss, func(name string) []byte {
		f, err := zr.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		b, err := io.ReadAll(f)
		if err != nil {
			t.Fatal(err)
		}
		return b
	})
	// Only the two results remain: no temporary file or folder is left over.
	left, _ := os.ReadDir(root)
	if len(left) != 2 {
		var names []string
		for _, e := range left {
			names = append(names, e.Name())
		}
		t.Fatalf("files left in the target folder: %v", names)
	}
	if err := ExportZip(ss, filepath.Join(root, "missing", "w.zip")); err == nil {
		t.Fatal("ExportZip into a missing folder succeeded")
	}
}

// Colours must stay apart after jitter: every pair of shape colours, and
// every shape colour and background, differ by at least 60 in some channel.
func TestPaletteIsDistinct(t *testing.T) {
	far := func(a, b color.RGBA) bool { return !near(a, b, 59) }
	for i := range NumColors {
		for k := i + 1; k < NumColors; k++ {
			if !far(shapeRGB[i], shapeRGB[k]) {
				t.Errorf("colours %s and %s are too close", ColorNames[i], ColorNames[k])
			}
		}
		for b := range NumBackgrounds {
			if !far(shapeRGB[i], backgroundRGB[b]) {
				t.Errorf("colour %s and background %s are too close", ColorNames[i], BackgroundNames[b])
			}
		}
	}
}
