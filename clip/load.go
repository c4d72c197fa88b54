package clip

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/lafite-go/lafite/safetensors"
	"github.com/lafite-go/lafite/tensor"
	"github.com/lafite-go/lafite/torchfile"
)

// expectedFormats is what every "not a checkpoint" error says we wanted.
const expectedFormats = "expected a CLIP checkpoint: an OpenAI .pt (TorchScript or torch.save zip) or a .safetensors file with OpenAI or Hugging Face CLIPModel names"

// scriptInfo holds the 0-d integer buffers OpenAI's TorchScript archives
// carry beside the weights; they restate the config.
var scriptInfo = []string{"input_resolution", "context_length", "vocab_size"}

// Load reads a CLIP checkpoint, choosing the reader by the file's content:
// zip archives (OpenAI's released TorchScript .pt files and torch.save state
// dicts) through package torchfile, safetensors files with OpenAI names or
// Hugging Face CLIPModel names. The shapes fix the Config (see
// ConfigFromStateDict). Errors name the file and what was expected.
func Load(path string) (*Model, error) {
	sd, info, err := ReadCheckpoint(path)
	if err != nil {
		return nil, err
	}
	m, err := FromStateDict(sd)
	if err != nil {
		return nil, fmt.Errorf("clip: %s: %v (%s)", path, strings.TrimPrefix(err.Error(), "clip: "), expectedFormats)
	}
	want := map[string]int{"input_resolution": m.Config.ImageResolution, "context_length": m.Config.ContextLength, "vocab_size": m.Config.VocabSize}
	for _, k := range scriptInfo {
		if v, ok := info[k]; ok && v != int64(want[k]) {
			return nil, fmt.Errorf("clip: %s: %s is %d but the weights imply %d", path, k, v, want[k])
		}
	}
	return m, nil
}

// ReadCheckpoint reads a checkpoint's float tensors under OpenAI's names
// (Hugging Face names are converted) and its integer scalars (the
// TorchScript config buffers) separately.
func ReadCheckpoint(path string) (map[string]*tensor.Tensor, map[string]int64, error) {
	kind, err := sniff(path)
	if err != nil {
		return nil, nil, err
	}
	var sd map[string]*tensor.Tensor
	info := map[string]int64{}
	switch kind {
	case "zip":
		sd, err = loadTorch(path, info)
	case "safetensors":
		sd, err = loadSafetensors(path)
	case "pickle":
		err = errors.New("a legacy (pre-1.6) torch.save pickle; re-save it with a current PyTorch (zip format)")
	default:
		err = errors.New("unknown file format")
	}
	if err == nil {
		sd, err = stripPrefix(sd)
	}
	if err == nil && IsHFStateDict(sd) {
		sd, err = FromHFNames(sd)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("clip: %s: %v (%s)", path, err, expectedFormats)
	}
	return sd, info, nil
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
func loadSafetensors(path string) (map[string]*tensor.Tensor, error) {
	f, err := safetensors.ReadFile(path)
	if err != nil {
		return nil, errors.New(strings.TrimPrefix(strings.TrimPrefix(err.Error(), "safetensors: "), path+": "))
	}
	sd := make(map[string]*tensor.Tensor, len(f.Tensors))
	for _, name := range f.Order {
		t := f.Tensors[name]
		if !t.DType.IsFloat() {
			if hfIgnored(name) {
				continue
			}
			return nil, fmt.Errorf("tensor %s has dtype %s, expected floating point", name, t.DType)
		}
		d, err := t.Float32()
		if err != nil {
			return nil, err
		}
		sd[name] = tensor.New(d, t.Shape...)
	}
	return sd, nil
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
