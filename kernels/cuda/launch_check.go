package cuda

import (
	"fmt"
	"reflect"
	"sync"
)

// CheckLaunch refuses a launch that a GPU would refuse, or that would pass
// the wrong arguments: a block of no threads, of more than 1024 or of more
// than the entry's __launch_bounds__; a grid axis of 0, or above the
// hardware's limits (2^31-1 along x, 65535 along y and z); more dynamic
// shared memory than the device lets a block opt in to; arguments whose Go
// types are not those of the entry's C parameters. The stand-in devices
// (package emu, package dryrun) run it on every launch, so that a plan that
// would fail on a card fails in tests, at the sizes they run.
func CheckLaunch(entry string, grid, block Dim3, shared, maxShared int, args []any) error {
	sig, ok := entrySignatures()[entry]
	if !ok {
		return fmt.Errorf("no entry point %s", entry)
	}
	threads := block.X * block.Y * block.Z
	if threads == 0 || threads > 1024 || sig.maxThreads > 0 && int(threads) > sig.maxThreads {
		return fmt.Errorf("%s: block %v (%d threads; the kernel allows %d)", entry, block, threads, max(sig.maxThreads, 1024))
	}
	if grid.X == 0 || grid.Y == 0 || grid.Z == 0 || grid.X > 1<<31-1 || grid.Y > 65535 || grid.Z > 65535 {
		return fmt.Errorf("%s: grid %v", entry, grid)
	}
	if shared < 0 || shared > maxShared {
		return fmt.Errorf("%s: %d bytes of shared memory (the device allows %d)", entry, shared, maxShared)
	}
	if len(args) != len(sig.types) {
		return fmt.Errorf("%s takes %d arguments, launched with %d", entry, len(sig.types), len(args))
	}
	for i, a := range args {
		if reflect.TypeOf(a) != sig.types[i] {
			return fmt.Errorf("%s argument %d is %T, the kernel takes %v", entry, i, a, sig.types[i])
		}
	}
	return nil
}

type entrySignature struct {
	types      []reflect.Type
	maxThreads int
}

var entrySignatures = sync.OnceValue(func() map[string]entrySignature {
	sigs := map[string]entrySignature{}
	for _, en := range Entries() {
		ps, err := en.Parameters()
		if err != nil {
			panic("cuda: " + err.Error())
		}
		s := entrySignature{maxThreads: en.MaxThreads}
		for _, p := range ps {
			s.types = append(s.types, p.Go)
		}
		sigs[en.Name] = s
	}
	return sigs
})

// StandInFunction is what a device without a driver (package emu, package
// dryrun) returns for an entry point of an embedded kernel file: its name,
// once the file is known to declare it.
func StandInFunction(file, entry string) (*Function, error) {
	for _, en := range Entries() {
		if en.File == file && en.Name == entry {
			return &Function{Name: entry}, nil
		}
	}
	return nil, fmt.Errorf("no entry point %s in %s", entry, file)
}
