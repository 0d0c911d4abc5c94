package lthash

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"sync"
)

// Size is the length in bytes of a serialized Hash: 1024 little-endian
// uint16 lanes.
const Size = 2048

const (
	lanes = Size / 2 // 1024 uint16 lanes
	words = Size / 8 // 256 uint64 words, 4 lanes each

	// elementTag prefixes every element before it is hashed into the
	// AES-256 key that expands it. It is constant, so tag||data is an
	// injective function of data.
	elementTag = "ledger-node/lthash16/v1/element\x00"
	// commitTag prefixes the serialized lanes hashed by Sum, so a
	// commitment can never be confused with an element key or any other
	// SHA-256 in the protocol.
	commitTag = "ledger-node/lthash16/v1/commit\x00"

	// hiBits selects the top bit of each 16-bit lane of a word.
	hiBits = 0x8000_8000_8000_8000
)

// ErrBadLength is returned (possibly wrapped) by FromBytes when the input
// is not exactly Size bytes long. Match it with errors.Is.
var ErrBadLength = errors.New("lthash: serialized hash must be exactly 2048 bytes")

// Hash is an LtHash16 state: 1024 lanes of 16 bits, stored four to a
// uint64 word (lane 4i+k in bits 16k..16k+15 of word i). The zero value is
// the hash of the empty set. A Hash is a plain value: copying it copies the
// state, and == compares states like Equal.
//
// Methods are not safe for concurrent use on the same Hash; the owner
// must serialise access. Distinct Hash values may be used concurrently.
type Hash struct {
	w [words]uint64
}

// zeros is the all-zero plaintext the AES-CTR keystream is XORed onto. It
// is only ever read.
var zeros [Size]byte

// zeroIV is the CTR initial counter block. A fixed IV is sound here: every
// element derives its own AES key, and each key encrypts exactly one
// keystream of 128 blocks.
var zeroIV [aes.BlockSize]byte

// bufPool holds expansion buffers for Add and Remove. The buffer must live
// on the heap anyway: the keystream is written through the cipher.Stream
// interface, which makes its destination escape.
var bufPool = sync.Pool{New: func() any { return new([Size]byte) }}

// expand writes the 2048-byte pseudo-random expansion of data to out:
// the AES-256-CTR keystream (zero IV) under the key SHA-256(elementTag||data).
func expand(out *[Size]byte, data []byte) {
	var key [sha256.Size]byte
	if len(data) <= 128 {
		// Common case (account leaves): build tag||data on the stack.
		var tmp [len(elementTag) + 128]byte
		n := copy(tmp[:], elementTag)
		n += copy(tmp[n:], data)
		key = sha256.Sum256(tmp[:n])
	} else {
		d := sha256.New()
		d.Write([]byte(elementTag))
		d.Write(data)
		d.Sum(key[:0])
	}
	block, err := aes.NewCipher(key[:])
	if err != nil {
		// A 32-byte key is always valid for AES-256.
		panic("lthash: " + err.Error())
	}
	cipher.NewCTR(block, zeroIV[:]).XORKeyStream(out[:], zeros[:])
}

// add adds the lanes encoded little-endian in b to w, lane-wise mod 2^16.
// SWAR: the low 15 bits of every lane are summed with the top bits
// cleared, so no carry crosses a lane; the top bits are then fixed up with
// XOR (a sum's top bit is the XOR of both top bits and the incoming carry).
func add(w *[words]uint64, b *[Size]byte) {
	for i := range w {
		x := w[i]
		y := binary.LittleEndian.Uint64(b[8*i:])
		w[i] = ((x &^ hiBits) + (y &^ hiBits)) ^ ((x ^ y) & hiBits)
	}
}

// sub subtracts the lanes encoded little-endian in b from w, lane-wise
// mod 2^16. SWAR: every lane of x gets its top bit set so that no borrow
// leaves a lane; the top bits are then fixed up with XOR.
func sub(w *[words]uint64, b *[Size]byte) {
	for i := range w {
		x := w[i]
		y := binary.LittleEndian.Uint64(b[8*i:])
		w[i] = ((x | hiBits) - (y &^ hiBits)) ^ ((x ^ ^y) & hiBits)
	}
}

// addWord and subWord are add and sub for one word pair.
func addWord(x, y uint64) uint64 { return ((x &^ hiBits) + (y &^ hiBits)) ^ ((x ^ y) & hiBits) }
func subWord(x, y uint64) uint64 { return ((x | hiBits) - (y &^ hiBits)) ^ ((x ^ ^y) & hiBits) }

// Add adds one element (the expansion of its bytes) to the multiset. The
// element bytes are only read; the caller may reuse them afterwards.
func (h *Hash) Add(element []byte) {
	buf := bufPool.Get().(*[Size]byte)
	expand(buf, element)
	add(&h.w, buf)
	bufPool.Put(buf)
}

// Remove removes one element from the multiset. Removing an element that
// was never added is not detected: the state then no longer corresponds to
// any set.
func (h *Hash) Remove(element []byte) {
	buf := bufPool.Get().(*[Size]byte)
	expand(buf, element)
	sub(&h.w, buf)
	bufPool.Put(buf)
}

// Combine sets h to h + o lane-wise: the hash of the multiset union. It is
// how partial sums computed in parallel are merged. o may equal h.
func (h *Hash) Combine(o *Hash) {
	for i := range h.w {
		h.w[i] = addWord(h.w[i], o.w[i])
	}
}

// Subtract sets h to h - o lane-wise: the hash of the multiset difference
// (meaningful when o's elements are all in h). o may equal h.
func (h *Hash) Subtract(o *Hash) {
	for i := range h.w {
		h.w[i] = subWord(h.w[i], o.w[i])
	}
}

// Bytes returns the serialization: lane 0 first, each lane little-endian.
func (h *Hash) Bytes() [Size]byte {
	var b [Size]byte
	for i, x := range h.w {
		binary.LittleEndian.PutUint64(b[8*i:], x)
	}
	return b
}

// Sum returns the commitment: SHA-256(commitTag || Bytes()).
func (h *Hash) Sum() [32]byte {
	var b [len(commitTag) + Size]byte
	copy(b[:], commitTag)
	for i, x := range h.w {
		binary.LittleEndian.PutUint64(b[len(commitTag)+8*i:], x)
	}
	return sha256.Sum256(b[:])
}

// FromBytes parses a serialization made by Bytes. Every 2048-byte string
// is a valid state. Any other length gives an error matching ErrBadLength.
func FromBytes(b []byte) (Hash, error) {
	var h Hash
	if len(b) != Size {
		return h, fmt.Errorf("%w: got %d", ErrBadLength, len(b))
	}
	for i := range h.w {
		h.w[i] = binary.LittleEndian.Uint64(b[8*i:])
	}
	return h, nil
}

// Equal reports whether h and o are the same state.
func (h *Hash) Equal(o *Hash) bool { return h.w == o.w }

// IsZero reports whether h is the empty-set state (all lanes zero).
func (h *Hash) IsZero() bool { return h.w == [words]uint64{} }

// AddAll returns the hash of the given elements (as if each were passed to
// Add on a zero Hash), expanding them on up to workers goroutines. Each
// goroutine sums a contiguous share into its own partial Hash; the
// partials are then combined. Addition is commutative, so the result does
// not depend on workers. workers < 1 means runtime.GOMAXPROCS(0). AddAll
// is safe for concurrent use; it only reads elements, which must not be
// modified until it returns.
func AddAll(elements [][]byte, workers int) Hash {
	if workers < 1 {
		workers = runtime.GOMAXPROCS(0)
	}
	if workers > len(elements) {
		workers = len(elements)
	}
	if workers <= 1 {
		var h Hash
		sumInto(&h, elements)
		return h
	}
	partial := make([]Hash, workers)
	var wg sync.WaitGroup
	for k := range workers {
		lo := k * len(elements) / workers
		hi := (k + 1) * len(elements) / workers
		wg.Go(func() { sumInto(&partial[k], elements[lo:hi]) })
	}
	wg.Wait()
	h := partial[0]
	for k := 1; k < workers; k++ {
		h.Combine(&partial[k])
	}
	return h
}

// sumInto adds every element to h with one expansion buffer.
func sumInto(h *Hash, elements [][]byte) {
	buf := bufPool.Get().(*[Size]byte)
	for _, e := range elements {
		expand(buf, e)
		add(&h.w, buf)
	}
	bufPool.Put(buf)
}
