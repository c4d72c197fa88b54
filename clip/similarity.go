package clip

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/lafite-go/lafite/autograd"
	"github.com/lafite-go/lafite/tensor"
)

// LoadTokenizer opens a vocabulary by its content: a gzipped merges file is
// OpenAI's BPE (LoadBPE), anything else a word vocabulary (LoadWordTokenizer).
func LoadTokenizer(path string) (Tokenizer, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("clip: vocabulary %s does not exist (expected bpe_simple_vocab_16e6.txt.gz or a word vocabulary)", path)
		}
		return nil, fmt.Errorf("clip: %w", err)
	}
	head := make([]byte, 2)
	n, _ := io.ReadFull(f, head)
	f.Close()
	if bytes.Equal(head[:n], []byte{0x1f, 0x8b}) {
		return LoadBPE(path)
	}
	return LoadWordTokenizer(path)
}

// Similarity scores every image against every text.
type Similarity struct {
	// Cosine[i][j] is the cosine of image i's and text j's features.
	Cosine [][]float32
	// Prob[i] is softmax over texts of exp(logit_scale)·Cosine[i], CLIP's
	// zero-shot probabilities.
	Prob [][]float32
}

// Score encodes normalised images [N, 3, res, res] and token rows, and
// compares them. It runs without recording gradients.
func (m *Model) Score(images *tensor.Tensor, tokens [][]int) (*Similarity, error) {
	var s *Similarity
	var err error
	autograd.NoGrad(func() {
		img := Normalize(m.EncodeImage(autograd.Const(images)))
		var txt *autograd.Var
		if txt, err = m.EncodeText(tokens); err != nil {
			return
		}
		cos := autograd.Matmul(img, autograd.Transpose(Normalize(txt), 0, 1))
		prob := autograd.Softmax(autograd.Mul(cos, autograd.Exp(m.LogitScale)), 1)
		s = &Similarity{Cosine: rows(cos.Value), Prob: rows(prob.Value)}
	})
	return s, err
}

func rows(t *tensor.Tensor) [][]float32 {
	d := t.Contiguous().ToSlice()
	n, k := t.Size(0), t.Size(1)
	out := make([][]float32, n)
	for i := range out {
		out[i] = d[i*k : (i+1)*k]
	}
	return out
}

// CheckTokenizer reports whether tok's ids fit the model's embedding table.
func (m *Model) CheckTokenizer(tok Tokenizer) error {
	if v := tok.VocabSize(); v > m.Config.VocabSize {
		return fmt.Errorf("clip: the vocabulary has %d tokens but the model embeds only %d: use the vocabulary the model was trained with", v, m.Config.VocabSize)
	}
	return nil
}
