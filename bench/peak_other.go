//go:build !amd64

package bench

func fmaLoops() []fmaLoop {
	return []fmaLoop{{isa: "scalar", flopsPerIter: 16, run: scalarFMALoop}}
}
