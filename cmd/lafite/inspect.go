package main

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/lafite-go/lafite/lafite"
	"github.com/lafite-go/lafite/lafite/metrics"
	"github.com/lafite-go/lafite/lafite/metrics/inception"
	"github.com/lafite-go/lafite/safetensors"
	"github.com/lafite-go/lafite/torchfile"
)

func init() {
	register("inspect", "list a checkpoint's tensors (safetensors, PyTorch .pt, network .pkl) and the generator it holds, if any", runInspect)
}

// inspectedTensor is what inspect prints of a tensor, whatever the format.
type inspectedTensor struct {
	name, dtype string
	shape       []int
	numel       int
}

func runInspect(args []string, stdout io.Writer) error {
	fs := newFlags("inspect", stdout)
	prefix := fs.String("prefix", "", "list only the tensors whose names start with this (e.g. G_ema.synthesis.b4.)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: lafite inspect [--prefix P] FILE...")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return fmt.Errorf("no file named (usage: lafite inspect FILE [FILE ...])")
	}
	for _, path := range fs.Args() {
		ts, format, gen, err := readAnyCheckpoint(path)
		if err != nil {
			return err
		}
		sort.Slice(ts, func(i, j int) bool { return ts[i].name < ts[j].name })
		fmt.Fprintf(stdout, "%s: %s, %d tensors\n", path, format, len(ts))
		shown, elems := 0, 0
		for _, t := range ts {
			if !strings.HasPrefix(t.name, *prefix) {
				continue
			}
			fmt.Fprintf(stdout, "  %-56s %-8s %v\n", t.name, t.dtype, t.shape)
			shown++
			elems += t.numel
		}
		if *prefix != "" {
			fmt.Fprintf(stdout, "  (%d with prefix %q)\n", shown, *prefix)
		}
		fmt.Fprintf(stdout, "  elements: %d\n", elems)
		if strings.Contains(format, lafite.DatasetFormat) {
			describeDataset(stdout, path)
			continue
		}
		if strings.Contains(format, metrics.StatsFormat) {
			if s, about, err := metrics.LoadStats(path); err == nil {
				fmt.Fprintf(stdout, "statistics: %d images, %d features (%s)\n", s.N, len(s.Mean), about)
			} else {
				fmt.Fprintf(stdout, "statistics: do not load (%v)\n", err)
			}
			continue
		}
		if g, err := gen(); err == nil {
			fmt.Fprintf(stdout, "generator: %+v\n", g.Config)
		} else if net, ierr := inception.Load(path); ierr == nil {
			fmt.Fprintf(stdout, "Inception-v3 of the FID: %d features, %d classes, %.3g GFLOP an image\n", net.Features, net.Classes, net.FLOPs/1e9)
		} else {
			fmt.Fprintf(stdout, "generator: none that this code builds (%v)\n", err)
		}
	}
	return nil
}

// describeDataset prints what a dataset file holds, or why it does not load.
func describeDataset(w io.Writer, path string) {
	ds, err := lafite.LoadDataset(path)
	if err != nil {
		fmt.Fprintf(w, "dataset: does not load (%v)\n", err)
		return
	}
	c, h, wd := ds.ImageShape()
	fmt.Fprintf(w, "dataset: %d images of %dx%dx%d, %d captions, CLIP features of size %d", ds.Len(), c, h, wd, len(ds.Captions), ds.ImageFts.Size(1))
	if ds.About != "" {
		fmt.Fprintf(w, " (%s)", ds.About)
	}
	fmt.Fprintln(w)
}

// readAnyCheckpoint lists the tensors of a PyTorch or safetensors file, and
// gives the way to the generator it holds: built from the tensors already
// read for a PyTorch file (the reference's), lafite.LoadGenerator's reading
// of our own format otherwise.
func readAnyCheckpoint(path string) ([]inspectedTensor, string, func() (*lafite.Generator, error), error) {
	var out []inspectedTensor
	if torchfile.IsTorchFile(path) {
		ts, err := torchfile.Load(path)
		if err != nil {
			return nil, "", nil, err
		}
		for name, t := range ts {
			out = append(out, inspectedTensor{name, t.DType, t.Shape, t.Numel()})
		}
		return out, "PyTorch", func() (*lafite.Generator, error) {
			g, err := lafite.GeneratorFromTensors(ts, 256)
			if err != nil {
				return nil, fmt.Errorf("%s: %v", path, err)
			}
			return g, nil
		}, nil
	}
	st, err := safetensors.ReadFile(path)
	if err != nil {
		return nil, "", nil, fmt.Errorf("neither safetensors nor a PyTorch file this reads: %v", err)
	}
	for name, t := range st.Tensors {
		out = append(out, inspectedTensor{name, string(t.DType), t.Shape, t.Numel()})
	}
	format := "safetensors"
	if f := st.Metadata["format"]; f != "" {
		format += " (" + f + ")"
	}
	return out, format, func() (*lafite.Generator, error) { return lafite.LoadGenerator(path) }, nil
}
