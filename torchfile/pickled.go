package torchfile

import (
	"bytes"
	"fmt"
	"math/big"

	"github.com/nlpodyssey/gopickle/types"
)

// Plain pickles of tensors and modules (pickle.dump, not torch.save), as the
// StyleGAN2-ADA code base that Lafite builds on writes its networks (.pkl):
// each storage is pickled as torch.storage._load_from_bytes(b), b a legacy
// torch.save of that storage alone; each network class made persistent by
// torch_utils.persistence as _reconstruct_persistent_obj(meta), meta holding
// the class's source, its name and the instance's __dict__ as "state".

// storageFromBytes is torch.storage._load_from_bytes: a storage from its
// legacy torch.save bytes.
type storageFromBytes struct{ fail func(string, ...any) error }

func (f *storageFromBytes) Call(args ...any) (any, error) {
	if len(args) != 1 {
		return nil, fmt.Errorf("_load_from_bytes: %d arguments, want 1", len(args))
	}
	b, ok := args[0].([]byte)
	if !ok {
		return nil, fmt.Errorf("_load_from_bytes: argument is %s, not bytes", describe(args[0]))
	}
	root, _, err := readLegacy(b, f.fail)
	if err != nil {
		return nil, err
	}
	s, ok := root.(*storage)
	if !ok {
		return nil, fmt.Errorf("_load_from_bytes: the bytes hold %s, not a storage", describe(root))
	}
	return s, nil
}

// persistentObject is torch_utils.persistence._reconstruct_persistent_obj:
// an object of the named class whose state is meta["state"], so that the
// collector walks it as any pickled nn.Module.
type persistentObject struct{}

func (persistentObject) Call(args ...any) (any, error) {
	if len(args) != 1 {
		return nil, fmt.Errorf("_reconstruct_persistent_obj: %d arguments, want 1", len(args))
	}
	meta, ok := args[0].(*types.Dict)
	if !ok {
		return nil, fmt.Errorf("_reconstruct_persistent_obj: meta is %s, not a dict", describe(args[0]))
	}
	name, _ := meta.Get("class_name")
	className, _ := name.(string)
	state, _ := meta.Get("state")
	return &object{class: &class{module: "torch_utils.persistence", name: className}, state: state}, nil
}

// latin1Bytes is _codecs.encode(s, "latin1"), how protocol 2 pickles bytes.
type latin1Bytes struct{}

func (latin1Bytes) Call(args ...any) (any, error) {
	if len(args) == 0 {
		return []byte{}, nil
	}
	s, ok := args[0].(string)
	if !ok || len(args) > 1 && args[1] != "latin1" && args[1] != "latin-1" {
		return nil, fmt.Errorf("_codecs.encode: unexpected arguments %v", args)
	}
	out := make([]byte, 0, len(s))
	for _, r := range s {
		if r > 0xFF {
			return nil, fmt.Errorf("_codecs.encode: %U is not Latin-1", r)
		}
		out = append(out, byte(r))
	}
	return out, nil
}

// loadPickled reads a file that is one plain pickle (prescanned).
func loadPickled(data []byte, fail func(string, ...any) error) (map[string]*Tensor, error) {
	a := &archive{fail: fail, storages: map[string]*storage{}}
	u := newUnpickler(a, bytes.NewReader(data))
	root, err := u.Load()
	if err != nil {
		return nil, fail("%v", err)
	}
	if m, ok := root.(*big.Int); ok && m.Cmp(legacyMagic) == 0 {
		return nil, fail("legacy torch.save checkpoint cut short after its magic number (truncated)")
	}
	return collect(a, root, "the pickle")
}
