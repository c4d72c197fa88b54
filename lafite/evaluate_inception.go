package lafite

import (
	"fmt"
	"image"

	"github.com/lafite-go/lafite/lafite/metrics"
	"github.com/lafite-go/lafite/lafite/metrics/inception"
	"github.com/lafite-go/lafite/tensor"
)

// The paper's scores (FID and IS with the Inception network), when the
// caller has the network's weights: Evaluate adds them to the CLIP-space
// scores, InceptionStats gives the dataset's side of the FID.

// unitImages is generated images [N, 3, H, W] in [0, 1], as the Inception
// preprocessing takes them: 8-bit pixels / 255 (they are opaque, so their
// premultiplied pixels are the plain ones).
func unitImages(imgs []*image.RGBA) *tensor.Tensor {
	plain := make([]*image.NRGBA, len(imgs))
	for i, im := range imgs {
		plain[i] = &image.NRGBA{Pix: im.Pix, Stride: im.Stride, Rect: im.Rect}
	}
	return nrgbaUnit(plain)
}

// datasetUnitImages is images idx of ds in [0, 1]: its bytes / 255, or its
// float images mapped from [-1, 1].
func datasetUnitImages(ds *MemoryDataset, idx []int) *tensor.Tensor {
	if b := ds.Bytes; b != nil {
		size := b.C * b.H * b.W
		out := tensor.Empty(len(idx), b.C, b.H, b.W)
		d := out.Data()
		for k, i := range idx {
			for j, v := range b.Pix[i*size : (i+1)*size] {
				d[k*size+j] = float32(v) / 255
			}
		}
		return out
	}
	x := tensor.IndexSelect(ds.Images.To(tensor.CPU), 0, idx)
	return tensor.MulScalar(tensor.AddScalar(x, 1), 0.5)
}

// InceptionStats is the statistics of the Inception pool features of every
// image of ds, run batch images at a time: the real side of the FID,
// worth keeping (metrics.SaveStats) for the next evaluation of the same
// dataset.
func InceptionStats(net *inception.Network, ds *MemoryDataset, batch int, progress func(done, total int)) (metrics.Stats, error) {
	n := ds.Len()
	if n < 2 {
		return metrics.Stats{}, fmt.Errorf("inception statistics: %d images, need at least 2", n)
	}
	if c, _, _ := ds.ImageShape(); c != 3 {
		return metrics.Stats{}, fmt.Errorf("inception statistics: images of %d channels, want RGB", c)
	}
	batch = max(batch, 1)
	all := tensor.Empty(n, net.Features)
	rows := all.Data()
	idx := make([]int, 0, batch)
	for lo := 0; lo < n; lo += batch {
		idx = idx[:0]
		for i := lo; i < min(lo+batch, n); i++ {
			idx = append(idx, i)
		}
		f, _, err := net.Run(datasetUnitImages(ds, idx))
		if err != nil {
			return metrics.Stats{}, err
		}
		copy(rows[lo*net.Features:], f.Contiguous().Data())
		if progress != nil {
			progress(lo+len(idx), n)
		}
	}
	return metrics.TensorStats(all)
}

// inceptionScores are the generated images' side: their pool features and
// class probabilities, gathered batch by batch.
type inceptionScores struct {
	net      *inception.Network
	features [][]float64
	probs    [][]float64
}

func (s *inceptionScores) add(imgs []*image.RGBA) error {
	f, _, err := s.net.Run(unitImages(imgs))
	if err != nil {
		return err
	}
	s.features = append(s.features, metrics.Rows(f)...)
	if p := s.net.ClassProbabilities(f); p != nil {
		s.probs = append(s.probs, metrics.Rows(p)...)
	}
	return nil
}

// report fills r's FID against realStats (the dataset's) and, with a
// classifier, its Inception Score over 10 parts (fewer for fewer than 20
// images: a part of one image always scores 1).
func (s *inceptionScores) report(r *EvalReport, realStats metrics.Stats) error {
	gen, err := metrics.ComputeStats(s.features)
	if err != nil {
		return fmt.Errorf("evaluate: the generated images' Inception features: %v", err)
	}
	if r.FID, err = metrics.FIDFromStats(gen, realStats); err != nil {
		return fmt.Errorf("evaluate: Inception FID: %v", err)
	}
	r.InceptionRealImages = realStats.N
	if len(s.probs) > 0 {
		if r.IS, r.ISStd, err = metrics.InceptionScore(s.probs, max(1, min(10, len(s.probs)/2))); err != nil {
			return fmt.Errorf("evaluate: %v", err)
		}
	}
	return nil
}
