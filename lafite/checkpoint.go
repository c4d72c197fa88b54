package lafite

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/lafite-go/lafite/nn"
	"github.com/lafite-go/lafite/safetensors"
	"github.com/lafite-go/lafite/tensor"
	"github.com/lafite-go/lafite/torchfile"
)

// A checkpoint is one safetensors file holding every tensor of the run
// (G.*, G_ema.*, D.*, Adam moments optG.m.<i>/v.<i>, optD.*) and, in its
// metadata, the configuration and the scalar state (step, images seen,
// pl_mean, RNG seed and counter, Adam step counts) as exact decimal text.
// It is written to a temporary file and renamed, so an interrupted write
// never replaces a good checkpoint with a partial one.

func addModule(out []*safetensors.Tensor, prefix string, m nn.Module) []*safetensors.Tensor {
	for _, p := range nn.AllParams(m) {
		v := p.Var.Value
		out = append(out, safetensors.F32Tensor(prefix+p.Name, v.Shape(), v.ToSlice()))
	}
	return out
}

func addAdam(out []*safetensors.Tensor, prefix string, a *nn.Adam) []*safetensors.Tensor {
	m, v := a.State()
	for i := range m {
		out = append(out, safetensors.F32Tensor(fmt.Sprintf("%s.m.%d", prefix, i), m[i].Shape(), m[i].ToSlice()),
			safetensors.F32Tensor(fmt.Sprintf("%s.v.%d", prefix, i), v[i].Shape(), v[i].ToSlice()))
	}
	return out
}

// Save writes the whole training state to path atomically.
func (t *Trainer) Save(path string) error {
	var ts []*safetensors.Tensor
	ts = addModule(ts, "G.", genModule{t.G, t.Perturb})
	ts = addModule(ts, "G_ema.", t.GEma)
	ts = addModule(ts, "D.", t.D)
	ts = addAdam(ts, "optG", t.OptG)
	ts = addAdam(ts, "optD", t.OptD)
	cfg, err := json.Marshal(t.Cfg)
	if err != nil {
		return err
	}
	seed, counter := t.RNG.State()
	meta := map[string]string{
		"format":      "lafite-go checkpoint v1",
		"config":      string(cfg),
		"step":        strconv.Itoa(t.Step),
		"images_seen": strconv.FormatInt(t.ImagesSeen, 10),
		"pl_mean":     strconv.FormatUint(uint64(math32bits(t.PLMean)), 10),
		"rng_seed":    strconv.FormatUint(seed, 10),
		"rng_counter": strconv.FormatUint(counter, 10),
		"optG_step":   strconv.Itoa(t.OptG.Step),
		"optD_step":   strconv.Itoa(t.OptD.Step),
	}
	if err := safetensors.WriteFile(path, ts, meta); err != nil {
		return fmt.Errorf("checkpoint %s: %w", path, err)
	}
	return nil
}

// LoadCheckpoint reads a checkpoint and rebuilds the trainer exactly as it
// was when saved.
func LoadCheckpoint(path string, data Dataset, clipFeats CLIPImageFeatures) (*Trainer, error) {
	f, err := safetensors.ReadFile(path)
	if err != nil {
		return nil, err
	}
	bad := func(format string, a ...any) error {
		return fmt.Errorf("checkpoint %s: %s", path, fmt.Sprintf(format, a...))
	}
	if f.Metadata["format"] != "lafite-go checkpoint v1" {
		return nil, bad("not a lafite-go training checkpoint (format %q)", f.Metadata["format"])
	}
	var cfg TrainConfig
	if err := json.Unmarshal([]byte(f.Metadata["config"]), &cfg); err != nil {
		return nil, bad("bad config: %v", err)
	}
	if err := cfg.G.checkFile(f, "G_ema."); err != nil {
		return nil, bad("%v", err)
	}
	if err := cfg.D.checkFile(f, "D."); err != nil {
		return nil, bad("%v", err)
	}
	t, err := NewTrainer(cfg, data, clipFeats)
	if err != nil {
		return nil, bad("%v", err)
	}
	load := func(prefix string, m nn.Module) error {
		sd := map[string]*tensor.Tensor{}
		for _, p := range nn.AllParams(m) {
			st, ok := f.Get(prefix + p.Name)
			if !ok {
				return bad("missing tensor %s%s", prefix, p.Name)
			}
			v, err := st.Float32()
			if err != nil {
				return bad("%v", err)
			}
			if st.Numel() != p.Var.Value.Numel() {
				return bad("tensor %s%s has shape %v, the model wants %v", prefix, p.Name, st.Shape, p.Var.Value.Shape())
			}
			sd[p.Name] = tensor.New(v, st.Shape...)
		}
		return nn.LoadStateDict(m, sd, true)
	}
	if err := load("G.", genModule{t.G, t.Perturb}); err != nil {
		return nil, err
	}
	if err := load("G_ema.", t.GEma); err != nil {
		return nil, err
	}
	if err := load("D.", t.D); err != nil {
		return nil, err
	}
	loadAdam := func(prefix string, a *nn.Adam, stepKey string) error {
		m, v := a.State()
		ms, vs := make([]*tensor.Tensor, len(m)), make([]*tensor.Tensor, len(v))
		for i := range m {
			for _, pair := range []struct {
				dst *[]*tensor.Tensor
				key string
			}{{&ms, fmt.Sprintf("%s.m.%d", prefix, i)}, {&vs, fmt.Sprintf("%s.v.%d", prefix, i)}} {
				st, ok := f.Get(pair.key)
				if !ok {
					return bad("missing tensor %s", pair.key)
				}
				d, err := st.Float32()
				if err != nil {
					return bad("%v", err)
				}
				(*pair.dst)[i] = tensor.New(d, st.Shape...)
			}
		}
		step, err := strconv.Atoi(f.Metadata[stepKey])
		if err != nil {
			return bad("bad %s: %v", stepKey, err)
		}
		if err := a.SetState(ms, vs, step); err != nil {
			return bad("%v", err)
		}
		return nil
	}
	if err := loadAdam("optG", t.OptG, "optG_step"); err != nil {
		return nil, err
	}
	if err := loadAdam("optD", t.OptD, "optD_step"); err != nil {
		return nil, err
	}
	nums := map[string]*uint64{}
	var step, seen, pl, seed, counter uint64
	nums["step"], nums["images_seen"], nums["pl_mean"], nums["rng_seed"], nums["rng_counter"] = &step, &seen, &pl, &seed, &counter
	for k, dst := range nums {
		v, err := strconv.ParseUint(f.Metadata[k], 10, 64)
		if err != nil {
			return nil, bad("bad %s %q: %v", k, f.Metadata[k], err)
		}
		*dst = v
	}
	t.Step, t.ImagesSeen, t.PLMean = int(step), int64(seen), math32frombits(uint32(pl))
	t.RNG.SetState(seed, counter)
	return t, nil
}

// LoadGenerator reads just the EMA generator from a training checkpoint (or
// a file exported by SaveGenerator), for generation; a PyTorch file (the
// reference's network .pkl, or a state dict) goes to ImportGenerator.
func LoadGenerator(path string) (*Generator, error) {
	if torchfile.IsTorchFile(path) {
		return ImportGenerator(path)
	}
	f, err := safetensors.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var cfg TrainConfig
	switch f.Metadata["format"] {
	case "lafite-go checkpoint v1", "lafite-go generator v1":
	default:
		return nil, fmt.Errorf("%s: not a lafite-go checkpoint or generator (format %q)", path, f.Metadata["format"])
	}
	if err := json.Unmarshal([]byte(f.Metadata["config"]), &cfg); err != nil {
		return nil, fmt.Errorf("%s: bad config: %v", path, err)
	}
	if err := cfg.G.checkFile(f, "G_ema."); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	g, err := NewGenerator(cfg.G, tensor.NewRNG(0))
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	sd := map[string]*tensor.Tensor{}
	for _, p := range nn.AllParams(g) {
		st, ok := f.Get("G_ema." + p.Name)
		if !ok {
			return nil, fmt.Errorf("%s: missing tensor G_ema.%s", path, p.Name)
		}
		v, err := st.Float32()
		if err != nil {
			return nil, fmt.Errorf("%s: %v", path, err)
		}
		if st.Numel() != p.Var.Value.Numel() {
			return nil, fmt.Errorf("%s: tensor G_ema.%s has shape %v, the model wants %v", path, p.Name, st.Shape, p.Var.Value.Shape())
		}
		sd[p.Name] = tensor.New(v, st.Shape...)
	}
	if err := nn.LoadStateDict(g, sd, true); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return g, nil
}

// SaveGenerator writes only the EMA generator (what generation needs; about
// a third of a checkpoint), atomically.
func SaveGenerator(path string, g *Generator, cfg TrainConfig) error {
	ts := addModule(nil, "G_ema.", g)
	c, err := json.Marshal(cfg)
	if err != nil {
		return err
	}
	return safetensors.WriteFile(path, ts, map[string]string{"format": "lafite-go generator v1", "config": string(c)})
}
