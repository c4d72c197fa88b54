package cuda

import (
	"fmt"
	"strings"
)

// Summary describes the GPU set-up for `lafite doctor`: everything needed to
// tell why kernels do or do not run on the GPU.
type Summary struct {
	DriverPath    string        // libcuda as opened; empty without a driver
	DriverVersion string        // CUDA version the driver supports, e.g. "12.4"
	Devices       []DeviceProps // empty without a GPU
	NVRTCPath     string
	NVRTCVersion  string // e.g. "11.8"
	NVRTCArchs    []int  // compute capabilities NVRTC can target
	NVRTCError    string // why NVRTC could not be loaded
	KernelCache   string // the compile cache folder
	Targets       []Target
	// CPUFallback is the one line saying why the engine runs on the CPU;
	// empty when a GPU is usable.
	CPUFallback string
}

// Info gathers a Summary. It never fails: problems become fields.
func Info() Summary {
	var s Summary
	if dir, err := KernelCacheDir(); err == nil {
		s.KernelCache = dir
	} else {
		s.KernelCache = "(none: " + err.Error() + ")"
	}
	if n, err := sharedNVRTC(); err == nil {
		s.NVRTCPath, s.NVRTCVersion, s.NVRTCArchs = n.Path, n.Version(), n.SupportedArchs()
	} else {
		s.NVRTCError = err.Error()
	}
	d, err := loadDriver()
	if d != nil {
		s.DriverPath = d.path
		var v int32
		if d.cuDriverGetVersion(&v) == 0 {
			s.DriverVersion = fmt.Sprintf("%d.%d", v/1000, v%1000/10)
		}
	}
	if err != nil {
		s.CPUFallback = err.Error()
		return s
	}
	n, err := DeviceCount()
	if err != nil {
		s.CPUFallback = err.Error()
		return s
	}
	if n == 0 {
		s.CPUFallback = ErrNoDevice.Error()
		return s
	}
	for i := 0; i < n; i++ {
		p, _, err := d.deviceProps(i)
		if err != nil {
			s.CPUFallback = err.Error()
			return s
		}
		s.Devices = append(s.Devices, p)
		if nv, err := sharedNVRTC(); err == nil {
			if t, err := ChooseTarget(p.CC(), nv.SupportedArchs(), nv.HasCUBIN()); err == nil {
				s.Targets = append(s.Targets, t)
			} else {
				s.CPUFallback = err.Error()
			}
		}
	}
	if s.NVRTCError != "" {
		s.CPUFallback = "GPU found but NVRTC missing, kernels cannot be compiled: running on CPU; " + NVRTCInstallHint
	}
	return s
}

// String formats the summary as short "key: value" lines.
func (s Summary) String() string {
	var b strings.Builder
	line := func(k, format string, a ...any) {
		fmt.Fprintf(&b, "%-14s "+format+"\n", append([]any{k + ":"}, a...)...)
	}
	if s.DriverPath != "" {
		line("cuda driver", "%s (CUDA %s)", s.DriverPath, s.DriverVersion)
	} else {
		line("cuda driver", "none")
	}
	for i, p := range s.Devices {
		line(fmt.Sprintf("gpu %d", p.Ordinal), "%s, compute %d.%d, %.1f GiB, %d SMs", p.Name, p.Major, p.Minor,
			float64(p.TotalMem)/(1<<30), p.SMs)
		if i < len(s.Targets) {
			t := s.Targets[i]
			note := ""
			if t.Note != "" {
				note = " (" + t.Note + ")"
			}
			line("  kernels", "%s%s", t.Arch, note)
		}
	}
	if s.NVRTCPath != "" {
		line("nvrtc", "%s (%s), archs %v", s.NVRTCPath, s.NVRTCVersion, s.NVRTCArchs)
	} else {
		line("nvrtc", "%s", s.NVRTCError)
	}
	line("kernel cache", "%s", s.KernelCache)
	if s.CPUFallback != "" {
		b.WriteString(s.CPUFallback + "\n")
	}
	return b.String()
}
