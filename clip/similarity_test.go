package clip

import (
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lafite-go/lafite/internal/goldendir"
	"github.com/lafite-go/lafite/tensor"
)

func TestLoadTokenizerChoosesByContent(t *testing.T) {
	bpe, err := LoadTokenizer(filepath.Join(goldendir.Dir(t), "clip_files", "bpe_simple_vocab_16e6.txt.gz"))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := bpe.(*BPETokenizer); !ok || bpe.VocabSize() != 49408 {
		t.Fatalf("gzipped merges gave %T with %d tokens", bpe, bpe.VocabSize())
	}
	path := filepath.Join(t.TempDir(), "words.txt")
	if err := BuildWordTokenizer([]string{"red square", "blue circle"}, 1).Save(path); err != nil {
		t.Fatal(err)
	}
	words, err := LoadTokenizer(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := words.(*WordTokenizer); !ok || words.VocabSize() != 8 {
		t.Fatalf("word vocabulary gave %T with %d tokens", words, words.VocabSize())
	}
	missing := filepath.Join(t.TempDir(), "none.txt")
	if _, err := LoadTokenizer(missing); err == nil || !strings.Contains(err.Error(), missing) {
		t.Fatalf("missing vocabulary: %v", err)
	}
}

func TestScoreIsSoftmaxOfScaledCosines(t *testing.T) {
	c := Config{EmbedDim: 8, ImageResolution: 8, VisionLayers: 1, VisionWidth: 16, VisionPatch: 4, VisionHeads: 2,
		ContextLength: 5, VocabSize: 9, TextWidth: 16, TextHeads: 2, TextLayers: 1}
	m := New(c, tensor.NewRNG(3))
	tokens := [][]int{{7, 1, 8, 0, 0}, {7, 2, 3, 8, 0}, {7, 8, 0, 0, 0}}
	s, err := m.Score(tensor.NewRNG(4).Normal(2, 3, 8, 8), tokens)
	if err != nil {
		t.Fatal(err)
	}
	scale := math.Exp(float64(m.LogitScale.Item()))
	for i := range s.Prob {
		var z, sum float64
		for _, c := range s.Cosine[i] {
			if math.Abs(float64(c)) > 1+1e-6 {
				t.Fatalf("cosine %v outside [-1, 1]", c)
			}
			z += math.Exp(scale * float64(c))
		}
		for j, p := range s.Prob[i] {
			if want := math.Exp(scale*float64(s.Cosine[i][j])) / z; math.Abs(float64(p)-want) > 1e-5 {
				t.Fatalf("prob[%d][%d] = %v, want %v", i, j, p, want)
			}
			sum += float64(p)
		}
		if math.Abs(sum-1) > 1e-5 {
			t.Fatalf("row %d sums to %v", i, sum)
		}
	}
	if err := m.CheckTokenizer(BuildWordTokenizer([]string{"a b c d e f g"}, 1)); err == nil {
		t.Fatal("a 11-token vocabulary passed for a 9-row embedding")
	}
	if _, err := m.Score(tensor.Zeros(1, 3, 8, 8), [][]int{{7, 9, 0, 0, 0}}); err == nil {
		t.Fatal("an id beyond the vocabulary was accepted")
	}
}
