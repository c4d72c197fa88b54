package torchfile

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lafite-go/lafite/internal/goldendir"
)

// IsTorchFile takes PyTorch's zip and the legacy pickle stream, and not a
// safetensors file whose header length (640 = 0x280) starts with the bytes
// of a protocol-2 pickle.
func TestIsTorchFileTellsSafetensorsFromPickles(t *testing.T) {
	dir := t.TempDir()
	header := `{"__metadata__":{"x":"` + strings.Repeat("y", 640-25) + `"}}`
	if len(header) != 640 {
		t.Fatalf("header of %d bytes", len(header))
	}
	st := binary.LittleEndian.AppendUint64(nil, 640)
	st = append(st, header...)
	safe := filepath.Join(dir, "a.safetensors")
	os.WriteFile(safe, st, 0o644)
	if st[0] != 0x80 || st[1] != 0x02 {
		t.Fatalf("the test file starts %x, not as a pickle", st[:2])
	}
	if IsTorchFile(safe) {
		t.Fatal("a safetensors file with a 640-byte header taken for a pickle")
	}
	legacy := filepath.Join(dir, "legacy.pt")
	os.WriteFile(legacy, []byte{0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8}, 0o644)
	if !IsTorchFile(legacy) || !IsTorchFile(filepath.Join(goldendir.Dir(t), "clip_files", "tiny_clip_state_dict.pt")) {
		t.Fatal("a legacy stream's start or a torch.save zip not taken for PyTorch")
	}
}
