package clip

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/lafite-go/lafite/safetensors"
	"github.com/lafite-go/lafite/tensor"
	"github.com/lafite-go/lafite/torchfile"
)

// expectedFormats is what every "not a checkpoint" error says we wanted.
const expectedFormats = "expected a CLIP checkpoint: an OpenAI .pt (TorchScript or torch.save zip) or a .safetensors file with OpenAI or Hugging Face CLIPModel names"

// Checkpoint is what ReadCheckpoint found in a file.
type Checkpoint struct {
	Path string
	// Tensors holds the float weights under OpenAI's names.
	Tensors map[string]*tensor.Tensor
	// Ints holds integer scalars: the config buffers of OpenAI's TorchScript
	// archives (input_resolution, context_length, vocab_size).
	Ints map[string]int64
	// Metadata is a safetensors file's metadata; this project's bundles
	// (SaveBundle) keep head counts and a word vocabulary there.
	Metadata map[string]string
}

// Load reads a CLIP checkpoint, choosing the reader by the file's content:
// zip archives (OpenAI's released TorchScript .pt files and torch.save state
// dicts) through package torchfile, safetensors files with OpenAI names or
// Hugging Face CLIPModel names. The shapes fix the Config (see
// ConfigFromStateDict). Errors name the file and what was expected.
func Load(path string) (*Model, error) {
	ck, err := ReadCheckpoint(path)
	if err != nil {
		return nil, err
	}
	return ck.Model()
}

// Model builds the checkpoint's model: the config from the tensor shapes,
// head counts from the metadata when a bundle records them (else width/64),
// checked against the TorchScript config buffers when present.
func (ck *Checkpoint) Model() (*Model, error) {
	fail := func(err error) (*Model, error) {
		return nil, fmt.Errorf("clip: %s: %v (%s)", ck.Path, strings.TrimPrefix(err.Error(), "clip: "), expectedFormats)
	}
	c, err := ConfigFromStateDict(ck.Tensors)
	if err != nil {
		return fail(err)
	}
	for key, heads := range map[string]*int{"vision_heads": &c.VisionHeads, "text_heads": &c.TextHeads} {
		if v, ok := ck.Metadata[key]; ok {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				return fail(fmt.Errorf("metadata %s = %q, expected a positive integer", key, v))
			}
			*heads = n
		}
	}
	for key, want := range map[string]int{"input_resolution": c.ImageResolution, "context_length": c.ContextLength, "vocab_size": c.VocabSize} {
		if v, ok := ck.Ints[key]; ok && v != int64(want) {
			return fail(fmt.Errorf("%s is %d but the weights imply %d", key, v, want))
		}
	}
	m, err := FromStateDictConfig(ck.Tensors, c)
	if err != nil {
		return fail(err)
	}
	return m, nil
}

// WordTokenizer returns the word vocabulary a bundle carries, or nil.
func (ck *Checkpoint) WordTokenizer() (*WordTokenizer, error) {
	v, ok := ck.Metadata["word_vocab"]
	if !ok {
		return nil, nil
	}
	return ParseWordVocab(v, ck.Path)
}

// ReadCheckpoint reads a checkpoint's tensors under OpenAI's names (Hugging
// Face names are converted, a prefix shared by all names is removed).
func ReadCheckpoint(path string) (*Checkpoint, error) {
	kind, err := sniff(path)
	if err != nil {
		return nil, err
	}
	ck := &Checkpoint{Path: path, Ints: map[string]int64{}, Metadata: map[string]string{}}
	switch kind {
	case "zip":
		ck.Tensors, err = loadTorch(path, ck.Ints)
	case "safetensors":
		ck.Tensors, ck.Metadata, err = loadSafetensors(path)
	case "pickle":
		err = errors.New("a legacy (pre-1.6) torch.save pickle; re-save it with a current PyTorch (zip format)")
	default:
		err = errors.New("unknown file format")
	}
	if err == nil {
		ck.Tensors, err = stripPrefix(ck.Tensors)
	}
	if err == nil && IsHFStateDict(ck.Tensors) {
		ck.Tensors, err = FromHFNames(ck.Tensors)
	}
	if err != nil {
		return nil, fmt.Errorf("clip: %s: %v (%s)", path, err, expectedFormats)
	}
	return ck, nil
}

// sniff classifies a file by its first bytes.
func sniff(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("clip: checkpoint %s does not exist (%s)", path, expectedFormats)
		}
		return "", fmt.Errorf("clip: %w", err)
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.IsDir() {
		return "", fmt.Errorf("clip: %s is a directory (%s)", path, expectedFormats)
	}
	head := make([]byte, 9)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("clip: reading %s: %w", path, err)
	}
	head = head[:n]
	switch {
	case bytes.HasPrefix(head, []byte("PK\x03\x04")):
		return "zip", nil
	case len(head) == 9 && head[8] == '{' && binary.LittleEndian.Uint64(head) <= safetensors.MaxHeaderSize:
		return "safetensors", nil
	case len(head) >= 2 && head[0] == 0x80 && head[1] >= 2 && head[1] <= 5:
		return "pickle", nil
	case n < 9:
		return "", fmt.Errorf("clip: %s holds only %d bytes (%s)", path, n, expectedFormats)
	}
	return "", nil
}

// loadTorch converts torchfile's tensors; integer scalars go to info.
func loadTorch(path string, info map[string]int64) (map[string]*tensor.Tensor, error) {
	ts, err := torchfile.Load(path)
	if err != nil {
		return nil, errors.New(strings.TrimPrefix(strings.TrimPrefix(err.Error(), "torchfile: "), path+": "))
	}
	sd := make(map[string]*tensor.Tensor, len(ts))
	for name, t := range ts {
		switch {
		case t.Data != nil && len(t.Data) == t.Numel():
			sd[name] = tensor.New(t.Data, t.Shape...)
		case len(t.Int) == 1 && len(t.Shape) == 0:
			info[name] = t.Int[0]
		default:
			return nil, fmt.Errorf("tensor %s of type %s and shape %v is neither float weights nor an integer scalar", name, t.DType, t.Shape)
		}
	}
	return sd, nil
}

// loadSafetensors converts the float tensors; integer tensors are only
// allowed as Hugging Face's position-id buffers.
func loadSafetensors(path string) (map[string]*tensor.Tensor, map[string]string, error) {
	f, err := safetensors.ReadFile(path)
	if err != nil {
		return nil, nil, errors.New(strings.TrimPrefix(strings.TrimPrefix(err.Error(), "safetensors: "), path+": "))
	}
	sd := make(map[string]*tensor.Tensor, len(f.Tensors))
	for _, name := range f.Order {
		t := f.Tensors[name]
		if !t.DType.IsFloat() {
			if hfIgnored(name) {
				continue
			}
			return nil, nil, fmt.Errorf("tensor %s has dtype %s, expected floating point", name, t.DType)
		}
		d, err := t.Float32()
		if err != nil {
			return nil, nil, err
		}
		sd[name] = tensor.New(d, t.Shape...)
	}
	if f.Metadata == nil {
		f.Metadata = map[string]string{}
	}
	return sd, f.Metadata, nil
}

// stripPrefix removes a prefix shared by every name when the rest is a CLIP
// state dict ("module." from DataParallel, "model." from wrappers), found
// from where the patch-embedding weight sits.
func stripPrefix(sd map[string]*tensor.Tensor) (map[string]*tensor.Tensor, error) {
	prefix, found := "", false
	for _, name := range sortedKeys(sd) {
		for _, anchor := range []string{"visual.conv1.weight", "vision_model.embeddings.patch_embedding.weight"} {
			if p, ok := strings.CutSuffix(name, anchor); ok && (p == "" || strings.HasSuffix(p, ".")) {
				if found && prefix != p {
					return nil, fmt.Errorf("several CLIP models in one file (under %q and %q)", prefix, p)
				}
				prefix, found = p, true
			}
		}
	}
	if prefix == "" {
		return sd, nil
	}
	out := make(map[string]*tensor.Tensor, len(sd))
	for name, t := range sd {
		rest, ok := strings.CutPrefix(name, prefix)
		if !ok {
			return nil, fmt.Errorf("tensor %s is outside the model under %q", name, prefix)
		}
		out[rest] = t
	}
	return out, nil
}
