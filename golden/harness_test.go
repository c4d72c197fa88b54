package golden

import (
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/lafite-go/lafite/autograd"
	"github.com/lafite-go/lafite/internal/goldendir"
	"github.com/lafite-go/lafite/nn"
	"github.com/lafite-go/lafite/safetensors"
	"github.com/lafite-go/lafite/tensor"
)

// Case is one golden file.
type Case struct {
	Path  string
	Op    string
	File  *safetensors.File
	Attrs map[string]any
}

// Handler computes, for one case, every tensor it can of the file's out.*,
// grad.* and grad2.* names.
type Handler func(c *Case) (map[string]*tensor.Tensor, error)

var handlers = map[string]Handler{}

// register adds the handler of an op; called from init() in the op files.
func register(op string, h Handler) {
	if _, dup := handlers[op]; dup {
		panic("golden: op registered twice: " + op)
	}
	handlers[op] = h
}

// Has reports whether the file holds name.
func (c *Case) Has(name string) bool { _, ok := c.File.Get(name); return ok }

// T returns a float tensor of the file.
func (c *Case) T(name string) (*tensor.Tensor, error) {
	st, ok := c.File.Get(name)
	if !ok {
		return nil, fmt.Errorf("tensor %s missing", name)
	}
	if st.DType == safetensors.I64 || st.DType == safetensors.I32 {
		ints, err := st.Int64()
		if err != nil {
			return nil, err
		}
		f := make([]float32, len(ints))
		for i, v := range ints {
			f[i] = float32(v)
		}
		return tensor.New(f, st.Shape...), nil
	}
	data, err := st.Float32()
	if err != nil {
		return nil, err
	}
	return tensor.New(data, st.Shape...), nil
}

// Attr walks the attrs JSON: Attr("init", "lr_multiplier").
func (c *Case) Attr(path ...string) (any, bool) {
	var cur any = c.Attrs
	for _, p := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[p]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// Float returns a numeric attr or def when absent or null.
func (c *Case) Float(def float64, path ...string) float64 {
	if v, ok := c.Attr(path...); ok {
		if f, ok := v.(float64); ok {
			return f
		}
	}
	return def
}

// Int returns an integer attr or def.
func (c *Case) Int(def int, path ...string) int { return int(c.Float(float64(def), path...)) }

// Bool returns a boolean attr or def.
func (c *Case) Bool(def bool, path ...string) bool {
	if v, ok := c.Attr(path...); ok {
		if b, ok := v.(bool); ok {
			return b
		}
	}
	return def
}

// String returns a string attr or def.
func (c *Case) String(def string, path ...string) string {
	if v, ok := c.Attr(path...); ok {
		if s, ok := v.(string); ok {
			return s
		}
	}
	return def
}

// IsNull reports whether the attr is present and null (or absent).
func (c *Case) IsNull(path ...string) bool {
	v, ok := c.Attr(path...)
	return !ok || v == nil
}

// Ints returns an int list attr (a bare number n becomes [n]); def if absent.
func (c *Case) IntList(def []int, path ...string) []int {
	v, ok := c.Attr(path...)
	if !ok || v == nil {
		return def
	}
	switch x := v.(type) {
	case float64:
		return []int{int(x)}
	case []any:
		out := make([]int, len(x))
		for i, e := range x {
			f, _ := e.(float64)
			out[i] = int(f)
		}
		return out
	}
	return def
}

// DiffOptions configures RunDifferentiable.
type DiffOptions struct {
	// NonDiff names inputs/params (bare names) that are never differentiated:
	// filters, masks, tokens, buffers.
	NonDiff []string
	// Loss, when set, names a scalar output whose own gradient the grad.*
	// tensors hold (regularizer cases without cotangents).
	Loss string
	// Module, when set, receives the param.* values into its own entries
	// (matched by state-dict name), and those entries are the Vars that
	// forward sees and that gradients are taken against.
	Module nn.Module
}

// RunDifferentiable runs forward on the case's in.* and param.* tensors (keyed
// by bare name, as Vars) and produces out.*, grad.* (of Σ out·cot, or of the
// Loss output) and, when the file has cot2.*, grad2.* by double backward.
func RunDifferentiable(c *Case, o DiffOptions, forward func(v map[string]*autograd.Var) (map[string]*autograd.Var, error)) (map[string]*tensor.Tensor, error) {
	nondiff := map[string]bool{}
	for _, n := range o.NonDiff {
		nondiff[n] = true
	}
	vars := map[string]*autograd.Var{}
	moduleVars := map[string]*autograd.Var{}
	if o.Module != nil {
		for _, p := range nn.AllParams(o.Module) {
			moduleVars[p.Name] = p.Var
		}
	}
	var diffNames []string
	for _, full := range c.File.Order {
		var bare string
		switch {
		case strings.HasPrefix(full, "in."):
			bare = full[3:]
		case strings.HasPrefix(full, "param."):
			bare = full[6:]
		default:
			continue
		}
		t, err := c.T(full)
		if err != nil {
			return nil, err
		}
		if mv, ok := moduleVars[bare]; ok && strings.HasPrefix(full, "param.") {
			if !tensor.SameShape(mv.Value.Shape(), t.Shape()) {
				return nil, fmt.Errorf("%s: shape %v in the file, %v in the module", full, t.Shape(), mv.Value.Shape())
			}
			mv.Value.CopyFrom(t)
			vars[bare] = mv
			if c.Has("grad."+bare) && !nondiff[bare] {
				if !mv.RequiresGrad() {
					return nil, fmt.Errorf("%s has a gradient in the file but is not trainable in the module", full)
				}
				diffNames = append(diffNames, bare)
			}
			continue
		}
		if nondiff[bare] || !c.Has("grad."+bare) {
			vars[bare] = autograd.Const(t)
		} else {
			vars[bare] = autograd.Param(t)
			diffNames = append(diffNames, bare)
		}
	}
	// Module entries whose values came from elsewhere (params_from) but whose
	// gradients the file holds are differentiated too.
	for _, p := range AllModuleNames(o.Module) {
		if _, seen := vars[p]; !seen && c.Has("grad."+p) && !nondiff[p] {
			vars[p] = moduleVars[p]
			diffNames = append(diffNames, p)
		}
	}
	outs, err := forward(vars)
	if err != nil {
		return nil, err
	}
	res := map[string]*tensor.Tensor{}
	for k, v := range outs {
		res["out."+k] = v.Value
	}
	inputs := make([]*autograd.Var, len(diffNames))
	for i, n := range diffNames {
		inputs[i] = vars[n]
	}
	if len(inputs) == 0 {
		return res, nil
	}
	var outputs, cots []*autograd.Var
	var cotNames []string
	if o.Loss != "" {
		l, ok := outs[o.Loss]
		if !ok {
			return nil, fmt.Errorf("forward did not produce loss output %q", o.Loss)
		}
		outputs = []*autograd.Var{l}
		cots = []*autograd.Var{nil}
	} else {
		names := make([]string, 0, len(outs))
		for k := range outs {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			if !c.Has("cot." + k) {
				continue
			}
			ct, err := c.T("cot." + k)
			if err != nil {
				return nil, err
			}
			outputs = append(outputs, outs[k])
			cots = append(cots, autograd.Param(ct))
			cotNames = append(cotNames, k)
		}
		if len(outputs) == 0 {
			return res, nil
		}
	}
	second := false
	for _, n := range diffNames {
		if c.Has("cot2." + n) {
			second = true
		}
	}
	grads := autograd.Grad(outputs, inputs, cots, second)
	for i, n := range diffNames {
		res["grad."+n] = grads[i].Value
	}
	if !second {
		return res, nil
	}
	var l2 *autograd.Var
	for i, n := range diffNames {
		if !c.Has("cot2." + n) {
			continue
		}
		c2, err := c.T("cot2." + n)
		if err != nil {
			return nil, err
		}
		term := autograd.SumAll(autograd.Mul(grads[i], autograd.Const(c2)))
		if l2 == nil {
			l2 = term
		} else {
			l2 = autograd.Add(l2, term)
		}
	}
	wrt := append(append([]*autograd.Var(nil), inputs...), cots...)
	g2 := autograd.Grad([]*autograd.Var{l2}, wrt, nil, false)
	for i, n := range diffNames {
		res["grad2."+n] = g2[i].Value
	}
	for i, n := range cotNames {
		res["grad2.cot."+n] = g2[len(inputs)+i].Value
	}
	return res, nil
}

type tol struct {
	Rtol float64 `json:"rtol"`
	Atol float64 `json:"atol"`
}

// compareCase checks every out./grad./grad2. tensor of the file against got.
func compareCase(c *Case, got map[string]*tensor.Tensor) []string {
	var details map[string]tol
	if err := json.Unmarshal([]byte(c.File.Metadata["tol_detail"]), &details); err != nil {
		return []string{fmt.Sprintf("bad tol_detail metadata: %v", err)}
	}
	var problems []string
	for _, name := range c.File.Order {
		if !(strings.HasPrefix(name, "out.") || strings.HasPrefix(name, "grad.") || strings.HasPrefix(name, "grad2.")) {
			continue
		}
		tl, ok := details[name]
		if !ok {
			problems = append(problems, fmt.Sprintf("%s: no tolerance in tol_detail", name))
			continue
		}
		g, ok := got[name]
		if !ok || g == nil {
			problems = append(problems, fmt.Sprintf("%s: not computed", name))
			continue
		}
		want, err := c.T(name)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", name, err))
			continue
		}
		if !tensor.SameShape(g.Shape(), want.Shape()) {
			problems = append(problems, fmt.Sprintf("%s: shape %v, want %v", name, g.Shape(), want.Shape()))
			continue
		}
		gs, ws := g.ToSlice(), want.ToSlice()
		bad, worst, worstIdx := 0, 0.0, -1
		for i := range ws {
			d := math.Abs(float64(gs[i]) - float64(ws[i]))
			lim := tl.Atol + tl.Rtol*math.Abs(float64(ws[i]))
			if d > lim || math.IsNaN(float64(gs[i])) != math.IsNaN(float64(ws[i])) {
				bad++
				if d > worst || worstIdx < 0 {
					worst, worstIdx = d, i
				}
			}
		}
		if bad > 0 {
			problems = append(problems, fmt.Sprintf("%s: %d/%d elements off (worst at %d: got %.7g want %.7g, |diff| %.3g > atol %.1g + rtol %.1g·|want|)",
				name, bad, len(ws), worstIdx, gs[worstIdx], ws[worstIdx], worst, tl.Atol, tl.Rtol))
		}
	}
	return problems
}

func TestGolden(t *testing.T) {
	dir, err := goldendir.Find()
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.safetensors"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden cases in %s (set LAFITE_GOLDEN to the case directory): %v", dir, err)
	}
	sort.Strings(files)
	passed, failed, skipped := 0, 0, 0
	for _, path := range files {
		base := filepath.Base(path)
		f, err := safetensors.ReadFile(path)
		if err != nil {
			t.Errorf("golden ? %s: FAIL %v", base, err)
			failed++
			continue
		}
		c := &Case{Path: path, Op: f.Metadata["op"], File: f}
		if a := f.Metadata["attrs"]; a != "" {
			if err := json.Unmarshal([]byte(a), &c.Attrs); err != nil {
				t.Errorf("golden %s %s: FAIL bad attrs: %v", c.Op, base, err)
				failed++
				continue
			}
		}
		h, ok := handlers[c.Op]
		if !ok {
			t.Logf("golden %s %s: SKIP op %s not built yet", c.Op, base, c.Op)
			skipped++
			continue
		}
		got, err := runHandler(h, c)
		var problems []string
		if err != nil {
			problems = []string{err.Error()}
		} else {
			problems = compareCase(c, got)
		}
		if len(problems) == 0 {
			t.Logf("golden %s %s: PASS", c.Op, base)
			passed++
		} else {
			t.Errorf("golden %s %s: FAIL %s", c.Op, base, strings.Join(problems, "; "))
			failed++
		}
	}
	summary := fmt.Sprintf("golden: %d passed, %d failed, %d skipped", passed, failed, skipped)
	t.Log(summary)
	fmt.Println(summary)
}

// runHandler turns a panic inside an op (a shape error, say) into a failure of
// that case instead of aborting the whole run.
func runHandler(h Handler, c *Case) (res map[string]*tensor.Tensor, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return h(c)
}

// AllModuleNames lists a module's state-dict names (none for nil).
func AllModuleNames(m nn.Module) []string {
	if m == nil {
		return nil
	}
	var names []string
	for _, p := range nn.AllParams(m) {
		names = append(names, p.Name)
	}
	return names
}
