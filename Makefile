SHELL := /bin/bash
# Everything builds without cgo: the GPU path loads its libraries at run time.
export CGO_ENABLED := 0
GO ?= go
PKGS := $(shell $(GO) list ./... | grep -v '/golden$$')

.PHONY: test fmt-check vet unit golden build

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
