package lafite

import (
	"archive/zip"
	"os"
	"path/filepath"
	"testing"

	"github.com/lafite-go/lafite/internal/fuzzfile"
	"github.com/lafite-go/lafite/tensor"
)

// Every loader of a file the user names turns a damaged file into an
// error, never a panic or a model its tensors cannot fill (model_size.go).
// Each fuzz target starts from a valid file written by the matching Save;
// go test runs the seeds, `go test -fuzz` mutates them.

func FuzzLoadCheckpoint(f *testing.F) {
	cfg, data, clipFeats := tinySetup(f)
	tr, err := NewTrainer(cfg, data, clipFeats)
	if err != nil {
		f.Fatal(err)
	}
	seed := filepath.Join(f.TempDir(), "ckpt.safetensors")
	if err := tr.Save(seed); err != nil {
		f.Fatal(err)
	}
	fuzzfile.Fuzz(f, seed, func(path string) error {
		_, err := LoadCheckpoint(path, data, clipFeats)
		return err
	})
}

func FuzzLoadGenerator(f *testing.F) {
	cfg, _, _ := tinySetup(f)
	g, err := NewGenerator(cfg.G, tensor.NewRNG(1))
	if err != nil {
		f.Fatal(err)
	}
	seed := filepath.Join(f.TempDir(), "g.safetensors")
	if err := SaveGenerator(seed, g, cfg); err != nil {
		f.Fatal(err)
	}
	fuzzfile.Fuzz(f, seed, func(path string) error {
		_, err := LoadGenerator(path)
		return err
	})
}

func FuzzLoadDataset(f *testing.F) {
	_, data, _ := tinySetup(f)
	seed := filepath.Join(f.TempDir(), "d.safetensors")
	if err := (&DatasetFile{MemoryDataset: data, Names: make([]string, data.Len()), Resolution: 16}).Save(seed); err != nil {
		f.Fatal(err)
	}
	fuzzfile.Fuzz(f, seed, func(path string) error {
		_, err := LoadDataset(path)
		return err
	})
}

// FuzzReadImages: a zip of images and captions, entries stored so that
// mutations reach the PNGs' and JPEGs' bytes as well as the archive's.
func FuzzReadImages(f *testing.F) {
	seed := filepath.Join(f.TempDir(), "images.zip")
	writeZip(f, seed, map[string][]byte{
		"a.png": encodedImage(f, "png", 6, 4), "a.txt": []byte("a caption"), "b.jpg": encodedImage(f, "jpeg", 5, 5),
	}, zip.Store)
	fuzzfile.Fuzz(f, seed, func(path string) error {
		_, _, err := ReadImages(path)
		return err
	})
}

func FuzzReadLog(f *testing.F) {
	seed := filepath.Join(f.TempDir(), "log.jsonl")
	if err := os.WriteFile(seed, []byte(`{"kimg":0.1,"losses":{"G":1.5}}`+"\n"+`{"kimg":0.2,"losses":{"D":0.5}}`+"\n"), 0o644); err != nil {
		f.Fatal(err)
	}
	fuzzfile.Fuzz(f, seed, func(path string) error {
		_, err := ReadLog(path)
		return err
	})
}

// FuzzRestoreDatasetPart: a damaged part of a kept build (the first of
// two) is refused by name, never read into a dataset it cannot fill.
func FuzzRestoreDatasetPart(f *testing.F) {
	o := BuildOptions{Batch: 2, Captions: true, PartImages: 4, Source: "fuzz"}
	o.Parts = filepath.Join(f.TempDir(), "seed.parts")
	if _, _, err := BuildDataset(partsTestList(), 4, &meanColourEncoder{}, o); err != nil {
		f.Fatal(err)
	}
	manifest, err := os.ReadFile(filepath.Join(o.Parts, "build.json"))
	if err != nil {
		f.Fatal(err)
	}
	fuzzfile.Fuzz(f, filepath.Join(o.Parts, "part-000000.safetensors"), func(path string) error {
		dir, err := os.MkdirTemp("", "parts")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		part, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		os.WriteFile(filepath.Join(dir, "build.json"), manifest, 0o644)
		os.WriteFile(filepath.Join(dir, "part-000000.safetensors"), part, 0o644)
		fuzzed := o
		fuzzed.Parts = dir
		_, _, err = BuildDataset(partsTestList(), 4, &meanColourEncoder{}, fuzzed)
		return err
	})
}

func FuzzReadCOCOCaptions(f *testing.F) {
	seed := filepath.Join(f.TempDir(), "captions.json")
	if err := os.WriteFile(seed, []byte(`{"images": [{"id": 7, "file_name": "a.png"}], "annotations": [{"image_id": 7, "caption": "a dog"}]}`), 0o644); err != nil {
		f.Fatal(err)
	}
	fuzzfile.Fuzz(f, seed, func(path string) error {
		_, err := ReadCOCOCaptions(path)
		return err
	})
}
