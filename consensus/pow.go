package consensus

import (
	"bytes"
	"encoding/hex"
	"math/big"

	"github.com/ledger-node/ledger/chain/types"
)

// The compact ("nBits") form of a target, as in Bitcoin: the top byte is a
// base-256 exponent E, bit 23 is a sign bit and the low 23 bits a mantissa M,
// so that the value is (-1)^sign * M * 256^(E-3). Targets are never negative;
// the sign bit is kept only so that every 32-bit value decodes exactly as
// Bitcoin decodes it, and a set sign bit makes the bits invalid.
const (
	compactSignBit      = 0x00800000
	compactMantissaMask = 0x007fffff
	// compactMax is the largest magnitude the compact form can express:
	// 0x7fffff * 256^252. BigToCompact saturates larger numbers to it.
	compactMax = 0xff7fffff
)

// powTwo256 is 2^256, the numerator of CalcWork.
var powTwo256 = new(big.Int).Lsh(big.NewInt(1), 256)

// CompactToBig decodes compact bits into the number they denote, exactly as
// Bitcoin's SetCompact: exponents of 3 or less shift the mantissa right
// (dropping its low bytes), larger ones shift it left, and the sign bit
// negates the result. It never fails: the result may be negative, zero or
// wider than 256 bits, which DecodeTarget rejects as targets.
func CompactToBig(bits uint32) *big.Int {
	mantissa := bits & compactMantissaMask
	exponent := uint(bits >> 24)
	n := new(big.Int)
	if exponent <= 3 {
		n.SetUint64(uint64(mantissa >> (8 * (3 - exponent))))
	} else {
		n.SetUint64(uint64(mantissa))
		n.Lsh(n, 8*(exponent-3))
	}
	if bits&compactSignBit != 0 {
		n.Neg(n)
	}
	return n
}

// BigToCompact encodes n in canonical compact form, as Bitcoin's GetCompact:
// the exponent is the byte length of |n|, the mantissa its three most
// significant bytes (lower bytes are truncated, so the magnitude rounds
// down), and when that mantissa would have bit 23 set it is shifted right a
// byte and the exponent raised, so that bit 23 only ever means "negative".
// Zero encodes as 0. Magnitudes above the largest compact number
// (0x7fffff * 256^252, far beyond any 256-bit target) saturate to it.
//
// A compact value c is canonical exactly when BigToCompact(CompactToBig(c))
// == c; every value BigToCompact returns is canonical.
func BigToCompact(n *big.Int) uint32 {
	if n.Sign() == 0 {
		return 0
	}
	abs := new(big.Int).Abs(n)
	size := uint((abs.BitLen() + 7) / 8)
	var mantissa uint32
	if size <= 3 {
		mantissa = uint32(abs.Uint64()) << (8 * (3 - size))
	} else {
		mantissa = uint32(abs.Rsh(abs, 8*(size-3)).Uint64())
	}
	if mantissa&compactSignBit != 0 {
		mantissa >>= 8
		size++
	}
	compact := uint32(size)<<24 | mantissa
	if size > 0xff {
		compact = compactMax
	}
	if n.Sign() < 0 {
		compact |= compactSignBit
	}
	return compact
}

// targetStatus classifies compact bits as a target.
type targetStatus uint8

const (
	targetOK targetStatus = iota
	targetNegative
	targetZero
	targetOverflow
)

// compactTo32 decodes bits into dst as a 256-bit big-endian number, without
// allocating, and reports whether the bits are a usable target. It agrees
// with CompactToBig: targetZero when that is 0 (a set sign bit on a zero
// mantissa is zero, not negative, as in Bitcoin), targetNegative when it is
// negative, targetOverflow when it needs more than 256 bits. dst is only
// meaningful for targetOK.
func compactTo32(bits uint32, dst *[32]byte) targetStatus {
	*dst = [32]byte{}
	mantissa := bits & compactMantissaMask
	exponent := int(bits >> 24)
	if exponent < 3 {
		mantissa >>= 8 * uint(3-exponent)
		exponent = 3
	}
	// Now the value is mantissa * 256^(exponent-3).
	if mantissa == 0 {
		return targetZero
	}
	if bits&compactSignBit != 0 {
		return targetNegative
	}
	// Byte i of the mantissa (0 = least significant) has weight
	// 256^(exponent-3+i), so it lands at big-endian index 31-(exponent-3+i).
	// A non-zero byte that would land before index 0 is a bit above 2^256.
	for i := 0; i < 3; i++ {
		b := byte(mantissa >> (8 * uint(i)))
		pos := 31 - (exponent - 3 + i)
		if pos < 0 {
			if b != 0 {
				return targetOverflow
			}
			continue
		}
		dst[pos] = b
	}
	return targetOK
}

// badTargetError describes why bits are not a valid target.
func badTargetError(bits uint32, status targetStatus) *RuleError {
	switch status {
	case targetNegative:
		return ruleError(ErrBadTarget, "bits %08x decode to a negative target", bits)
	case targetZero:
		return ruleError(ErrBadTarget, "bits %08x decode to a zero target", bits)
	default:
		return ruleError(ErrBadTarget, "bits %08x decode to a target wider than 256 bits", bits)
	}
}

// aboveLimit reports whether the 256-bit big-endian target exceeds powLimit.
// It does not allocate. A negative limit is exceeded by every target and a
// limit wider than 256 bits by none, as big.Int comparison would have it.
func aboveLimit(target *[32]byte, powLimit *big.Int) bool {
	if powLimit.Sign() < 0 {
		return true
	}
	if powLimit.BitLen() > 256 {
		return false
	}
	var limit [32]byte
	powLimit.FillBytes(limit[:])
	return bytes.Compare(target[:], limit[:]) > 0
}

// DecodeTarget decodes bits as a proof-of-work target and checks it: it
// must be positive, fit in 256 bits and not exceed powLimit (which must not
// be nil). Otherwise the error is a *RuleError of kind ErrBadTarget.
// Non-canonical encodings of a valid target are accepted, as in Bitcoin;
// the difficulty rule (NextRequiredBits always returns canonical bits) is
// what pins a header's bits to one encoding.
func DecodeTarget(bits uint32, powLimit *big.Int) (*big.Int, error) {
	var target [32]byte
	if status := compactTo32(bits, &target); status != targetOK {
		return nil, badTargetError(bits, status)
	}
	if aboveLimit(&target, powLimit) {
		return nil, ruleError(ErrBadTarget, "bits %08x decode to target %s, above the limit %064x",
			bits, hex.EncodeToString(target[:]), powLimit)
	}
	return new(big.Int).SetBytes(target[:]), nil
}

// CalcWork is the expected number of hashes needed to meet the target bits
// encode: 2^256 / (target+1), the chance of one hash meeting the target
// being (target+1)/2^256. Chain selection sums it. Bits that are not a valid
// target (negative, zero or wider than 256 bits) have work 0; the limit is
// not checked here because every block counted has already passed
// DecodeTarget or CheckProofOfWork.
func CalcWork(bits uint32) *big.Int {
	var t [32]byte
	if compactTo32(bits, &t) != targetOK {
		return new(big.Int)
	}
	d := new(big.Int).SetBytes(t[:])
	d.Add(d, big.NewInt(1))
	return d.Quo(powTwo256, d)
}

// CheckProofOfWork checks that bits encode a valid target no easier than
// powLimit (else ErrBadTarget) and that hash, read as a 256-bit big-endian
// unsigned integer (byte 0 most significant, so a hash with enough work
// shows leading zeros in hex), is at most that target (else ErrHighHash).
//
// It runs for every header received, before anything else is known of it,
// so it works on fixed 32-byte arrays and allocates nothing unless it fails.
func CheckProofOfWork(hash types.Hash, bits uint32, powLimit *big.Int) error {
	var target [32]byte
	if status := compactTo32(bits, &target); status != targetOK {
		return badTargetError(bits, status)
	}
	if aboveLimit(&target, powLimit) {
		return ruleError(ErrBadTarget, "bits %08x decode to target %s, above the limit %064x",
			bits, hex.EncodeToString(target[:]), powLimit)
	}
	if bytes.Compare(hash[:], target[:]) > 0 {
		return ruleError(ErrHighHash, "hash %s is above the target %s of bits %08x",
			hash, hex.EncodeToString(target[:]), bits)
	}
	return nil
}
