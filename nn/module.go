// Package nn holds modules (layers with parameters), optimizers, EMA and
// checkpoint I/O, built on autograd. Parameter names follow PyTorch's
// state_dict names of the reference code so weights can be exchanged.
package nn

import (
	"fmt"
	"sort"

	"github.com/lafite-go/lafite/autograd"
	"github.com/lafite-go/lafite/tensor"
)

// Named is one state-dict entry: a trainable parameter or a buffer (running
// statistics, fixed filters), which optimizers skip.
type Named struct {
	Name   string
	Var    *autograd.Var
	Buffer bool
}

// Module is anything with named parameters. Implementations append their own
// entries and those of their children, prefixing names with Join.
type Module interface {
	NamedParams(prefix string, out []Named) []Named
}

// Join builds a dotted state-dict name.
func Join(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}

// AllParams lists a module's entries in a deterministic order.
func AllParams(m Module) []Named { return m.NamedParams("", nil) }

// Trainable lists the Vars an optimizer updates.
func Trainable(m Module) []*autograd.Var {
	var vs []*autograd.Var
	for _, n := range AllParams(m) {
		if !n.Buffer {
			vs = append(vs, n.Var)
		}
	}
	return vs
}

// StateDict maps names to values (shared, not copied).
func StateDict(m Module) map[string]*tensor.Tensor {
	sd := map[string]*tensor.Tensor{}
	for _, n := range AllParams(m) {
		sd[n.Name] = n.Var.Value
	}
	return sd
}

// LoadStateDict copies values into the module's entries. With strict, missing
// and unexpected names are errors; shapes must always match.
func LoadStateDict(m Module, sd map[string]*tensor.Tensor, strict bool) error {
	seen := map[string]bool{}
	var missing []string
	for _, n := range AllParams(m) {
		t, ok := sd[n.Name]
		if !ok {
			missing = append(missing, n.Name)
			continue
		}
		seen[n.Name] = true
		if !tensor.SameShape(t.Shape(), n.Var.Value.Shape()) {
			return fmt.Errorf("parameter %s: shape %v in the state dict, %v in the model", n.Name, t.Shape(), n.Var.Value.Shape())
		}
		n.Var.Value.CopyFrom(t)
	}
	if strict {
		var extra []string
		for k := range sd {
			if !seen[k] {
				extra = append(extra, k)
			}
		}
		sort.Strings(extra)
		if len(missing) > 0 || len(extra) > 0 {
			return fmt.Errorf("state dict mismatch: missing %v, unexpected %v", missing, extra)
		}
	}
	return nil
}

// NewParam makes a trainable leaf from a tensor.
func NewParam(t *tensor.Tensor) *autograd.Var { return autograd.Param(t) }

// NewBuffer makes a non-trainable entry.
func NewBuffer(t *tensor.Tensor) *autograd.Var { return autograd.Const(t) }

// MoveTo puts every parameter and buffer of m on dev, in place: the Vars
// keep their identity, so optimizers built over them stay valid. Entries
// already on dev are left alone; gradients are dropped.
func MoveTo(m Module, dev tensor.Device) {
	for _, n := range AllParams(m) {
		if n.Var.Value.Device() != dev {
			n.Var.Value = n.Var.Value.To(dev)
		}
		n.Var.Grad = nil
	}
}

// DeviceOf is where m's entries live (MoveTo puts them all on one device):
// the device of its first entry, CPU for a module without any.
func DeviceOf(m Module) tensor.Device {
	if ps := AllParams(m); len(ps) > 0 {
		return ps[0].Var.Value.Device()
	}
	return tensor.CPU
}

// Freeze makes m a constant model: its parameters stop requiring gradients
// (gradients still flow through it to its inputs) and their values are
// declared constant (tensor.Freeze), so host products reuse the packed
// layout of its weights. Loading or optimizer steps through the tensor
// package keep that correct; code that writes parameter data directly must
// Thaw them first.
func Freeze(m Module) {
	for _, n := range AllParams(m) {
		n.Var.SetRequiresGrad(false)
		n.Var.Value.Freeze()
	}
}
