package tensor

import "sync/atomic"

// Every pooled host buffer is numbered in allocation order, so that code
// which makes many short-lived tensors (a backward pass) can tell the
// buffers it made from those that existed before it started, and hand its
// own back to the pool once nothing refers to them: views and values of the
// forward pass are never among them.
var allocSerial atomic.Uint64

func nextSerial() uint64 { return allocSerial.Add(1) }

// BufferMark is the number of pooled host buffers allocated so far: the
// buffers allocated from now on are those PooledSince(mark) reports.
func BufferMark() uint64 { return allocSerial.Load() }

// PooledSince reports whether t's buffer is a pooled host buffer allocated
// after mark (one BufferMark returned), still held.
func (t *Tensor) PooledSince(mark uint64) bool {
	s := t.storage
	return s != nil && s.pooled && s.device == CPU && s.data != nil && s.serial > mark
}

// Buffer identifies the buffer under t: views of one buffer share it.
// Compare it, do not look into it.
func (t *Tensor) Buffer() *Storage { return t.storage }
