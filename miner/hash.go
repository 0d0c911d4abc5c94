package miner

import (
	"bytes"
	"crypto/sha256"
	"encoding"
	"encoding/binary"
	"hash"

	"github.com/ledger-node/ledger/chain/types"
)

// The header is 118 bytes: the first SHA-256 block covers bytes 0..63
// (version, height, previous hash, 26 bytes of the transaction root) and
// is the same for every nonce and time; bytes 64..117 and the padding fit
// in one more block. So the first hash of a nonce costs one compression
// from the midstate and the second hash one more, against three for a
// plain double SHA-256.
//
// crypto/sha256 exposes no compression function. Options measured
// (BenchmarkMinerHashrate and kernel benchmarks since removed, one
// machine, ns per nonce): plain double SHA-256 203; restore a marshaled
// midstate, Write the 54-byte tail, Sum 153; restore a marshaled state
// that already holds the tail, with the nonce patched into the marshaled
// buffer, Sum 148; hash.Cloner 216-305 (Clone allocates). The patched
// state is used when the digest's marshaled layout is the one expected
// (checked once, at construction); otherwise the tail is written.

const (
	tailSize = types.HeaderSize - types.MidstateSize // 54
	// Marshaled SHA-256 state: magic (4), h[8] (32), buffer (64), length (8).
	stateMagic     = "sha\x03"
	stateSize      = 4 + 32 + 64 + 8
	stateBufOffset = 4 + 32
	tailNonce      = types.NonceOffset - types.MidstateSize // 50
	tailTime       = 102 - types.MidstateSize               // 38
)

// hasher hashes one header for many nonces. It is owned by one goroutine.
type hasher struct {
	d  hash.Hash
	du encoding.BinaryUnmarshaler
	// state is the marshaled digest: after the whole header when patched,
	// after the first 64 bytes otherwise.
	state   []byte
	patched bool
	tail    [tailSize]byte
	d2      hash.Hash
	first   [sha256.Size]byte
	second  [sha256.Size]byte
}

func newHasher() *hasher {
	d := sha256.New()
	return &hasher{d: d, du: d.(encoding.BinaryUnmarshaler), d2: sha256.New()}
}

// setHeader computes the midstate of hdr.
func (h *hasher) setHeader(hdr *[types.HeaderSize]byte) {
	h.d.Reset()
	h.d.Write(hdr[:])
	st, err := h.d.(encoding.BinaryMarshaler).MarshalBinary()
	h.patched = err == nil && len(st) == stateSize && string(st[:4]) == stateMagic &&
		bytes.Equal(st[stateBufOffset:stateBufOffset+tailSize], hdr[types.MidstateSize:])
	if !h.patched {
		h.d.Reset()
		h.d.Write(hdr[:types.MidstateSize])
		st, _ = h.d.(encoding.BinaryMarshaler).MarshalBinary()
	}
	h.state = st
	copy(h.tail[:], hdr[types.MidstateSize:])
}

// setTime changes the header time (it lies after the midstate).
func (h *hasher) setTime(t uint64) {
	binary.BigEndian.PutUint64(h.tail[tailTime:], t)
	if h.patched {
		binary.BigEndian.PutUint64(h.state[stateBufOffset+tailTime:], t)
	}
}

// hash returns the block hash of the header with nonce.
func (h *hasher) hash(nonce uint32) *[sha256.Size]byte {
	if h.patched {
		binary.BigEndian.PutUint32(h.state[stateBufOffset+tailNonce:], nonce)
		h.du.UnmarshalBinary(h.state)
	} else {
		binary.BigEndian.PutUint32(h.tail[tailNonce:], nonce)
		h.du.UnmarshalBinary(h.state)
		h.d.Write(h.tail[:])
	}
	h.d.Sum(h.first[:0])
	h.d2.Reset()
	h.d2.Write(h.first[:])
	h.d2.Sum(h.second[:0])
	return &h.second
}

// scan hashes count nonces from start and returns the first whose hash is
// at most target (both big-endian 256-bit numbers).
func (h *hasher) scan(start, count uint32, target *[32]byte) (nonce uint32, found bool) {
	t0 := binary.BigEndian.Uint64(target[:8])
	for i := uint32(0); i < count; i++ {
		n := start + i
		sum := h.hash(n)
		// The first 8 bytes decide all but one case in 2^64.
		if v := binary.BigEndian.Uint64(sum[:8]); v < t0 || (v == t0 && bytes.Compare(sum[:], target[:]) <= 0) {
			return n, true
		}
	}
	return 0, false
}
