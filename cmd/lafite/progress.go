package main

import (
	"fmt"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
)

// newProgressBar is the commands' progress bar on stderr: a count of total,
// the predicted time left, redrawn at most five times a second.
func newProgressBar(total int64, what string) *progressbar.ProgressBar {
	return progressbar.NewOptions64(total, progressbar.OptionSetWriter(os.Stderr), progressbar.OptionSetDescription(what),
		progressbar.OptionShowCount(), progressbar.OptionSetPredictTime(true), progressbar.OptionThrottle(200*time.Millisecond))
}

// progressCallback is a bar for a library call's Progress option: update
// (nil when quiet) moves it, finish ends its line before the command prints
// (a call that stopped early leaves the bar where it stopped).
func progressCallback(quiet bool, total int, what string) (update func(done, total int), finish func()) {
	if quiet {
		return nil, func() {}
	}
	bar := newProgressBar(int64(total), what)
	reached := 0
	return func(done, _ int) { reached = done; bar.Set(done) }, func() {
		if reached < total {
			bar.Exit()
		} else {
			bar.Finish()
		}
		fmt.Fprintln(os.Stderr)
	}
}
