package types

import (
	"crypto/sha256"
	"encoding/hex"
)

// HashSize is the size of a Hash in bytes.
const HashSize = 32

// Hash is a SHA-256 based digest: block ids, transaction ids, Merkle nodes
// and the state commitment.
type Hash [HashSize]byte

// ZeroHash is the hash of nothing: the previous hash of the genesis block.
var ZeroHash Hash

// String renders the hash as lowercase hex, in byte order.
func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// IsZero reports whether every byte is zero.
func (h Hash) IsZero() bool { return h == ZeroHash }

// ParseHash reads 64 hex digits.
func ParseHash(s string) (Hash, error) {
	var h Hash
	if len(s) != 2*HashSize {
		return h, errorf(ErrNonCanonical, "hash must be %d hex digits, got %d characters", 2*HashSize, len(s))
	}
	if _, err := hex.Decode(h[:], []byte(s)); err != nil {
		return h, errorf(ErrNonCanonical, "hash is not hex: %v", err)
	}
	return h, nil
}

// DoubleSHA256 returns SHA-256(SHA-256(b)).
func DoubleSHA256(b []byte) Hash {
	first := sha256.Sum256(b)
	return sha256.Sum256(first[:])
}
