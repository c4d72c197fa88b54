package lafite

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/lafite-go/lafite/lafite/metrics"
	"github.com/lafite-go/lafite/lafite/metrics/inception"
	"github.com/lafite-go/lafite/tensor"
)

// EvalOptions size an evaluation of a generator against a dataset.
type EvalOptions struct {
	Samples int     // images to generate (at least 2)
	Batch   int     // images per generator and CLIP call; 16 when 0
	Seed    uint64  // latents and the order of the conditions
	Psi     float32 // truncation; 1 for none
	// Progress, when set, is called after each batch.
	Progress func(done, total int)
	// RealStats, when set, are the dataset's image-feature statistics
	// (metrics.TensorStats of ImageFts), kept by a caller that evaluates
	// the same dataset again (training's snapshots).
	RealStats *metrics.Stats
	// Inception, when set, adds the paper's scores: the FID between the
	// Inception pool features of the generated images and the dataset's,
	// and the Inception Score (with a classifier). InceptionReal, when
	// set, are the dataset's statistics (InceptionStats), else they are
	// computed here from every image of the dataset.
	Inception     *inception.Network
	InceptionReal *metrics.Stats
}

// EvalReport measures a generator in the CLIP space it was trained in,
// which needs no other model: FID_CLIP is taken between CLIP image
// features and is not comparable with Inception-feature FIDs. With the
// Inception network's weights it also has the paper's FID and IS.
type EvalReport struct {
	Samples   int
	Condition string // "captions" (text features, as at inference) or "image features"
	// FIDCLIP is the Fréchet distance between the CLIP image features of
	// the generated images and those of the dataset's images.
	FIDCLIP float64
	// CLIPScore is the mean cosine between a generated image's CLIP
	// feature and its condition; ShuffledCLIPScore pairs each image with
	// another sample's condition instead, so their gap is how much the
	// images follow their own conditions rather than the dataset's average.
	CLIPScore, ShuffledCLIPScore float64
	// RealCLIPScore is CLIPScore's value for the dataset's own images and
	// captions, a ceiling to read CLIPScore against (NaN without captions).
	RealCLIPScore float64
	RealImages    int
	// FID is the Fréchet Inception Distance against the dataset's images
	// (InceptionRealImages of them), IS ± ISStd the Inception Score; NaN
	// without the Inception network (IS also without its classifier).
	FID, IS, ISStd      float64
	InceptionRealImages int
}

// Evaluate generates o.Samples images, conditioned on the dataset's caption
// features when it has captions (each caption in a seeded order, cycled),
// else on its image features, encodes them with enc as the dataset's
// images were encoded (through 8-bit RGBA), and scores them (EvalReport).
// The same seed, samples and batch give the same report.
func Evaluate(g *Generator, ds *MemoryDataset, enc FeatureEncoder, o EvalOptions) (EvalReport, error) {
	if o.Samples < 2 {
		return EvalReport{}, fmt.Errorf("evaluate: %d samples, need at least 2", o.Samples)
	}
	if o.Batch < 1 {
		o.Batch = 16
	}
	if err := ds.Index(); err != nil {
		return EvalReport{}, err
	}
	if fd := ds.ImageFts.Size(1); fd != g.Config.FDim {
		return EvalReport{}, fmt.Errorf("evaluate: the dataset's features have size %d, the generator's conditions %d", fd, g.Config.FDim)
	}
	if ds.Len() < 2 {
		return EvalReport{}, fmt.Errorf("evaluate: the dataset has %d images, need at least 2", ds.Len())
	}
	r := EvalReport{Samples: o.Samples, Condition: "image features", RealCLIPScore: math.NaN(), RealImages: ds.Len(),
		FID: math.NaN(), IS: math.NaN(), ISStd: math.NaN()}
	var incep *inceptionScores
	if o.Inception != nil {
		incep = &inceptionScores{net: o.Inception}
	}
	d := ds.ImageFts.Size(1)
	pool := ds.ImageFts
	imgRows := pool.To(tensor.CPU).Contiguous().Data()
	poolRows := imgRows // the conditions' features, d floats a row
	if ds.CaptionFts != nil && ds.CaptionFts.Size(0) > 0 {
		r.Condition, pool = "captions", ds.CaptionFts
		poolRows = pool.To(tensor.CPU).Contiguous().Data()
		var sum float64
		for c, i := range ds.CaptionImage {
			sum += dot(imgRows[i*d:(i+1)*d], poolRows[c*d:(c+1)*d])
		}
		r.RealCLIPScore = sum / float64(len(ds.CaptionImage))
	}
	draw := rand.New(rand.NewPCG(o.Seed, 0x1af17e))
	order := draw.Perm(pool.Size(0))
	conds := make([]int, o.Samples)
	for k := range conds {
		conds[k] = order[k%len(order)]
	}
	var gen [][]float64
	for lo := 0; lo < o.Samples; lo += o.Batch {
		idx := conds[lo:min(lo+o.Batch, o.Samples)]
		// On a GPU each batch's memory is freed before the next: only the
		// features, on the host, are kept.
		scope := tensor.OpenScope()
		c := tensor.IndexSelect(pool, 0, idx)
		img, err := Generate(g, c, draw.Uint64(), o.Psi)
		var f *tensor.Tensor
		if err == nil {
			imgs := TensorToImages(img)
			f, err = enc.EncodeImages(imgs)
			if err != nil {
				err = fmt.Errorf("evaluate: CLIP image features: %v", err)
			} else if incep != nil {
				err = incep.add(imgs)
			}
		}
		if err == nil {
			gen = append(gen, metrics.Rows(f.To(tensor.CPU))...)
		}
		scope.Close()
		if err != nil {
			return EvalReport{}, err
		}
		if o.Progress != nil {
			o.Progress(len(gen), o.Samples)
		}
	}
	cond := func(k int) []float32 { i := conds[k%len(conds)]; return poolRows[i*d : (i+1)*d] }
	var matched, shuffled float64
	for k, f := range gen {
		matched += dotMixed(f, cond(k))
		shuffled += dotMixed(f, cond(k+1))
	}
	r.CLIPScore, r.ShuffledCLIPScore = matched/float64(len(gen)), shuffled/float64(len(gen))
	realStats := o.RealStats
	if realStats == nil {
		s, err := metrics.TensorStats(ds.ImageFts)
		if err != nil {
			return EvalReport{}, fmt.Errorf("evaluate: the dataset's features: %v", err)
		}
		realStats = &s
	}
	genStats, err := metrics.ComputeStats(gen)
	if err != nil {
		return EvalReport{}, fmt.Errorf("evaluate: the generated images' features: %v", err)
	}
	if r.FIDCLIP, err = metrics.FIDFromStats(genStats, *realStats); err != nil {
		return EvalReport{}, fmt.Errorf("evaluate: %v", err)
	}
	if incep != nil {
		realStats := o.InceptionReal
		if realStats == nil {
			s, err := InceptionStats(o.Inception, ds, o.Batch, nil)
			if err != nil {
				return EvalReport{}, err
			}
			realStats = &s
		}
		if err := incep.report(&r, *realStats); err != nil {
			return EvalReport{}, err
		}
	}
	return r, nil
}

func dot(a, b []float32) float64 {
	var s float64
	for i := range a {
		s += float64(a[i]) * float64(b[i])
	}
	return s
}

func dotMixed(a []float64, b []float32) float64 {
	var s float64
	for i := range a {
		s += a[i] * float64(b[i])
	}
	return s
}
