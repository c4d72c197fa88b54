package lafite

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lafite-go/lafite/tensor"
	"time"
)

// partsTestList is 11 images of distinct colours, two of them bad, most
// with captions.
func partsTestList() *listOf {
	l := &listOf{}
	for i := range 11 {
		if i == 3 || i == 8 {
			l.imgs = append(l.imgs, nil)
			continue
		}
		c := color.RGBA{uint8(20 * i), uint8(255 - 20*i), uint8(7 * i), 255}
		im := &NamedImage{Name: string(rune('a'+i)) + ".png", Image: solid(6+i, 6, c)}
		for range i % 3 {
			im.Captions = append(im.Captions, strings.Repeat("x", i+len(im.Captions)))
		}
		l.imgs = append(l.imgs, im)
	}
	return l
}

func sameDataset(t *testing.T, what string, got, want *DatasetFile, gotBad, wantBad []BadImage) {
	t.Helper()
	if !slices.Equal(got.Bytes.Pix, want.Bytes.Pix) || !slices.Equal(got.Names, want.Names) ||
		!slices.Equal(got.Captions, want.Captions) || !slices.Equal(got.CaptionImage, want.CaptionImage) {
		t.Fatalf("%s: pixels, names (%v, want %v) or captions (%q of %v, want %q of %v) differ", what,
			got.Names, want.Names, got.Captions, got.CaptionImage, want.Captions, want.CaptionImage)
	}
	if !slices.Equal(got.ImageFts.ToSlice(), want.ImageFts.ToSlice()) || !slices.Equal(got.CaptionFts.ToSlice(), want.CaptionFts.ToSlice()) {
		t.Fatalf("%s: features differ", what)
	}
	if len(gotBad) != len(wantBad) {
		t.Fatalf("%s: %d bad images, want %d", what, len(gotBad), len(wantBad))
	}
	for i := range gotBad {
		if gotBad[i].Error() != wantBad[i].Error() {
			t.Fatalf("%s: bad image %q, want %q", what, gotBad[i].Error(), wantBad[i].Error())
		}
	}
}

// A build kept in parts and stopped halfway continues from its last part,
// without reading those images again, to the same dataset an unbroken
// build gives; a finished one is only read back.
func TestBuildDatasetResumesFromParts(t *testing.T) {
	enc := &meanColourEncoder{}
	plain, plainBad, err := BuildDataset(partsTestList(), 4, enc, BuildOptions{Batch: 2, Captions: true})
	if err != nil {
		t.Fatal(err)
	}
	opts := func(dir string) BuildOptions {
		return BuildOptions{Batch: 2, Captions: true, Parts: dir, PartImages: 3, Source: "test"}
	}
	whole := filepath.Join(t.TempDir(), "whole.parts")
	ds, bad, err := BuildDataset(partsTestList(), 4, enc, opts(whole))
	if err != nil {
		t.Fatal(err)
	}
	sameDataset(t, "in parts", ds, plain, bad, plainBad)
	if enc.maxBatch != 2 {
		t.Fatalf("CLIP batches of up to %d, want 2", enc.maxBatch)
	}
	// 9 usable images in parts of 4 (3 rounded up to the batch): 4, 4, 1.
	for k, want := range []bool{true, true, true, false} {
		if _, err := os.Stat(filepath.Join(whole, "part-00000"+string(rune('0'+k))+".safetensors")); (err == nil) != want {
			t.Fatalf("part %d: %v, want it present %v", k, err, want)
		}
	}

	// Stopped after the 7th image: the first part (images 0-4) was written
	// when full, the stretch 5-6 when it stopped.
	stoppedDir := filepath.Join(t.TempDir(), "stopped.parts")
	ctx, cancel := context.WithCancel(context.Background())
	o := opts(stoppedDir)
	o.Context = ctx
	o.Progress = func(done, total int) {
		if done == 7 {
			cancel()
		}
	}
	list := partsTestList()
	_, _, err = BuildDataset(list, 4, enc, o)
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "stopped after 7 of 11 images, kept in "+stoppedDir) {
		t.Fatalf("stopped build: %v", err)
	}
	var progress []int
	o = opts(stoppedDir)
	o.Progress = func(done, total int) { progress = append(progress, done) }
	list.reads = nil
	ds, bad, err = BuildDataset(list, 4, enc, o)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(list.reads, []int{7, 8, 9, 10}) || !slices.Equal(progress, []int{7, 8, 9, 10, 11}) {
		t.Fatalf("resumed build read %v, progress %v; want 7-10", list.reads, progress)
	}
	sameDataset(t, "resumed", ds, plain, bad, plainBad)

	list.reads = nil
	ds, bad, err = BuildDataset(list, 4, enc, opts(whole))
	if err != nil || len(list.reads) != 0 {
		t.Fatalf("a finished build again: %v, read %v", err, list.reads)
	}
	sameDataset(t, "read back", ds, plain, bad, plainBad)

	other := opts(whole)
	other.Captions = false
	if _, _, err := BuildDataset(partsTestList(), 4, enc, other); err == nil || !strings.Contains(err.Error(), "holds a build of other inputs") {
		t.Fatalf("parts of another build: %v", err)
	}
	part1 := filepath.Join(whole, "part-000001.safetensors")
	data, _ := os.ReadFile(part1)
	if err := os.WriteFile(part1, data[:len(data)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := BuildDataset(partsTestList(), 4, enc, opts(whole)); err == nil || !strings.Contains(err.Error(), "part-000001.safetensors") {
		t.Fatalf("a truncated part: %v", err)
	}

	if err := RemoveBuildParts(whole); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(whole); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("parts folder after RemoveBuildParts: %v", err)
	}
	mine := filepath.Join(stoppedDir, "notes.txt")
	os.WriteFile(mine, []byte("mine"), 0o644)
	if err := RemoveBuildParts(stoppedDir); err != nil {
		t.Fatal(err)
	}
	if left, _ := os.ReadDir(stoppedDir); len(left) != 1 || left[0].Name() != "notes.txt" {
		t.Fatalf("RemoveBuildParts left %v, want only the user's notes.txt", left)
	}
	if err := RemoveBuildParts(whole); err != nil {
		t.Fatalf("a missing folder: %v", err)
	}
}

// Images decoded ahead on several goroutines give the dataset one
// goroutine gives, each image read once, stopped and resumed too.
func TestBuildDatasetReadsAheadInOrder(t *testing.T) {
	enc := &meanColourEncoder{}
	plain, plainBad, err := BuildDataset(partsTestList(), 4, enc, BuildOptions{Batch: 2, Captions: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, workers := range []int{2, 3, 8} {
		list := partsTestList()
		ds, bad, err := BuildDataset(list, 4, enc, BuildOptions{Batch: 2, Captions: true, Workers: workers})
		if err != nil {
			t.Fatal(err)
		}
		sameDataset(t, "read ahead", ds, plain, bad, plainBad)
		slices.Sort(list.reads)
		if !slices.Equal(list.reads, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10}) {
			t.Fatalf("%d workers read %v", workers, list.reads)
		}
	}
	dir := filepath.Join(t.TempDir(), "ahead.parts")
	ctx, cancel := context.WithCancel(context.Background())
	o := BuildOptions{Batch: 2, Captions: true, Parts: dir, PartImages: 3, Workers: 3, Context: ctx,
		Progress: func(done, total int) {
			if done == 5 {
				cancel()
			}
		}}
	if _, _, err := BuildDataset(partsTestList(), 4, enc, o); !errors.Is(err, context.Canceled) {
		t.Fatalf("stopped: %v", err)
	}
	o.Context, o.Progress = nil, nil
	ds, bad, err := BuildDataset(partsTestList(), 4, enc, o)
	if err != nil {
		t.Fatal(err)
	}
	sameDataset(t, "read ahead, stopped and resumed", ds, plain, bad, plainBad)
}

// jitteryList reads its images after a delay that varies from image to
// image, so that read-ahead workers finish out of order.
type jitteryList struct{ *listOf }

func (l jitteryList) Read(i int) (NamedImage, error) {
	time.Sleep(time.Duration((i*7919)%5) * 300 * time.Microsecond)
	return l.listOf.Read(i)
}

// slowEncoder takes its time over each batch, so that read-ahead workers
// fill every slot and wait.
type slowEncoder struct{ meanColourEncoder }

func (e *slowEncoder) EncodeImages(imgs []*image.RGBA) (*tensor.Tensor, error) {
	time.Sleep(2 * time.Millisecond)
	return e.meanColourEncoder.EncodeImages(imgs)
}

// Many images finishing out of order, for a consumer slower than the
// readers, still arrive in the list's order.
func TestReadAheadKeepsOrderWhenReadsFinishOutOfOrder(t *testing.T) {
	list := &listOf{}
	for i := range 120 {
		c := color.RGBA{uint8(i), uint8(2 * i), uint8(255 - i), 255}
		list.imgs = append(list.imgs, &NamedImage{Name: fmt.Sprint(i), Image: solid(4, 4, c)})
	}
	enc := &meanColourEncoder{}
	one, _, err := BuildDataset(list, 4, enc, BuildOptions{Batch: 4})
	if err != nil {
		t.Fatal(err)
	}
	for _, workers := range []int{2, 5} {
		ds, _, err := BuildDataset(jitteryList{list}, 4, &slowEncoder{}, BuildOptions{Batch: 4, Workers: workers})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(ds.Names, one.Names) || !slices.Equal(ds.Bytes.Pix, one.Bytes.Pix) {
			t.Fatalf("%d workers: names %v", workers, ds.Names[:12])
		}
	}
}
