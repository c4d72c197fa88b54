package shapes

import (
	"fmt"
	"image"
	"image/color"
	"math/rand/v2"
	"runtime"
	"sync"
)

// Sample is one image of the world with its labels and captions.
type Sample struct {
	Image                                    *image.RGBA
	Shape, Color, Size, Position, Background int
	Captions                                 []string
}

// CaptionsPerSample is how many captions (from distinct templates) each
// sample gets.
const CaptionsPerSample = 5

// Geometry in units of the image side. Positions sit a quarter of the side
// off centre, so a large shape at the left still fits with jitter.
var (
	sizeRadius = []float64{0.15, 0.25}
	positionXY = [][2]float64{{0.5, 0.5}, {0.27, 0.5}, {0.73, 0.5}, {0.5, 0.27}, {0.5, 0.73}}
)

const (
	combos        = NumShapes * NumColors
	positionNoise = 0.025 // ± uniform jitter of the centre
	radiusNoise   = 0.05  // ± relative jitter of the radius
	colorNoise    = 8     // ± jitter per channel of the shape colour
	bgNoise       = 6     // ± jitter per channel of the background
)

// Streams of the PCG generator: one per sample and one per block of combos,
// so sample i is the same whatever n is and however the work is split.
const blockStream = 1 << 63

// Generate returns n samples of res×res pixels, deterministic in seed. Every
// consecutive block of NumShapes·NumColors samples holds each (shape, colour)
// pair once in a seeded order, so the classes are balanced; size, position
// and background are uniform. Labels, geometry and captions do not depend on
// res, so the same seed at 32 and 64 draws the same scenes.
func Generate(seed uint64, n, res int) []Sample {
	if n < 0 {
		panic(fmt.Sprintf("shapes.Generate: n = %d must be non-negative", n))
	}
	if res < 8 {
		panic(fmt.Sprintf("shapes.Generate: res = %d must be at least 8", res))
	}
	out := make([]Sample, n)
	workers := max(1, min(runtime.GOMAXPROCS(0), n))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n; i += workers {
				out[i] = generateOne(seed, i, res)
			}
		})
	}
	wg.Wait()
	return out
}

// comboOf is the (shape, colour) pair of sample i: position i%combos of a
// seeded permutation drawn once per block.
func comboOf(seed uint64, i int) (shape, colour int) {
	block := rand.New(rand.NewPCG(seed, blockStream|uint64(i/combos)))
	c := block.Perm(combos)[i%combos]
	return c / NumColors, c % NumColors
}

func generateOne(seed uint64, i, res int) Sample {
	rng := rand.New(rand.NewPCG(seed, uint64(i)))
	s := Sample{Size: rng.IntN(NumSizes), Position: rng.IntN(NumPositions), Background: rng.IntN(NumBackgrounds)}
	s.Shape, s.Color = comboOf(seed, i)
	r := sizeRadius[s.Size] * (1 + radiusNoise*(2*rng.Float64()-1))
	cx := positionXY[s.Position][0] + positionNoise*(2*rng.Float64()-1)
	cy := positionXY[s.Position][1] + positionNoise*(2*rng.Float64()-1)
	// Keep a margin of 1% so no shape touches the border.
	cx = min(max(cx, r+0.01), 1-r-0.01)
	cy = min(max(cy, r+0.01), 1-r-0.01)
	fg := jitter(rng, shapeRGB[s.Color], colorNoise)
	bg := jitter(rng, backgroundRGB[s.Background], bgNoise)
	s.Image = image.NewRGBA(image.Rect(0, 0, res, res))
	Draw(s.Image, s.Shape, cx, cy, r, fg, bg)
	for _, t := range rng.Perm(len(captionTemplates))[:CaptionsPerSample] {
		s.Captions = append(s.Captions, captionFrom(rng, t, s.Shape, s.Color, s.Size, s.Position, s.Background))
	}
	return s
}

func jitter(rng *rand.Rand, c color.RGBA, amount int) color.RGBA {
	ch := func(v uint8) uint8 {
		return uint8(min(255, max(0, int(v)+rng.IntN(2*amount+1)-amount)))
	}
	return color.RGBA{ch(c.R), ch(c.G), ch(c.B), 255}
}
