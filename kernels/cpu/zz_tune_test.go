package cpu
import ("fmt";"testing";"math/rand/v2";"time";"os";"strconv")
func TestTune(t *testing.T){
	r := rand.New(rand.NewPCG(3, 4))
	m,n,k := 1024,1024,1024
	if s := os.Getenv("TUNE_M"); s != "" { m, _ = strconv.Atoi(s); n, _ = strconv.Atoi(os.Getenv("TUNE_N")); k, _ = strconv.Atoi(os.Getenv("TUNE_K")) }
	a, bm, c := randSlice(r, m*k), randSlice(r, k*n), make([]float32, m*n)
	type cfg struct{ base *gemmKernel; kc, mc int }
	cfgs := []cfg{{avx512Kernel,256,336},{avx512Kernel,384,448},{avx512Kernel,512,448},{avx512Kernel,192,224},{avx512Kernel,384,224},
		{avx2Kernel,256,192},{avx2Kernel,384,192},{avx2Kernel,512,96},{avx2Kernel,192,96}}
	var gs []*gemmKernel
	for _, cf := range cfgs { gs = append(gs, &gemmKernel{mr: cf.base.mr, nr: cf.base.nr, kc: cf.kc, mc: cf.mc, nc: 2048, tile: cf.base.tile}) }
	best := make([]time.Duration, len(gs))
	for i := range best { best[i] = time.Hour }
	rounds := 30
	for round := 0; round < rounds; round++ {
		for i, g := range gs {
			t0:=time.Now(); g.gemm(m,n,k,1,a,0,k,1,bm,0,n,1,0,c,0,n); best[i]=min(best[i],time.Since(t0))
		}
	}
	for i, g := range gs {
		fmt.Printf("mr=%d kc=%d mc=%d: %.1f GFLOP/s\n", g.mr, g.kc, g.mc, 2e-9*float64(m*n*k)/best[i].Seconds())
	}
}
