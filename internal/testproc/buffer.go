package testproc

import (
	"bytes"
	"strings"
	"sync"
)

// Buffer collects a process's output for exec's copying goroutine and
// the test reading it: a bytes.Buffer under a mutex (mu guards buf).
// The zero value is ready to use.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p; it never fails.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String is everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Len is the number of bytes written so far.
func (b *Buffer) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Len()
}

// From is what was written from byte offset off on ("" if off is at or
// past the end).
func (b *Buffer) From(off int) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if off < 0 {
		off = 0
	}
	if off >= b.buf.Len() {
		return ""
	}
	return string(b.buf.Bytes()[off:])
}

// Tail is the last n lines written (all of them if fewer), for failure
// messages.
func (b *Buffer) Tail(n int) string {
	return TailLines(b.String(), n)
}

// TailLines is the last n lines of s (all of s if it has fewer).
func TailLines(s string, n int) string {
	if n <= 0 {
		return ""
	}
	end := strings.TrimRight(s, "\n")
	cut := len(end)
	for i := 0; i < n; i++ {
		j := strings.LastIndexByte(end[:cut], '\n')
		if j < 0 {
			return s
		}
		cut = j
	}
	return s[cut+1:]
}
