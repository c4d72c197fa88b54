package main

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// lafite fid (the 1/16-width test network): a folder against itself is 0
// (its broken file skipped by name), kept statistics stand in for their
// folder, another folder is farther; inputs are checked first.
func TestFIDBetweenFolders(t *testing.T) {
	dir, _, imgDir := fixture(t)
	weights := filepath.Join("..", "..", "lafite", "metrics", "inception", "testdata", "tiny_inception.pth")
	fidOf := func(out string) float64 {
		t.Helper()
		m := regexp.MustCompile(`FID (\S+)`).FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("no FID in:\n%s", out)
		}
		v, err := strconv.ParseFloat(m[1], 64)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	stats := filepath.Join(dir, "real.safetensors")
	out := runCLI(t, "fid", "--inception", weights, "--batch", "4", "--save-stats", stats, "--quiet", imgDir, imgDir)
	if !strings.Contains(out, "skipped broken.png") || !strings.Contains(out, imgDir+": 9 images") || fidOf(out) > 1e-3 {
		t.Fatalf("a folder against itself:\n%s", out)
	}
	if out := runCLI(t, "inspect", stats, weights); !strings.Contains(out, "statistics: 9 images, 128 features (") ||
		!strings.Contains(out, "Inception-v3 of the FID: 128 features, 63 classes") {
		t.Fatalf("inspect of statistics and weights:\n%s", out)
	}
	if out := runCLI(t, "fid", "--inception", weights, "--quiet", stats, imgDir); fidOf(out) > 1e-3 || !strings.Contains(out, "statistics of 9 images") {
		t.Fatalf("kept statistics against their folder:\n%s", out)
	}
	other := filepath.Join(dir, "other")
	os.MkdirAll(other, 0o755)
	for i := range 5 { // flat colours of another size: a batch of their own
		im := image.NewNRGBA(image.Rect(0, 0, 20, 12))
		for p := range 20 * 12 {
			im.Set(p%20, p/20, color.NRGBA{uint8(50 * i), 200, uint8(255 - 40*i), 255})
		}
		var b bytes.Buffer
		png.Encode(&b, im)
		os.WriteFile(filepath.Join(other, fmt.Sprintf("c%d.png", i)), b.Bytes(), 0o644)
	}
	if out := runCLI(t, "fid", "--inception", weights, "--quiet", stats, other); !(fidOf(out) > 0.01) {
		t.Fatalf("another folder:\n%s", out)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{imgDir, imgDir}, "--inception is required"},
		{[]string{"--inception", weights, imgDir}, "with one input, --save-stats"},
		{[]string{"--inception", weights, imgDir, imgDir, imgDir}, "give one or two inputs"},
		{[]string{"--inception", weights, "--save-stats", filepath.Join(dir, "x.safetensors"), stats}, "already holds statistics"},
	} {
		if se := runCLIFailing(t, append([]string{"fid"}, c.args...)...); !strings.Contains(se, c.want) {
			t.Errorf("fid %v: %q, want %q", c.args, se, c.want)
		}
	}
}
