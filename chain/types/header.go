package types

import (
	"crypto/sha256"
	"encoding/binary"
)

// HeaderSize is the encoded size of a block header. It is kept at most 119
// bytes so that, past the first 64-byte SHA-256 block, the rest of the
// header and the padding fit in one block: a miner hashing from the midstate
// of the first 64 bytes pays one compression for the first hash and one for
// the second per nonce, against three for a naive double SHA-256.
const HeaderSize = 2 + 4 + HashSize*3 + 8 + 4 + 4

// MidstateSize is the length of the header prefix a miner hashes once per
// template: version, height, previous hash and the first 26 bytes of the
// transaction root. The nonce and time lie after it.
const MidstateSize = 64

// NonceOffset is where the 4-byte nonce sits in the encoded header.
const NonceOffset = HeaderSize - 4

// Header is a block header.
type Header struct {
	Version   uint16
	Height    uint32
	PrevBlock Hash
	TxRoot    Hash   // Merkle root of the block's transaction ids
	StateRoot Hash   // commitment to every account after the block
	Time      uint64 // seconds since the Unix epoch
	Bits      uint32 // compact form of the proof-of-work target
	Nonce     uint32
}

// Encode returns the canonical 118-byte encoding.
func (h *Header) Encode() [HeaderSize]byte {
	var b [HeaderSize]byte
	h.Put(&b)
	return b
}

// Put writes the canonical encoding into b.
func (h *Header) Put(b *[HeaderSize]byte) {
	binary.BigEndian.PutUint16(b[0:], h.Version)
	binary.BigEndian.PutUint32(b[2:], h.Height)
	copy(b[6:38], h.PrevBlock[:])
	copy(b[38:70], h.TxRoot[:])
	copy(b[70:102], h.StateRoot[:])
	binary.BigEndian.PutUint64(b[102:], h.Time)
	binary.BigEndian.PutUint32(b[110:], h.Bits)
	binary.BigEndian.PutUint32(b[114:], h.Nonce)
}

// Hash is the block id and proof-of-work hash: double SHA-256 of the
// encoded header.
func (h *Header) Hash() Hash {
	b := h.Encode()
	first := sha256.Sum256(b[:])
	return sha256.Sum256(first[:])
}

// DecodeHeader decodes exactly one header.
func DecodeHeader(b []byte) (*Header, error) {
	if len(b) < HeaderSize {
		return nil, errorf(ErrShortInput, "header: need %d bytes, got %d", HeaderSize, len(b))
	}
	if len(b) > HeaderSize {
		return nil, errorf(ErrTrailingBytes, "header: %d trailing bytes", len(b)-HeaderSize)
	}
	h := new(Header)
	decodeHeaderInto(h, (*[HeaderSize]byte)(b))
	return h, nil
}

func decodeHeaderInto(h *Header, b *[HeaderSize]byte) {
	h.Version = binary.BigEndian.Uint16(b[0:])
	h.Height = binary.BigEndian.Uint32(b[2:])
	copy(h.PrevBlock[:], b[6:38])
	copy(h.TxRoot[:], b[38:70])
	copy(h.StateRoot[:], b[70:102])
	h.Time = binary.BigEndian.Uint64(b[102:])
	h.Bits = binary.BigEndian.Uint32(b[110:])
	h.Nonce = binary.BigEndian.Uint32(b[114:])
}
