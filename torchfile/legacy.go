package torchfile

import (
	"bytes"
	"encoding/binary"
	"math/big"

	"github.com/nlpodyssey/gopickle/pickle"
	"github.com/nlpodyssey/gopickle/types"
)

// The legacy torch.save format (before PyTorch 1.6, and still written with
// _use_new_zipfile_serialization=False) is a stream of five pickles, then
// the storages' bytes:
//
//	magic number 0x1950a86a20f9469cfc6c, protocol version 1001, sys_info
//	(a dict), the object itself (storages as persistent ids
//	('storage', type, key, location, numel, view_metadata)), the sorted list
//	of storage keys;
//	then for each key in that order: numel as an int64 and numel elements,
//	both little-endian whatever the machine (torch converts on write).

// legacyMagic is torch.serialization.MAGIC_NUMBER.
var legacyMagic, _ = new(big.Int).SetString("1950a86a20f9469cfc6c", 16)

// loadStream reads a file that starts with a pickle: one plain pickle when
// that pickle is the whole file, else a legacy torch.save (whose first
// pickle is a magic number, then more follow).
func loadStream(data []byte, fail func(string, ...any) error) (map[string]*Tensor, error) {
	if n, err := prescan(data); err == nil && n == len(data) {
		return loadPickled(data, fail)
	}
	root, a, err := readLegacy(data, fail)
	if err != nil {
		return nil, err
	}
	return collect(a, root, "the legacy checkpoint")
}

// readLegacy reads a legacy torch.save stream: the object, with its
// storages' data filled in.
func readLegacy(data []byte, fail func(string, ...any) error) (any, *archive, error) {
	a := &archive{fail: fail, legacy: true, storages: map[string]*storage{}}
	off := 0
	// next unpickles the pickle at off and moves past it.
	next := func(what string, u func([]byte) *pickle.Unpickler) (any, error) {
		n, err := prescan(data[off:])
		if err != nil {
			return nil, fail("legacy checkpoint, %s pickle at byte %d: %v", what, off, err)
		}
		un := u(data[off : off+n])
		v, err := un.Load()
		if err != nil {
			return nil, fail("legacy checkpoint, %s pickle at byte %d: %v", what, off, err)
		}
		off += n
		return v, nil
	}
	plain := func(b []byte) *pickle.Unpickler {
		u := pickle.NewUnpickler(bytes.NewReader(b))
		return &u
	}
	magic, err := next("magic number", plain)
	if err != nil {
		return nil, nil, err
	}
	if m, ok := magic.(*big.Int); !ok || m.Cmp(legacyMagic) != 0 {
		return nil, nil, fail("not a legacy torch.save: it starts with %v, not torch.save's magic number", magic)
	}
	version, err := next("protocol version", plain)
	if err != nil {
		return nil, nil, err
	}
	if version != 1001 {
		return nil, nil, fail("legacy checkpoint of protocol version %v; this reader knows 1001", version)
	}
	if _, err := next("sys_info", plain); err != nil {
		return nil, nil, err
	}
	root, err := next("object", func(b []byte) *pickle.Unpickler { return newUnpickler(a, bytes.NewReader(b)) })
	if err != nil {
		return nil, nil, err
	}
	keyList, err := next("storage keys", plain)
	if err != nil {
		return nil, nil, err
	}
	keys, ok := keyList.(*types.List)
	if !ok {
		return nil, nil, fail("legacy checkpoint: the storage keys are %s, not a list", describe(keyList))
	}
	for i := 0; i < keys.Len(); i++ {
		key, _ := keys.Get(i).(string)
		s, ok := a.storages[key]
		if !ok {
			return nil, nil, fail("legacy checkpoint: storage %q is listed but no tensor uses it", keys.Get(i))
		}
		if len(data)-off < 8 {
			return nil, nil, fail("legacy checkpoint truncated at storage %q (byte %d of %d)", key, off, len(data))
		}
		numel := binary.LittleEndian.Uint64(data[off:])
		off += 8
		if numel != uint64(s.numel) {
			return nil, nil, fail("legacy checkpoint: storage %q holds %d elements, the pickle says %d", key, numel, s.numel)
		}
		n := s.numel * s.cls.size
		if len(data)-off < n {
			return nil, nil, fail("legacy checkpoint truncated in storage %q: %d bytes left, %d needed", key, len(data)-off, n)
		}
		s.data = data[off : off+n]
		off += n
	}
	for key, s := range a.storages {
		if s.data == nil && s.numel > 0 {
			return nil, nil, fail("legacy checkpoint: storage %q is used but not listed", key)
		}
	}
	if off != len(data) {
		return nil, nil, fail("legacy checkpoint: %d unexplained bytes after the last storage", len(data)-off)
	}
	return root, a, nil
}

// collect gathers the tensors of an unpickled object under their names.
func collect(a *archive, root any, where string) (map[string]*Tensor, error) {
	c := &collector{a: a, out: map[string]*Tensor{}, onPath: map[any]bool{}}
	if err := c.walk("", root, 0); err != nil {
		return nil, err
	}
	if len(c.out) == 0 {
		return nil, a.fail("no tensors found in %s (got %s)", where, describe(root))
	}
	return c.out, nil
}
