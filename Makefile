SHELL := /bin/bash
# Everything builds without cgo: the GPU path loads its libraries at run time.
export CGO_ENABLED := 0
GO ?= go
PKGS := $(shell $(GO) list ./... | grep -v '/golden$$')

.PHONY: test fmt-check vet lint unit golden build bench bench-compare torch golden-variants gpu-check fuzz

# The whole check CI runs: formatting, vet, unit tests, then the golden test
# (verbose, so each case's PASS/FAIL/SKIP line and the summary are printed).
test: fmt-check vet unit golden

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

# staticcheck, pinned, fetched through the module proxy on first use (not
# part of test: CI's test path needs nothing beyond the Go toolchain).
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2
lint:
	$(GO) run $(STATICCHECK) ./...

unit:
	$(GO) test -count=1 $(PKGS)

golden:
	$(GO) test -count=1 -v -run 'TestGolden$$' ./golden 2>&1 | grep -E '^(\s+harness_test.go:[0-9]+: )?golden|^(--- |ok|FAIL|panic)' ; exit $${PIPESTATUS[0]}

build:
	$(GO) build -o bin/lafite ./cmd/lafite

# Every fuzz target (the file loaders, tokenizers, text fixing) mutated for
# FUZZTIME each (default 30s); `make test` runs only their seeds. A failure
# leaves its input under the package's testdata/fuzz. Minimizing a new
# input is capped at FUZZMINIMIZE (default 2s): at Go's 60s a target whose
# seed is a whole file (a zip of images, a checkpoint) spent its time
# shrinking inputs (FuzzReadImages: 10 inputs run in 2 minutes, 4875 in
# 40 s with the cap).
fuzz:
	@for pkg in $$($(GO) list ./...); do \
		for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
			echo "== $$pkg $$f"; out=$$($(GO) test -run '^$$' -fuzz "^$$f\$$" -fuzztime $(or $(FUZZTIME),30s) \
				-fuzzminimizetime $(or $(FUZZMINIMIZE),2s) $$pkg 2>&1) || { echo "$$out" | tail -30; exit 1; }; \
			echo "$$out" | tail -2; \
		done; \
	done

# Golden cases with every CPU kernel variant this machine supports.
golden-variants: build
	@for v in $$(./bin/lafite bench --list-cpu); do echo "== LAFITE_CPU=$$v"; LAFITE_CPU=$$v $(MAKE) --no-print-directory golden || exit 1; done

# The benchmark workloads (docs/WORKLOADS.md), Go side only. ONLY=a,b picks some.
bench: build
	./bin/lafite bench $(if $(ONLY),--only $(ONLY))

# Debian's PyTorch runs under the system interpreter, not a pyenv/venv one.
TORCH_PYTHON ?= /usr/bin/python3
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# OpenBLAS is only a Recommends of Debian's libtorch: without it torch falls
# back to the reference BLAS, which is no fair comparison.
torch:
	@{ $(TORCH_PYTHON) -c 'import torch' && dpkg -s libopenblas0 >/dev/null; } 2>/dev/null || { \
		echo "installing python3-torch with apt-get"; \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y --no-install-recommends python3-torch libopenblas0 || \
		{ $(SUDO) apt-get update && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y --no-install-recommends python3-torch libopenblas0; }; }

# Go and PyTorch (tuned and untuned) on the same workloads, interleaved in
# rounds; prints workload, Go median, PyTorch median, ratio. ROUNDS=n, ONLY=a,b.
bench-compare: build torch
	$(TORCH_PYTHON) bench/compare_torch.py --go ./bin/lafite --rounds $(or $(ROUNDS),3) $(if $(ONLY),--only $(ONLY))

# The GPU check, built where Go is and run where the GPU is: static test
# binaries, the lafite binary (doctor, bench --device cuda), the PyTorch
# comparison script and .gpu/run.sh, generated from
# scripts/gpu-check.sh. Usage: kernels/cuda/NOTES.md, "Running on a GPU machine".
GPU_DIR := .gpu
# The engine's kernel versions that bench/cuda/variants.cu times beside its
# current ones: bias_act as of OLD_KERNELS, upfirdn2d as of OLD_UPFIRDN.
OLD_KERNELS ?= 36fbf5f
OLD_UPFIRDN ?= ac572f0

gpu-check:
	@mkdir -p $(GPU_DIR)
	$(GO) test -c -ldflags="-s -w" -o $(GPU_DIR)/cuda.test ./kernels/cuda
	$(GO) test -c -ldflags="-s -w" -o $(GPU_DIR)/gpucheck.test ./gpucheck
	$(GO) test -c -ldflags="-s -w" -o $(GPU_DIR)/lafite.test ./lafite
	$(GO) build -ldflags="-s -w" -o $(GPU_DIR)/lafite ./cmd/lafite
	cp bench/compare_torch_gpu.py $(GPU_DIR)/
	rm -rf $(GPU_DIR)/src && mkdir -p $(GPU_DIR)/src/bench/cuda $(GPU_DIR)/src/kernels/cuda/kernels
	cp bench/cuda/variants.cu bench/cuda/*.cuh $(GPU_DIR)/src/bench/cuda/
	cp kernels/cuda/kernels/*.cu $(GPU_DIR)/src/kernels/cuda/kernels/
	(bench/cuda/make-old.sh $(OLD_KERNELS) $(OLD_UPFIRDN) >/dev/null && mv bench/cuda/old_*.cu $(GPU_DIR)/src/bench/cuda/) || echo "no git history: LAFITE_GPU_VARIANTS will not build"
	sed "s/@COMMIT@/$$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$$(git diff --quiet HEAD 2>/dev/null || echo +dirty)/g" scripts/gpu-check.sh > $(GPU_DIR)/run.sh
	chmod +x $(GPU_DIR)/run.sh
	tar czf $(GPU_DIR).tgz $(GPU_DIR)
	@echo "built $(GPU_DIR)/ and $(GPU_DIR).tgz (half the size, for a carry limit): on the GPU machine run $(GPU_DIR)/run.sh"
