package lafite

import (
	"encoding/json"
	"fmt"
	"os"
	"path"
	"strings"
)

// COCO's caption files (captions_train2014.json, captions_val2017.json)
// give an image's captions by id, its file name in "images": MS-COCO is the
// paper's main benchmark, and its images come without name.txt files.

type cocoCaptionFile struct {
	Images []struct {
		ID       int64  `json:"id"`
		FileName string `json:"file_name"`
	} `json:"images"`
	Annotations []struct {
		ImageID int64  `json:"image_id"`
		Caption string `json:"caption"`
	} `json:"annotations"`
}

// ReadCOCOCaptions reads a COCO captions file into each image's captions
// by file name (as "images" lists it), in the file's order, trimmed.
func ReadCOCOCaptions(file string) (map[string][]string, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var f cocoCaptionFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("%s: not a COCO captions file: %v", file, err)
	}
	if len(f.Images) == 0 || len(f.Annotations) == 0 {
		return nil, fmt.Errorf("%s: no \"images\" or no \"annotations\": not a COCO captions file", file)
	}
	names := make(map[int64]string, len(f.Images))
	for _, im := range f.Images {
		names[im.ID] = im.FileName
	}
	out := make(map[string][]string, len(f.Images))
	for _, a := range f.Annotations {
		name, ok := names[a.ImageID]
		if c := strings.TrimSpace(a.Caption); ok && c != "" {
			out[name] = append(out[name], c)
		}
	}
	return out, nil
}

// UseCaptions makes Read take each image's captions from byName (by its
// file name without folders, as COCO names them) instead of name.txt
// files; an image it does not list has none. It returns how many of the
// folder's images have captions there.
func (f *ImageFolder) UseCaptions(byName map[string][]string) (captioned int) {
	f.captions = byName
	for _, n := range f.names {
		if len(f.captionsOf(n)) > 0 {
			captioned++
		}
	}
	return captioned
}

// captionsOf is image name's captions from UseCaptions' table.
func (f *ImageFolder) captionsOf(name string) []string {
	return f.captions[path.Base(name)]
}
