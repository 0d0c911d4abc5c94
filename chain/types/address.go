package types

import (
	"crypto/sha256"
	"encoding/hex"
)

// AddressSize is the size of an Address in bytes.
const AddressSize = 20

// PubKeySize is the size of a compressed secp256k1 public key.
const PubKeySize = 33

// Address identifies an account: the first 20 bytes of the SHA-256 of the
// account's compressed secp256k1 public key. People see it in bech32 with
// the network's prefix (Bech32), which carries a checksum.
type Address [AddressSize]byte

// AddressFromPubKey derives the address of a compressed public key.
func AddressFromPubKey(pub *[PubKeySize]byte) Address {
	sum := sha256.Sum256(pub[:])
	var a Address
	copy(a[:], sum[:AddressSize])
	return a
}

// Bech32 renders the address with the network's human-readable prefix.
func (a Address) Bech32(hrp string) string {
	data, _ := convertBits(a[:], 8, 5, true)
	return bech32Encode(hrp, data)
}

// String renders the address as hex; user-facing code should use Bech32.
func (a Address) String() string { return hex.EncodeToString(a[:]) }

// ParseAddress decodes a bech32 address and checks that it belongs to the
// network whose prefix is hrp. The error says whether the checksum, the
// network or the shape is wrong.
func ParseAddress(s, hrp string) (Address, error) {
	var a Address
	gotHRP, data, err := bech32Decode(s)
	if err != nil {
		return a, err
	}
	if gotHRP != hrp {
		return a, errorf(ErrBadAddress, "address is for network prefix %q, this network uses %q", gotHRP, hrp)
	}
	raw, ok := convertBits(data, 5, 8, false)
	if !ok || len(raw) != AddressSize {
		return a, errorf(ErrBadAddress, "address payload is not %d bytes", AddressSize)
	}
	copy(a[:], raw)
	return a, nil
}

// ValidHRP reports whether hrp can prefix an address: 1 to 20 lowercase
// ASCII letters or digits.
func ValidHRP(hrp string) bool {
	if len(hrp) == 0 || len(hrp) > 20 {
		return false
	}
	for i := 0; i < len(hrp); i++ {
		c := hrp[i]
		if !(c >= 'a' && c <= 'z') && !(c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}
