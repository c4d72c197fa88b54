package clip

import (
	"fmt"

	"github.com/lafite-go/lafite/autograd"
	"github.com/lafite-go/lafite/tensor"
)

// RetrievalReport is a zero-shot classification of images by their nearest
// prompt in CLIP space.
type RetrievalReport struct {
	Images, Classes int
	// Accuracy is the fraction of images whose most similar prompt is their
	// own class's.
	Accuracy float64
	// AttributeAccuracy[k] is the fraction of images whose most similar
	// prompt has the right value of attribute k (e.g. the right colour even
	// if the shape is wrong).
	AttributeAccuracy []float64
	// TrueCosine is the mean cosine between an image's feature and its own
	// prompt's; OtherCosine the mean over the other prompts. Their gap is
	// the modality gap Lafite's pseudo-text perturbation has to bridge.
	TrueCosine, OtherCosine float64
}

// evalBatch bounds the images encoded at once, to bound memory.
const evalBatch = 64

// EncodeImagesSigned returns L2-normalised features [N, embed] of images
// [N, 3, res, res] in [−1, 1] (normalised by PreprocessSigned), in batches,
// without recording gradients.
func (m *Model) EncodeImagesSigned(images *tensor.Tensor) *tensor.Tensor {
	res := m.Config.ImageResolution
	if images.Dim() != 4 || images.Size(1) != 3 || images.Size(2) != res || images.Size(3) != res {
		panic(fmt.Sprintf("clip.EncodeImagesSigned: images of shape %v, want [N, 3, %d, %d]", images.Shape(), res, res))
	}
	n := images.Size(0)
	parts := make([]*tensor.Tensor, 0, (n+evalBatch-1)/evalBatch)
	autograd.NoGrad(func() {
		for lo := 0; lo < n; lo += evalBatch {
			x := PreprocessSigned(images.Narrow(0, lo, min(evalBatch, n-lo)))
			parts = append(parts, Normalize(m.EncodeImage(autograd.Const(x))).Value)
		}
	})
	return tensor.Concat(parts, 0)
}

// EncodeTexts returns L2-normalised features [N, embed] of texts, without
// recording gradients.
func (m *Model) EncodeTexts(tok Tokenizer, texts []string) (*tensor.Tensor, error) {
	ids, err := tok.Tokenize(texts, m.Config.ContextLength)
	if err != nil {
		return nil, err
	}
	var f *tensor.Tensor
	autograd.NoGrad(func() {
		var e *autograd.Var
		if e, err = m.EncodeText(ids); err == nil {
			f = Normalize(e).Value
		}
	})
	return f, err
}

// EvaluateRetrieval classifies images [N, 3, res, res] in [−1, 1] among
// prompts (one per class) by cosine similarity; labels[i] is image i's class.
// Each of attributes maps a class to the value of one of its attributes
// (e.g. shape, colour), giving one AttributeAccuracy each.
func EvaluateRetrieval(m *Model, tok Tokenizer, images *tensor.Tensor, labels []int, prompts []string, attributes ...[]int) (RetrievalReport, error) {
	c := len(prompts)
	if c < 2 {
		return RetrievalReport{}, fmt.Errorf("clip.EvaluateRetrieval: %d prompts, need at least 2", c)
	}
	if images.Dim() < 1 || images.Size(0) != len(labels) || len(labels) == 0 {
		return RetrievalReport{}, fmt.Errorf("clip.EvaluateRetrieval: images of shape %v with %d labels", images.Shape(), len(labels))
	}
	for i, l := range labels {
		if l < 0 || l >= c {
			return RetrievalReport{}, fmt.Errorf("clip.EvaluateRetrieval: label %d of image %d is not a class of the %d prompts", l, i, c)
		}
	}
	for k, a := range attributes {
		if len(a) != c {
			return RetrievalReport{}, fmt.Errorf("clip.EvaluateRetrieval: attribute %d gives %d values for %d classes", k, len(a), c)
		}
	}
	txt, err := m.EncodeTexts(tok, prompts)
	if err != nil {
		return RetrievalReport{}, err
	}
	img := m.EncodeImagesSigned(images)
	cos := tensor.Matmul(img, txt.Transpose(0, 1)).Contiguous().Data() // [N, C]
	n := len(labels)
	r := RetrievalReport{Images: n, Classes: c, AttributeAccuracy: make([]float64, len(attributes))}
	var right int
	var trueSum, otherSum float64
	for i, l := range labels {
		row := cos[i*c : (i+1)*c]
		best := 0
		for j, v := range row {
			if v > row[best] {
				best = j
			}
			if j == l {
				trueSum += float64(v)
			} else {
				otherSum += float64(v)
			}
		}
		if best == l {
			right++
		}
		for k, a := range attributes {
			if a[best] == a[l] {
				r.AttributeAccuracy[k]++
			}
		}
	}
	r.Accuracy = float64(right) / float64(n)
	for k := range r.AttributeAccuracy {
		r.AttributeAccuracy[k] /= float64(n)
	}
	r.TrueCosine = trueSum / float64(n)
	r.OtherCosine = otherSum / float64(n*(c-1))
	return r, nil
}
