package lafite

import (
	"fmt"
	"image"
	"sync"
)

// readAhead decodes, crops and resizes the images of a list on several
// goroutines while the caller encodes earlier ones, and hands them over in
// the list's order, so a build's result does not depend on how many
// workers ran. A GPU encodes faster than one core decodes JPEGs; on the
// host the decoding overlaps the CLIP pass.
type readAhead struct {
	next  int
	slots []chan readResult // slot i%len(slots) carries image i
	free  []chan struct{}   // a token while slot k may take its next image
	stop  chan struct{}
	wg    sync.WaitGroup
}

// readResult is one image ready for the dataset, or why it is not.
type readResult struct {
	im   NamedImage
	rgba *image.RGBA // im.Image cropped and resized to the resolution
	bad  *BadImage   // set when the image cannot be used
}

// startReadAhead reads images [start, total) of src with workers
// goroutines, at most 4·workers of them decoded and waiting. Read must be
// safe to call from several goroutines (ImageFolder's is).
func startReadAhead(src ImageList, start, total, res, workers int) *readAhead {
	ahead := 4 * workers
	r := &readAhead{next: start, slots: make([]chan readResult, ahead), free: make([]chan struct{}, ahead), stop: make(chan struct{})}
	for k := range r.slots {
		r.slots[k] = make(chan readResult, 1)
		r.free[k] = make(chan struct{}, 1)
		r.free[k] <- struct{}{}
	}
	jobs := make(chan int)
	// The dispatcher hands out image i only once its slot is free, that is
	// once image i - ahead was taken: no two images in flight share a slot.
	go func() {
		defer close(jobs)
		for i := start; i < total; i++ {
			select {
			case <-r.free[i%ahead]:
			case <-r.stop:
				return
			}
			select {
			case jobs <- i:
			case <-r.stop:
				return
			}
		}
	}()
	r.wg.Add(workers)
	for range workers {
		go func() {
			defer r.wg.Done()
			for i := range jobs {
				res := readOne(src, i, res)
				select {
				case r.slots[i%ahead] <- res:
				case <-r.stop:
					return
				}
			}
		}()
	}
	return r
}

// readOne is image i decoded and resized, or its BadImage.
func readOne(src ImageList, i, res int) readResult {
	im, err := src.Read(i)
	if err != nil {
		b, ok := err.(BadImage)
		if !ok {
			b = BadImage{fmt.Sprintf("image %d", i), err}
		}
		return readResult{bad: &b}
	}
	return readResult{im: im, rgba: CenterCropResize(im.Image, res)}
}

// take waits for the next image in order.
func (r *readAhead) take() readResult {
	k := r.next % len(r.slots)
	res := <-r.slots[k]
	r.free[k] <- struct{}{}
	r.next++
	return res
}

// close stops the workers and waits for them.
func (r *readAhead) close() {
	close(r.stop)
	r.wg.Wait()
}
