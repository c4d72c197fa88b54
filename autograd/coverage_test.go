package autograd

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
)

// gradCheck names the test that checks an op's gradient by finite
// differences, and whether that test also checks second order.
type gradCheck struct {
	test   string
	second bool
}

// gradChecks lists every exported function of the package that returns a
// *Var or []*Var. TestEveryOpHasAGradientCheck parses the package, so an op
// added without an entry here fails until it is covered.
var gradChecks = map[string]gradCheck{
	"Add": {"TestArithmeticGradients", true}, "Sub": {"TestArithmeticGradients", true},
	"Mul": {"TestArithmeticGradients", true}, "Div": {"TestArithmeticGradients", true},
	"Neg": {"TestArithmeticGradients", true}, "AddScalar": {"TestArithmeticGradients", true},
	"MulScalar": {"TestArithmeticGradients", true}, "RsubScalar": {"TestArithmeticGradients", true},
	"PowScalar": {"TestArithmeticGradients", true}, "Pow": {"TestArithmeticGradients", true},
	"Square": {"TestArithmeticGradients", true}, "Sqrt": {"TestArithmeticGradients", true},
	"Rsqrt": {"TestArithmeticGradients", true}, "Exp": {"TestArithmeticGradients", true},
	"Log": {"TestArithmeticGradients", true}, "Abs": {"TestArithmeticGradients", true},
	"Sign": {"TestArithmeticGradients", true}, "Recip": {"TestArithmeticGradients", true},
	"Maximum": {"TestArithmeticGradients", true}, "Minimum": {"TestArithmeticGradients", true},
	"Clamp": {"TestArithmeticGradients", true}, "Where": {"TestArithmeticGradients", true},
	"NanToNum": {"TestArithmeticGradients", true},

	"Relu": {"TestActivationGradients", true}, "LeakyRelu": {"TestActivationGradients", true},
	"Sigmoid": {"TestActivationGradients", true}, "Tanh": {"TestActivationGradients", true},
	"Softplus": {"TestActivationGradients", true}, "Erf": {"TestActivationGradients", true},
	"Gelu": {"TestActivationGradients", true}, "GeluTanh": {"TestActivationGradients", true},
	"QuickGelu": {"TestActivationGradients", true},

	"Sum": {"TestReductionAndShapeGradients", true}, "SumAll": {"TestReductionAndShapeGradients", true},
	"Mean": {"TestReductionAndShapeGradients", true}, "Variance": {"TestReductionAndShapeGradients", true},
	// Max's second derivative is zero almost everywhere; first order only.
	"Max":   {"TestReductionAndShapeGradients", false},
	"SumTo": {"TestReductionAndShapeGradients", true}, "BroadcastTo": {"TestReductionAndShapeGradients", true},
	"Reshape": {"TestReductionAndShapeGradients", true}, "Flatten": {"TestReductionAndShapeGradients", true},
	"Permute": {"TestReductionAndShapeGradients", true}, "Transpose": {"TestReductionAndShapeGradients", true},
	"Slice": {"TestReductionAndShapeGradients", true}, "Narrow": {"TestReductionAndShapeGradients", true},
	"Select": {"TestReductionAndShapeGradients", true}, "Unsqueeze": {"TestReductionAndShapeGradients", true},
	"Squeeze": {"TestReductionAndShapeGradients", true}, "Expand": {"TestReductionAndShapeGradients", true},
	"Contiguous": {"TestReductionAndShapeGradients", true},

	"Matmul":                    {"TestMatmulGradients", true},
	"MatmulScaled":              {"TestMatmulGradients", true},
	"Linear":                    {"TestMatmulGradients", true},
	"Conv2d":                    {"TestConv2dGradients", true},
	"ConvTranspose2d":           {"TestConvTranspose2dGradients", true},
	"ModConv2d":                 {"TestModConv2dGradients", true},
	"ModulatedWeights":          {"TestModulatedWeightsGradients", true},
	"Conv2dInputGrad":           {"TestConvGradientOpsGradients", true},
	"Conv2dWeightGrad":          {"TestConvGradientOpsGradients", true},
	"AvgPool2d":                 {"TestAvgPool2dGradients", true},
	"AvgPool2dBackward":         {"TestAvgPool2dGradients", true},
	"Softmax":                   {"TestSoftmaxGradients", true},
	"LogSoftmax":                {"TestSoftmaxGradients", true},
	"LayerNorm":                 {"TestLayerNormGradients", true},
	"ScaledDotProductAttention": {"TestAttentionGradients", true},
	"ContraLoss":                {"TestContraLossGradients", true},

	"Concat": {"TestJoinPadFlipGradients", true}, "Stack": {"TestJoinPadFlipGradients", true},
	"Split": {"TestJoinPadFlipGradients", true}, "Pad": {"TestJoinPadFlipGradients", true},
	"Flip": {"TestJoinPadFlipGradients", true},

	"IndexSelect": {"TestIndexGradients", true}, "IndexAdd": {"TestIndexGradients", true},
	"Gather": {"TestIndexGradients", true}, "ScatterAdd": {"TestIndexGradients", true},
	"Embedding": {"TestIndexGradients", true}, "Repeat": {"TestIndexGradients", true},
	"Tile": {"TestIndexGradients", true},

	"InterpolateBilinear": {"TestInterpolateGradients", true}, "InterpolateBilinearBackward": {"TestInterpolateGradients", true},
	"InterpolateBicubic": {"TestInterpolateGradients", true}, "InterpolateBicubicBackward": {"TestInterpolateGradients", true},
	"CropResizeBicubic": {"TestInterpolateGradients", true}, "CropResizeBicubicBackward": {"TestInterpolateGradients", true},

	"BiasAct":            {"TestBiasActGradients", true},
	"MinibatchStd":       {"TestMinibatchStdGradients", true},
	"Normalize2ndMoment": {"TestNormalize2ndMomentGradients", true},
	"Upfirdn2d":          {"TestUpfirdn2dGradients", true}, "Filter2d": {"TestUpfirdn2dGradients", true},
	"Upsample2d": {"TestUpfirdn2dGradients", true}, "Downsample2d": {"TestUpfirdn2dGradients", true},

	"Record": {"TestRecordUserOp", true},
}

// notOps are the exported functions returning *Var that are not operations.
var notOps = map[string]string{
	"Const":  "leaf constructor",
	"Param":  "leaf constructor",
	"Scalar": "leaf constructor",
	"Grad":   "the differentiation itself, exercised by every check",

	"GradReleasing": "Grad plus releasing the forward values; TestGradReleasingFreesForwardValues compares it with Grad",
}

// secondOrderRequired are the ops issue 2 asks a second-order check of.
var secondOrderRequired = []string{
	"Conv2d", "ConvTranspose2d", "Matmul",
	"Relu", "LeakyRelu", "Sigmoid", "Tanh", "Softplus", "Erf", "Gelu", "GeluTanh", "QuickGelu",
	"LayerNorm", "Softmax", "LogSoftmax",
}

func parsePackage(t *testing.T, tests bool) []*ast.File {
	t.Helper()
	fset := token.NewFileSet()
	names, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var files []*ast.File
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") != tests {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	return files
}

func returnsVar(fd *ast.FuncDecl) bool {
	if fd.Type.Results == nil {
		return false
	}
	for _, r := range fd.Type.Results.List {
		typ := r.Type
		if a, ok := typ.(*ast.ArrayType); ok {
			typ = a.Elt
		}
		if s, ok := typ.(*ast.StarExpr); ok {
			if id, ok := s.X.(*ast.Ident); ok && id.Name == "Var" {
				return true
			}
		}
	}
	return false
}

// exportedOps returns the package's exported functions (not methods) that
// return a *Var or []*Var, with their declarations.
func exportedOps(t *testing.T) map[string]*ast.FuncDecl {
	ops := map[string]*ast.FuncDecl{}
	for _, f := range parsePackage(t, false) {
		for _, d := range f.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok && fd.Recv == nil && fd.Name.IsExported() && returnsVar(fd) {
				ops[fd.Name.Name] = fd
			}
		}
	}
	return ops
}

// testRefs resolves which identifiers a piece of test code reaches: its own,
// those of the package-level test functions it calls and of the local
// function literals it uses, transitively.
type testRefs struct {
	funcs map[string]*ast.FuncDecl
}

func (r testRefs) of(n ast.Node) map[string]bool {
	seen := map[string]bool{}
	visited := map[ast.Node]bool{}
	var walk func(ast.Node)
	walk = func(n ast.Node) {
		if n == nil || visited[n] {
			return
		}
		visited[n] = true
		ast.Inspect(n, func(c ast.Node) bool {
			id, ok := c.(*ast.Ident)
			if !ok {
				return true
			}
			seen[id.Name] = true
			if fd, ok := r.funcs[id.Name]; ok && (id.Obj == nil || id.Obj.Kind == ast.Fun) {
				walk(fd)
			}
			if lit := localFuncLit(id); lit != nil {
				walk(lit)
			}
			return true
		})
	}
	walk(n)
	return seen
}

// localFuncLit returns the function literal a local variable was assigned
// (f := func(...) ...), or nil.
func localFuncLit(id *ast.Ident) *ast.FuncLit {
	if id.Obj == nil || id.Obj.Kind != ast.Var {
		return nil
	}
	as, ok := id.Obj.Decl.(*ast.AssignStmt)
	if !ok {
		return nil
	}
	for i, lhs := range as.Lhs {
		if l, ok := lhs.(*ast.Ident); ok && l.Name == id.Name && i < len(as.Rhs) {
			lit, _ := as.Rhs[i].(*ast.FuncLit)
			return lit
		}
	}
	return nil
}

// secondOrderCases returns the gradCase literals reachable from test that set
// second: true.
func (r testRefs) secondOrderCases(test *ast.FuncDecl) []*ast.CompositeLit {
	var out []*ast.CompositeLit
	visited := map[ast.Node]bool{}
	var walk func(ast.Node)
	walk = func(n ast.Node) {
		if visited[n] {
			return
		}
		visited[n] = true
		ast.Inspect(n, func(c ast.Node) bool {
			switch c := c.(type) {
			case *ast.CompositeLit:
				if isGradCaseList(c) {
					for _, e := range c.Elts {
						if lit, ok := e.(*ast.CompositeLit); ok && setsSecond(lit) {
							out = append(out, lit)
						}
					}
				} else if id, ok := c.Type.(*ast.Ident); ok && id.Name == "gradCase" && setsSecond(c) {
					out = append(out, c)
				}
			case *ast.Ident:
				if fd, ok := r.funcs[c.Name]; ok && c.Name != "runGradCases" {
					walk(fd)
				}
			}
			return true
		})
	}
	walk(test)
	return out
}

func isGradCaseList(c *ast.CompositeLit) bool {
	a, ok := c.Type.(*ast.ArrayType)
	if !ok {
		return false
	}
	id, ok := a.Elt.(*ast.Ident)
	return ok && id.Name == "gradCase"
}

func setsSecond(c *ast.CompositeLit) bool {
	for _, e := range c.Elts {
		if kv, ok := e.(*ast.KeyValueExpr); ok {
			k, _ := kv.Key.(*ast.Ident)
			v, _ := kv.Value.(*ast.Ident)
			if k != nil && v != nil && k.Name == "second" && v.Name == "true" {
				return true
			}
		}
	}
	return false
}

// callsDirectly reports whether fn is called in test's own body or in a
// helper other than runGradCases (whose second-order call is conditional).
func (r testRefs) callsDirectly(test *ast.FuncDecl, fn string) bool {
	without := testRefs{funcs: map[string]*ast.FuncDecl{}}
	for k, v := range r.funcs {
		if k != "runGradCases" {
			without.funcs[k] = v
		}
	}
	return without.of(test)[fn]
}

// TestEveryOpHasAGradientCheck finds every exported op by parsing the package
// and checks that gradChecks names a test for it which reaches both the op
// and the finite-difference checker — for second order through a case with
// second: true that uses the op, or a direct CheckGradGrad call.
func TestEveryOpHasAGradientCheck(t *testing.T) {
	ops := exportedOps(t)
	refs := testRefs{funcs: map[string]*ast.FuncDecl{}}
	for _, f := range parsePackage(t, true) {
		for _, d := range f.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok && fd.Recv == nil {
				refs.funcs[fd.Name.Name] = fd
			}
		}
	}
	names := make([]string, 0, len(ops))
	for n := range ops {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, op := range names {
		if _, ok := notOps[op]; ok {
			continue
		}
		c, ok := gradChecks[op]
		if !ok {
			t.Errorf("%s has no finite-difference gradient test: add one and list it in gradChecks", op)
			continue
		}
		test, ok := refs.funcs[c.test]
		if !ok {
			t.Errorf("%s: gradChecks names %s, which does not exist", op, c.test)
			continue
		}
		reached := refs.of(test)
		if !reached[op] || !reached["CheckGrad"] {
			t.Errorf("%s: %s does not run CheckGrad on it (reaches op: %v, CheckGrad: %v)", op, c.test, reached[op], reached["CheckGrad"])
		}
		if !c.second {
			continue
		}
		second := refs.callsDirectly(test, "CheckGradGrad") && refs.callsDirectly(test, op)
		for _, lit := range refs.secondOrderCases(test) {
			if refs.of(lit)[op] {
				second = true
			}
		}
		if !second {
			t.Errorf("%s: %s has no second-order check of it", op, c.test)
		}
	}
	for op := range gradChecks {
		if _, ok := ops[op]; !ok {
			t.Errorf("gradChecks lists %s, which is not an exported op of the package", op)
		}
	}
	for op := range notOps {
		if _, ok := ops[op]; !ok {
			t.Errorf("notOps lists %s, which is not an exported function returning *Var", op)
		}
	}
	for _, op := range secondOrderRequired {
		if !gradChecks[op].second {
			t.Errorf("%s must have a second-order check", op)
		}
	}
}

// TestCoverageCheckerRejectsMissingOps guards the checker itself: an op that
// no test reaches, or reaches without a second-order case, must be flagged.
func TestCoverageCheckerRejectsMissingOps(t *testing.T) {
	src := `package autograd
func TestFake(t *testing.T) {
	runGradCases(t, []gradCase{{name: "a", f: un(Exp)}, {name: "b", f: un(Log), second: true}})
}
func runGradCases(t *testing.T, cases []gradCase) { CheckGrad(); CheckGradGrad() }
`
	f, err := parser.ParseFile(token.NewFileSet(), "fake_test.go", src, 0)
	if err != nil {
		t.Fatal(err)
	}
	refs := testRefs{funcs: map[string]*ast.FuncDecl{}}
	for _, d := range f.Decls {
		fd := d.(*ast.FuncDecl)
		refs.funcs[fd.Name.Name] = fd
	}
	test := refs.funcs["TestFake"]
	reached := refs.of(test)
	if !reached["Exp"] || !reached["CheckGrad"] || reached["Sqrt"] {
		t.Fatalf("reached %v", reached)
	}
	var second []string
	for _, lit := range refs.secondOrderCases(test) {
		for _, op := range []string{"Exp", "Log"} {
			if refs.of(lit)[op] {
				second = append(second, op)
			}
		}
	}
	if !slices.Equal(second, []string{"Log"}) {
		t.Fatalf("second-order cases cover %v, want [Log]", second)
	}
	if refs.callsDirectly(test, "CheckGradGrad") {
		t.Fatal("CheckGradGrad through runGradCases counted as a direct call")
	}
}

// TestEveryOpIsDocumented: each exported op says what it computes.
func TestEveryOpIsDocumented(t *testing.T) {
	for name, fd := range exportedOps(t) {
		if fd.Doc == nil || !strings.Contains(fd.Doc.Text(), name) {
			t.Errorf("%s has no doc comment starting with its name", name)
		}
	}
}
