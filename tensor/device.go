package tensor

// Device says where a tensor's storage lives.
type Device int

const (
	// CPU is host memory, computed by package kernels/cpu.
	CPU Device = iota
)

func (d Device) String() string {
	switch d {
	case CPU:
		return "cpu"
	}
	return "unknown-device"
}
