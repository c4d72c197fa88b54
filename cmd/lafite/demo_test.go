package main

import (
	"bytes"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The main command on the bundled models: the table ends with the
// joint-accuracy line, and the grid is a PNG with one cell per prompt.
func TestDemoCommandRunsTheBundledModels(t *testing.T) {
	out := t.TempDir()
	text := runCLI(t, "demo", "--out", out, "-n", "2")
	lines := strings.Split(strings.TrimSpace(text), "\n")
	last := lines[len(lines)-1]
	if !regexp.MustCompile(`^joint accuracy: \d+\.\d% \(chance 2\.1%, shuffled-prompt baseline \d+\.\d%\)$`).MatchString(last) {
		t.Fatalf("last line %q; want the joint-accuracy line\n%s", last, text)
	}
	for _, want := range []string{"colour accuracy:", "shape accuracy:", "judge-feature FID"} {
		if !strings.Contains(text, want) {
			t.Errorf("table lacks %q:\n%s", want, text)
		}
	}
	data, err := os.ReadFile(filepath.Join(out, "demo.png"))
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("demo.png: %v", err)
	}
	// 8 colours across, 6 shapes down, each cell a 32-pixel image scaled up
	// with a label under it.
	if b := img.Bounds(); b.Dx() < 8*32 || b.Dy() < 6*32 {
		t.Fatalf("grid %v too small for 8 x 6 images", b)
	}
}

// Flags without a command go to the demo, the default command.
func TestFlagsAloneRunTheDemo(t *testing.T) {
	out := t.TempDir()
	text := runCLI(t, "--out", out, "-n", "1")
	if !strings.Contains(text, "joint accuracy:") {
		t.Fatalf("lafite --out: no demo table:\n%s", text)
	}
	if _, err := os.Stat(filepath.Join(out, "demo.png")); err != nil {
		t.Fatal(err)
	}
}

func TestDemoCommandRejectsBadFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"demo", "-n", "0"}, "-n must be positive"},
		{[]string{"demo", "--psi", "0"}, "--psi"},
		{[]string{"demo", "--psi", "1.5"}, "--psi"},
		{[]string{"demo", "--train", "--steps", "-3"}, "--steps"},
		{[]string{"demo", "--continue"}, "--continue goes with --train"},
		{[]string{"demo", "--train", "--continue"}, "miniclip.safetensors"},
		{[]string{"demo", "--generator", "/nonexistent/g.safetensors"}, "/nonexistent/g.safetensors"},
	} {
		var out, errb bytes.Buffer
		if code := run(append(c.args, "--out", t.TempDir()), &out, &errb); code == 0 || !strings.Contains(errb.String(), c.want) {
			t.Errorf("lafite %v: exit %d, stderr %q; want a failure mentioning %q", c.args, code, errb.String(), c.want)
		}
	}
}
