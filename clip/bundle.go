package clip

import (
	"fmt"
	"strings"

	"github.com/lafite-go/lafite/nn"
	"github.com/lafite-go/lafite/safetensors"
	"github.com/lafite-go/lafite/tensor"
)

// A bundle is a CLIP model saved by this project: OpenAI tensor names in a
// safetensors file whose metadata also carries the word vocabulary (for
// models trained here with the word-level tokenizer) and the head counts
// (which OpenAI's checkpoints leave to be inferred as width/64).

// SaveBundle writes m (and tok's vocabulary, when tok is a *WordTokenizer)
// atomically.
func SaveBundle(path string, m *Model, tok Tokenizer) error {
	var ts []*safetensors.Tensor
	for _, p := range nn.AllParams(m) {
		v := p.Var.Value
		ts = append(ts, safetensors.F32Tensor(p.Name, v.Shape(), v.ToSlice()))
	}
	meta := map[string]string{
		"format":       "lafite-go clip v1",
		"vision_heads": fmt.Sprint(m.Config.VisionHeads),
		"text_heads":   fmt.Sprint(m.Config.TextHeads),
	}
	if w, ok := tok.(*WordTokenizer); ok {
		meta["word_vocab"] = strings.Join(w.Words(), "\n")
	}
	return safetensors.WriteFile(path, ts, meta)
}

// LoadBundle reads a CLIP checkpoint (anything ReadCheckpoint accepts) and
// its tokenizer: the BPE vocabulary at vocabPath when given, else the
// bundle's word vocabulary (nil tokenizer when neither exists).
func LoadBundle(modelPath, vocabPath string) (*Model, Tokenizer, error) {
	ck, err := ReadCheckpoint(modelPath)
	if err != nil {
		return nil, nil, err
	}
	m, err := ck.Model()
	if err != nil {
		return nil, nil, err
	}
	if vocabPath != "" {
		tok, err := LoadBPE(vocabPath)
		if err != nil {
			return nil, nil, err
		}
		return m, tok, m.CheckTokenizer(tok)
	}
	w, err := ck.WordTokenizer()
	if err != nil || w == nil {
		return m, nil, err
	}
	return m, w, m.CheckTokenizer(w)
}

// FromStateDictConfig builds a model of the given configuration from
// OpenAI-named tensors (the 0-d metadata entries of TorchScript archives are
// ignored; anything else missing or unexpected is an error).
func FromStateDictConfig(sd map[string]*tensor.Tensor, c Config) (*Model, error) {
	if err := c.validate(); err != nil {
		return nil, fmt.Errorf("clip: %v", err)
	}
	m := New(c, nil) // zeros: random init of a ViT-B/32 would cost seconds
	clean := map[string]*tensor.Tensor{}
	for k, v := range sd {
		switch k {
		case "input_resolution", "context_length", "vocab_size":
			continue
		}
		clean[k] = v
	}
	if err := nn.LoadStateDict(m, clean, true); err != nil {
		return nil, fmt.Errorf("clip: %v", err)
	}
	return m, nil
}
