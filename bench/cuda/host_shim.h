// host_shim.h: the CUDA runtime calls of variants.cu declared for g++, so that
// check-syntax.sh can type-check the harness where nvcc is missing (device
// code through kernels/cuda/hostsim's runtime.h).
#include "runtime.h"
#include <cstddef>
typedef int cudaError_t;
typedef struct CUevent_st* cudaEvent_t;
enum { cudaSuccess = 0, cudaMemcpyDeviceToHost = 2, cudaMemcpyHostToDevice = 1, cudaDevAttrMultiProcessorCount = 16 };
struct cudaDeviceProp { char name[256]; int major, minor; };
template <class T> cudaError_t cudaMalloc(T** p, size_t n);
cudaError_t cudaFree(void*);
cudaError_t cudaMemcpy(void*, const void*, size_t, int);
cudaError_t cudaMemset(void*, int, size_t);
cudaError_t cudaDeviceSynchronize();
cudaError_t cudaGetLastError();
const char* cudaGetErrorString(cudaError_t);
cudaError_t cudaEventCreate(cudaEvent_t*);
cudaError_t cudaEventRecord(cudaEvent_t, int = 0);
cudaError_t cudaEventSynchronize(cudaEvent_t);
cudaError_t cudaEventElapsedTime(float*, cudaEvent_t, cudaEvent_t);
cudaError_t cudaDeviceGetAttribute(int*, int, int);
cudaError_t cudaGetDeviceProperties(cudaDeviceProp*, int);
