package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/lafite-go/lafite/clip"
)

func init() {
	register("clip", "score images against texts with a CLIP model (`lafite clip train`: train the demo's mini-CLIP)", runCLIP)
}

// repeated collects a flag given several times.
type repeated []string

func (r *repeated) String() string     { return strings.Join(*r, ", ") }
func (r *repeated) Set(v string) error { *r = append(*r, v); return nil }

// defaultBPE is looked for beside the model when --vocab is not given.
const defaultBPE = "bpe_simple_vocab_16e6.txt.gz"

func runCLIP(args []string, stdout io.Writer) error {
	if len(args) > 0 && args[0] == "train" { // `lafite clip train` trains the demo's mini-CLIP
		return runCLIPTrain(args[1:], stdout)
	}
	fs := newFlags("clip", stdout)
	model := fs.String("model", "", "CLIP checkpoint: OpenAI .pt (TorchScript or state dict) or .safetensors (OpenAI or Hugging Face names)")
	vocab := fs.String("vocab", "", "vocabulary: "+defaultBPE+" for OpenAI models, or a word vocabulary (default: "+defaultBPE+" beside the model)")
	var texts, images repeated
	fs.Var(&texts, "text", "a text to score (repeatable)")
	fs.Var(&images, "image", "a PNG or JPEG image (repeatable)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case *model == "":
		return errors.New("--model is required")
	case len(texts) == 0:
		return errors.New("give at least one --text")
	case len(images) == 0:
		return errors.New("give at least one --image")
	case fs.NArg() > 0:
		return fmt.Errorf("unexpected arguments %q (texts and images go with --text and --image)", fs.Args())
	}
	// Fail on a missing input before the slow model load.
	if err := mustExist("model", *model); err != nil {
		return err
	}
	for _, p := range images {
		if err := mustExist("image", p); err != nil {
			return err
		}
	}
	ck, err := clip.ReadCheckpoint(*model)
	if err != nil {
		return err
	}
	m, err := ck.Model()
	if err != nil {
		return err
	}
	tok, err := pickTokenizer(*vocab, ck)
	if err != nil {
		return err
	}
	if err := m.CheckTokenizer(tok); err != nil {
		return fmt.Errorf("model %s: %w", *model, err)
	}
	ids, err := tok.Tokenize(texts, m.Config.ContextLength)
	if err != nil {
		return err
	}
	x, err := clip.PreprocessFiles(images, m.Config.ImageResolution)
	if err != nil {
		return err
	}
	sim, err := m.Score(x, ids)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "image\ttext\tprob\tcosine")
	for i, img := range images {
		for j, t := range texts {
			fmt.Fprintf(w, "%s\t%q\t%.4f\t%.4f\n", img, t, sim.Prob[i][j], sim.Cosine[i][j])
		}
	}
	return w.Flush()
}

func mustExist(what, path string) error {
	st, err := os.Stat(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("%s file %s does not exist", what, path)
	case err != nil:
		return err
	case st.IsDir():
		return fmt.Errorf("%s %s is a directory, expected a file", what, path)
	}
	return nil
}

// pickTokenizer uses --vocab when given, else the word vocabulary a bundle
// carries, else OpenAI's BPE file beside the model.
func pickTokenizer(vocab string, ck *clip.Checkpoint) (clip.Tokenizer, error) {
	if vocab != "" {
		if err := mustExist("vocabulary", vocab); err != nil {
			return nil, err
		}
		return clip.LoadTokenizer(vocab)
	}
	if w, err := ck.WordTokenizer(); w != nil || err != nil {
		return w, err
	}
	vocab = filepath.Join(filepath.Dir(ck.Path), defaultBPE)
	if _, err := os.Stat(vocab); err != nil {
		return nil, fmt.Errorf("--vocab is required: %s carries no word vocabulary and there is no %s beside it", ck.Path, defaultBPE)
	}
	return clip.LoadTokenizer(vocab)
}
