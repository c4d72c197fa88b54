package metrics

import (
	"fmt"
	"math"
)

// InceptionScore is exp(E_x KL(p(y|x) ‖ p(y))) over each of splits equal
// consecutive parts of probs (one class distribution per image, as the
// Inception network's softmax gives), returned as the mean and standard
// deviation over the parts: the score of Salimans et al. (2016) as the
// TensorFlow reference and StyleGAN2-ADA compute it (10 parts, in order).
// A model whose images each show one class, all classes equally often,
// scores the number of classes; one whose images all look alike, 1.
func InceptionScore(probs [][]float64, splits int) (mean, std float64, err error) {
	if splits < 1 || len(probs) < splits {
		return 0, 0, fmt.Errorf("metrics: inception score of %d images in %d parts", len(probs), splits)
	}
	classes := len(probs[0])
	for i, p := range probs {
		if len(p) != classes || classes == 0 {
			return 0, 0, fmt.Errorf("metrics: image %d has %d class probabilities, image 0 %d", i, len(p), classes)
		}
		for _, v := range p {
			if !(v >= 0 && v <= 1) {
				return 0, 0, fmt.Errorf("metrics: image %d has class probability %v", i, v)
			}
		}
	}
	scores := make([]float64, splits)
	for s := range splits {
		part := probs[s*len(probs)/splits : (s+1)*len(probs)/splits]
		marginal := make([]float64, classes)
		for _, p := range part {
			for c, v := range p {
				marginal[c] += v / float64(len(part))
			}
		}
		var kl float64
		for _, p := range part {
			for c, v := range p {
				if v > 0 {
					kl += v * (math.Log(v) - math.Log(marginal[c]))
				}
			}
		}
		scores[s] = math.Exp(kl / float64(len(part)))
	}
	for _, v := range scores {
		mean += v / float64(splits)
	}
	for _, v := range scores {
		std += (v - mean) * (v - mean) / float64(splits)
	}
	return mean, math.Sqrt(std), nil
}
