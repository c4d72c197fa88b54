//go:build !linux

package cuda

// Without a thread id every Do goes through the channel (tid 0 never matches); re-entrant Do from
// inside a Do closure would deadlock, but CUDA only runs on Linux here.
func gettid() int { return 0 }
