// Package golden holds the golden test: it replays every case dumped from the
// reference PyTorch code (directory $LAFITE_GOLDEN, default ../shared/golden
// next to the repository) and compares each output, gradient and
// second-order gradient within that tensor's own tolerance. The handlers, one
// file per op family, live in the _test.go files of this package.
package golden
