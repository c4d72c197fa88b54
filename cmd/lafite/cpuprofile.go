package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strings"
)

// timedProfiles writes a Go CPU profile of each workload's timed runs,
// leaving out its setup (model initialisation can take longer than the runs)
// and warm-up. One workload's profile goes to path itself; with several,
// each goes to path with the workload's name before the extension
// (cpu.pprof -> cpu.clip_vitb32_b8.pprof). Every file is created before any
// work, so a bad path fails at once.
type timedProfiles struct {
	files map[string]*os.File
	err   error // the first failure to start a profile
}

func openTimedProfiles(path string, workloads []string) (*timedProfiles, error) {
	p := &timedProfiles{files: make(map[string]*os.File, len(workloads))}
	for _, name := range workloads {
		name := name
		file := path
		if len(workloads) > 1 {
			ext := filepath.Ext(path)
			file = strings.TrimSuffix(path, ext) + "." + name + ext
		}
		f, err := os.Create(file)
		if err != nil {
			p.close()
			return nil, fmt.Errorf("--cpuprofile: %w", err)
		}
		p.files[name] = f
	}
	return p, nil
}

// whileTimed is bench.Options.WhileTimed.
func (p *timedProfiles) whileTimed(workload string) (end func()) {
	f := p.files[workload]
	if f == nil {
		return nil
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		if p.err == nil {
			p.err = fmt.Errorf("--cpuprofile %s: %w", f.Name(), err)
		}
		return nil
	}
	return pprof.StopCPUProfile
}

// close closes the files and reports the first error of the profiles.
func (p *timedProfiles) close() error {
	errs := []error{p.err}
	for _, f := range p.files {
		if err := f.Close(); err != nil {
			errs = append(errs, fmt.Errorf("--cpuprofile: %w", err))
		}
	}
	return errors.Join(errs...)
}
