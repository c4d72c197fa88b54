SHELL := /bin/bash
# Everything builds without cgo: the GPU path loads its libraries at run time.
export CGO_ENABLED := 0
GO ?= go
PKGS := $(shell $(GO) list ./... | grep -v '/golden$$')

.PHONY: test fmt-check vet unit golden build gpu-check

# The whole check CI runs: formatting, vet, unit tests, then the golden test
# (verbose, so each case's PASS/FAIL/SKIP line and the summary are printed).
test: fmt-check vet unit golden

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

unit:
	$(GO) test -count=1 $(PKGS)

golden:
	$(GO) test -count=1 -v -run 'TestGolden$$' ./golden 2>&1 | grep -E '^(\s+harness_test.go:[0-9]+: )?golden|^(--- |ok|FAIL|panic)' ; exit $${PIPESTATUS[0]}

build:
	$(GO) build -o bin/lafite ./cmd/lafite

# The GPU check, built where Go is and run where the GPU is: static test
# binaries, the lafite binary (for doctor) and .gpu/run.sh, generated from
# scripts/gpu-check.sh. Usage: kernels/cuda/NOTES.md, "Running on a GPU machine".
GPU_DIR := .gpu
gpu-check:
	@mkdir -p $(GPU_DIR)
	$(GO) test -c -o $(GPU_DIR)/cuda.test ./kernels/cuda
	$(GO) test -c -o $(GPU_DIR)/gpucheck.test ./gpucheck
	$(GO) build -o $(GPU_DIR)/lafite ./cmd/lafite
	sed "s/@COMMIT@/$$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$$(git diff --quiet HEAD 2>/dev/null || echo +dirty)/g" scripts/gpu-check.sh > $(GPU_DIR)/run.sh
	chmod +x $(GPU_DIR)/run.sh
	@echo "built $(GPU_DIR)/: on the GPU machine run $(GPU_DIR)/run.sh"
