package types

import "encoding/binary"

// reader consumes a byte slice front to back. Every read checks the length
// first; the first failure sticks, so callers check err once at the end of a
// fixed-size group of reads and before any allocation driven by the input.
type reader struct {
	buf []byte
	err error
}

func (r *reader) take(n int, what string) []byte {
	if r.err != nil {
		return nil
	}
	if n > len(r.buf) {
		r.err = errorf(ErrShortInput, "%s: need %d bytes, %d left", what, n, len(r.buf))
		return nil
	}
	b := r.buf[:n]
	r.buf = r.buf[n:]
	return b
}

func (r *reader) u8(what string) uint8 {
	if b := r.take(1, what); b != nil {
		return b[0]
	}
	return 0
}

func (r *reader) u16(what string) uint16 {
	if b := r.take(2, what); b != nil {
		return binary.BigEndian.Uint16(b)
	}
	return 0
}

func (r *reader) u32(what string) uint32 {
	if b := r.take(4, what); b != nil {
		return binary.BigEndian.Uint32(b)
	}
	return 0
}

func (r *reader) u64(what string) uint64 {
	if b := r.take(8, what); b != nil {
		return binary.BigEndian.Uint64(b)
	}
	return 0
}

func (r *reader) bytes(dst []byte, what string) {
	if b := r.take(len(dst), what); b != nil {
		copy(dst, b)
	}
}

// finish reports the sticky error, or ErrTrailingBytes if input remains.
func (r *reader) finish(what string) error {
	if r.err != nil {
		return r.err
	}
	if len(r.buf) != 0 {
		return errorf(ErrTrailingBytes, "%s: %d trailing bytes", what, len(r.buf))
	}
	return nil
}
