package sysmem

import (
	"strings"
	"testing"
)

func TestCheckRefusesMoreThanTheMachineHas(t *testing.T) {
	total := Total()
	if total == 0 {
		t.Skip("the machine's memory is unknown on this system: Check lets everything through")
	}
	if total < 64<<20 || total > 1<<50 {
		t.Fatalf("Total() = %d bytes: not a machine's memory", total)
	}
	if err := Check(total/1024, "a small buffer"); err != nil {
		t.Fatal(err)
	}
	err := Check(total+1, "a huge buffer")
	if err == nil || !strings.Contains(err.Error(), "a huge buffer needs ") || !strings.Contains(err.Error(), "of memory") {
		t.Fatalf("more than the machine has: %v", err)
	}
}

func TestSize(t *testing.T) {
	for _, c := range []struct {
		b    uint64
		want string
	}{{512, "512 bytes"}, {3 << 20, "3 MB"}, {3 << 29, "1.5 GB"}} {
		if got := Size(c.b); got != c.want {
			t.Errorf("Size(%d) = %q, want %q", c.b, got, c.want)
		}
	}
}
