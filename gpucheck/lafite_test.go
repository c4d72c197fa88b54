package gpucheck

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/lafite-go/lafite/autograd"
	"github.com/lafite-go/lafite/lafite"
	"github.com/lafite-go/lafite/nn"
	"github.com/lafite-go/lafite/tensor"
)

// The Lafite generator and discriminator on the GPU against the host: small
// configurations built twice from one seed, one copy moved to the GPU. Each
// comparison over many parameters reports the worst of them.

// netTol is the tolerance for whole networks: float32 differences between
// the devices compound over a dozen layers.
const netTol = 2e-3

func smallGenerator(seed uint64) *lafite.Generator {
	g, err := lafite.NewGenerator(lafite.GeneratorConfig{ZDim: 16, WDim: 16, FDim: 8, Resolution: 16, Channels: 3,
		ChannelBase: 256, ChannelMax: 16, MappingLayers: 2, ConvClamp: 256}, tensor.NewRNG(seed))
	if err != nil {
		panic(err)
	}
	return g
}

func smallDiscriminator(seed uint64) *lafite.Discriminator {
	d, err := lafite.NewDiscriminator(lafite.DiscriminatorConfig{Resolution: 16, Channels: 3, ChannelBase: 256,
		ChannelMax: 16, FDim: 8, MbstdGroup: 4, MbstdChans: 1, ConvClamp: 256}, tensor.NewRNG(seed))
	if err != nil {
		panic(err)
	}
	return d
}

// moveTo puts every parameter and buffer of m on dev (in place) and returns
// the trainable ones with their names.
func moveTo(m nn.Module, dev tensor.Device) (vars []*autograd.Var, names []string) {
	for _, n := range nn.AllParams(m) {
		n.Var.Value = n.Var.Value.To(dev)
		if !n.Buffer {
			vars = append(vars, n.Var)
			names = append(names, n.Name)
		}
	}
	return vars, names
}

// checkMany compares lists of tensors (nil where both are nil) and reports
// the worst relative error as one comparison.
func (r *gpuReport) checkMany(name, what string, got, want []*autograd.Var, names []string, tol float64) {
	worst, at := 0.0, ""
	for i := range want {
		switch {
		case got[i] == nil && want[i] == nil:
			continue
		case got[i] == nil || want[i] == nil:
			r.fail(name, what, "gradient of "+names[i]+" missing on one device")
			return
		}
		if e := relErr(got[i].Value, want[i].Value); !(e <= worst) {
			worst, at = e, names[i]
		}
	}
	status := "PASS"
	if !(worst <= tol) {
		status = "FAIL"
		r.failed++
		r.failures = append(r.failures, fmt.Sprintf("%s %s: err %.3g at %s > tol %.0e", name, what, worst, at, tol))
	} else {
		r.passed++
	}
	fmt.Fprintf(r.out, "gpu %s %-32s %-10s err %.2e (tol %.0e) over %d tensors, worst %s\n", status, name, what, worst, tol, len(want), at)
}

// lafiteNets runs the generator and discriminator checks; suffix tells the
// reruns with a forced conv path apart.
func lafiteNets(rep *gpuReport, seed uint64, suffix string) {
	defer func() {
		if p := recover(); p != nil {
			rep.fail("lafite"+suffix, "panic", fmt.Sprint(p))
		}
	}()
	scope := tensor.OpenScope()
	defer scope.Close()
	r := rand.New(rand.NewPCG(seed, 4242))
	const n = 4
	host := func(shape ...int) *tensor.Tensor {
		size := 1
		for _, s := range shape {
			size *= s
		}
		return tensor.New(normal(r, size), shape...)
	}
	z, fts, real := host(n, 16), host(n, 8), host(n, 3, 16, 16)
	cotImg := host(n, 3, 16, 16)
	plNoise := tensor.MulScalar(host(n, 3, 16, 16), 1.0/16)

	type side struct {
		dev          tensor.Device
		g            *lafite.Generator
		d            *lafite.Discriminator
		gVars, dVars []*autograd.Var
		gNames       []string
		dNames       []string
		z, fts, real *autograd.Var
	}
	mk := func(dev tensor.Device) *side {
		s := &side{dev: dev, g: smallGenerator(seed), d: smallDiscriminator(seed + 1)}
		s.gVars, s.gNames = moveTo(s.g, dev)
		s.dVars, s.dNames = moveTo(s.d, dev)
		s.z, s.fts = autograd.Param(z.To(dev)), autograd.Param(fts.To(dev))
		s.real = autograd.Param(real.To(dev))
		return s
	}
	cs, gs := mk(tensor.CPU), mk(tensor.CUDA)
	sides := []*side{cs, gs}
	opts := lafite.SynthesisOptions{Noise: nn.NoiseConst}

	// Generator: image, first order w.r.t. weights and inputs, path length
	// (second order through the generator).
	imgs := make([]*autograd.Var, 2)
	grads := make([][]*autograd.Var, 2)
	pls := make([][]*autograd.Var, 2)
	for i, s := range sides {
		img, ws := s.g.Forward(s.z, s.fts, nn.MappingOptions{}, opts)
		imgs[i] = img
		wrt := append(append([]*autograd.Var{}, s.gVars...), s.z, s.fts)
		grads[i] = autograd.Grad([]*autograd.Var{img}, wrt, []*autograd.Var{autograd.Const(cotImg.To(s.dev))}, false)
		pl := lafite.PathLengthPenaltyScaled(img, ws, 0.5, 0.01, plNoise.To(s.dev))
		pls[i] = autograd.Grad([]*autograd.Var{pl.Penalty}, s.gVars, nil, false)
	}
	names := append(append([]string{}, cs.gNames...), "z", "fts")
	rep.check("lafite_G"+suffix, "forward", imgs[1].Value, imgs[0].Value, netTol)
	rep.checkMany("lafite_G"+suffix, "grad", grads[1], grads[0], names, netTol)
	rep.checkMany("lafite_G"+suffix, "pl grad2", pls[1], pls[0], cs.gNames, netTol)

	// The fused (grouped) modulated convolution of inference.
	fused := make([]*tensor.Tensor, 2)
	for i, s := range sides {
		autograd.NoGrad(func() {
			img, _ := s.g.Forward(s.z, s.fts, nn.MappingOptions{}, lafite.SynthesisOptions{Noise: nn.NoiseConst, Fused: true})
			fused[i] = img.Value
		})
	}
	rep.check("lafite_G_fused"+suffix, "forward", fused[1], fused[0], netTol)

	// Discriminator: logits, first order, R1 (second order through D).
	logits := make([]*autograd.Var, 2)
	dgrads := make([][]*autograd.Var, 2)
	r1s := make([][]*autograd.Var, 2)
	cotL := host(n, 1)
	for i, s := range sides {
		l, _ := s.d.Logits(s.real, s.fts)
		logits[i] = l
		wrt := append(append([]*autograd.Var{}, s.dVars...), s.real)
		dgrads[i] = autograd.Grad([]*autograd.Var{l}, wrt, []*autograd.Var{autograd.Const(cotL.To(s.dev))}, false)
		r1 := lafite.R1Penalty(s.d, s.real, s.fts)
		r1s[i] = autograd.Grad([]*autograd.Var{r1}, s.dVars, nil, false)
	}
	if !tensor.SameShape(logits[0].Shape(), []int{n, 1}) {
		rep.fail("lafite_D"+suffix, "forward", fmt.Sprintf("logits of shape %v", logits[0].Shape()))
		return
	}
	rep.check("lafite_D"+suffix, "forward", logits[1].Value, logits[0].Value, netTol)
	rep.checkMany("lafite_D"+suffix, "grad", dgrads[1], dgrads[0], append(append([]string{}, cs.dNames...), "img"), netTol)
	rep.checkMany("lafite_D"+suffix, "r1 grad2", r1s[1], r1s[0], cs.dNames, netTol)
	if v := float64(imgs[0].Value.ToSlice()[0]); math.IsNaN(v) {
		rep.fail("lafite_G"+suffix, "forward", "host image is NaN")
	}
}
