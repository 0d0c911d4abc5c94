package consensus

import (
	"fmt"
	"math/big"
)

// Difficulty follows ASERT, an absolutely scheduled exponentially weighted
// target: the target is the genesis target times 2^(Δ/ASERTHalfLife), where
// Δ is how many seconds the parent block is behind (positive) or ahead of
// (negative) the ideal schedule of one block every TargetSpacing seconds
// since genesis. Because it measures against a fixed schedule rather than
// recent solve times, errors do not accumulate and no window of timestamps
// can be gamed: only the parent's own timestamp matters.
//
// The arithmetic is that of Bitcoin Cash's aserti3-2d and Decred's DCP0011
// (dcrd blockchain/standalone CalcASERTDiff): a 16-bit fixed-point exponent
// and a cubic approximation of 2^x on [0, 1), so that every implementation
// computes the same bits without floating point.

// Fixed-point parameters of the exponent and of the 2^x approximation
//
//	2^f ≈ 1 + 0.695502049712533 f + 0.2262697964 f² + 0.0782318 f³,  0 ≤ f < 1
//
// whose error is under 0.013%. With f held as an integer in [0, 2^16) the
// coefficients are scaled by 2^48, 2^32 and 2^16 so that every term is in
// 16.48 fixed point; 2^47 rounds the final shift by 48 to nearest.
const (
	asertRadixBits        = 16
	asertPolyC1    uint64 = 195766423245049 // ceil(0.695502049712533 * 2^48)
	asertPolyC2    uint64 = 971821376       // ceil(0.2262697964 * 2^32)
	asertPolyC3    uint64 = 5127            // ceil(0.0782318 * 2^16)
	asertPolyRound uint64 = 1 << 47
)

// Exponent bounds (in whole doublings) beyond which the result is known
// without computing it; see asertExponent. They keep shifts small whatever
// the inputs, without changing any result.
const (
	// asertMaxShifts: from 256 doublings up the target is at least
	// 1 * 2^16 * 2^(256-16) = 2^256, above any 256-bit PowLimit.
	asertMaxShifts = 256
	// asertMinShifts: from 257 halvings down the target is
	// floor(T0 * factor / 2^(257+16)) with T0 * factor < 2^256 * 2^17,
	// which is 0 and clamps to 1.
	asertMinShifts = -257
)

var (
	asertMaxExponent = big.NewInt(asertMaxShifts << asertRadixBits)
	asertMinExponent = big.NewInt((asertMinShifts + 1) << asertRadixBits)
)

// NextRequiredBits returns the compact target the child of the block at
// (parentHeight, parentTime) must carry. anchorTime is the timestamp of
// block 1 on the parent's chain (unused when the parent is genesis).
//
// Block 1 carries GenesisBits and anchors the schedule for every later
// block, rather than genesis itself: a network starts when its first block
// is mined, which may be months after the timestamp written in its genesis
// file. Anchored at genesis, such a chain would start far behind schedule
// and ASERT would drop the target to PowLimit for as many blocks as the
// schedule is behind.
func NextRequiredBits(p *Params, anchorTime uint64, parentHeight uint32, parentTime uint64) uint32 {
	if parentHeight == 0 {
		return p.GenesisBits
	}
	return ASERTBits(p, anchorTime, parentHeight-1, parentTime)
}

// ASERTBits returns the compact target after a parent that is
// blocksSinceAnchor blocks after the anchor block (time anchorTime, target
// T0 = CompactToBig(GenesisBits)), with timestamp parentTime:
//
//	Δ      = (parentTime - anchorTime) - TargetSpacing * blocksSinceAnchor   (signed, exact)
//	x      = trunc(Δ * 2^16 / ASERTHalfLife)     division truncated toward zero
//	n      = floor(x / 2^16)                     arithmetic shift x >> 16
//	f      = x - n * 2^16                        in [0, 2^16)
//	factor = 2^16 + (C1 f + C2 f² + C3 f³ + 2^47) >> 48
//	T      = floor(T0 * factor * 2^n / 2^16)     one shift by n-16
//	bits   = BigToCompact(min(max(T, 1), PowLimit))
//
// The rounding is that of aserti3-2d (C++ '/' truncates, '>>' floors) and
// of dcrd (big.Int Quo, then Rsh). So a chain exactly on schedule (Δ = 0)
// keeps GenesisBits, a parent one half-life behind schedule gives exactly
// twice T0 and one half-life ahead exactly T0/2 rounded down. Unlike
// aserti3-2d, which anchors on the timestamp of the anchor block's parent and
// therefore schedules TargetSpacing*(heightDiff+1), the anchor here is the
// anchor block's own timestamp, as in DCP0011: a parent h blocks after the
// anchor is on schedule at anchorTime + h*TargetSpacing.
//
// Times before anchorTime are allowed (Δ is computed as a signed value, not
// in uint64), and no input overflows: Δ is computed exactly with big.Int,
// and exponents of 256 or more doublings (the limit whatever the anchor) or
// of 257 or more halvings (1 whatever the anchor) are answered without
// shifting, which changes no result.
//
// p must be valid as package genesis builds it: GenesisBits a target in
// [1, PowLimit], PowLimit at most 256 bits, ASERTHalfLife non-zero. It
// panics otherwise, since no answer would be meaningful.
func ASERTBits(p *Params, anchorTime uint64, blocksSinceAnchor uint32, parentTime uint64) uint32 {
	anchor := CompactToBig(p.GenesisBits)
	if p.PowLimit == nil || p.PowLimit.Sign() <= 0 || p.PowLimit.BitLen() > 256 {
		panic(fmt.Sprintf("consensus: invalid params: PowLimit %v is not a positive 256-bit number", p.PowLimit))
	}
	if anchor.Sign() <= 0 || anchor.Cmp(p.PowLimit) > 0 {
		panic(fmt.Sprintf("consensus: invalid params: GenesisBits %08x not in [1, PowLimit]", p.GenesisBits))
	}
	if p.ASERTHalfLife == 0 {
		panic("consensus: invalid params: ASERTHalfLife is zero")
	}

	x, saturated := asertExponent(p, anchorTime, blocksSinceAnchor, parentTime)
	switch {
	case saturated > 0:
		return BigToCompact(p.PowLimit)
	case saturated < 0:
		return BigToCompact(big.NewInt(1))
	}

	shifts := x >> asertRadixBits               // floor: Go's >> on signed ints is arithmetic
	frac := uint64(x & (1<<asertRadixBits - 1)) // x - shifts*2^16, in [0, 2^16)

	target := anchor.Mul(anchor, new(big.Int).SetUint64(asertFactor(frac)))
	// 2^shifts / 2^16 as one shift; flooring once equals the reference's
	// shift-then-divide, as both round the same exact quotient down.
	if s := shifts - asertRadixBits; s >= 0 {
		target.Lsh(target, uint(s))
	} else {
		target.Rsh(target, uint(-s))
	}

	if target.Sign() == 0 {
		// 0 is not a target (only the zero hash could meet it); 1 is the
		// hardest there is.
		target.SetInt64(1)
	} else if target.Cmp(p.PowLimit) > 0 {
		target.Set(p.PowLimit)
	}
	return BigToCompact(target)
}

// asertExponent returns the 16.16 fixed-point exponent
// x = trunc(Δ * 2^16 / ASERTHalfLife) of ASERTBits. Δ can need up to
// 97 bits (uint64 times against TargetSpacing * height up to 2^96), so it
// is computed in big.Int rather than clamped: that keeps every result exact
// for every uint32 height and uint64 time, not just realistic ones.
//
// saturated is +1 when x >= 256 * 2^16, which always yields PowLimit, and
// -1 when x < -256 * 2^16 (so floor(x / 2^16) <= -257), which always
// yields 1; x is only meaningful when saturated is 0, and then fits easily
// in an int64. Answering those cases early is what keeps the shifts in
// ASERTBits bounded; see asertMaxShifts and asertMinShifts.
func asertExponent(p *Params, anchorTime uint64, blocksSinceAnchor uint32, parentTime uint64) (x int64, saturated int) {
	var delta, t big.Int
	delta.SetUint64(parentTime)
	delta.Sub(&delta, t.SetUint64(anchorTime))
	t.SetUint64(p.TargetSpacing)
	delta.Sub(&delta, t.Mul(&t, new(big.Int).SetUint64(uint64(blocksSinceAnchor))))
	delta.Lsh(&delta, asertRadixBits)
	// Quo truncates toward zero, as C++ integer division in aserti3-2d and
	// dcrd's Quo; Div (Euclidean) would differ for negative Δ.
	delta.Quo(&delta, t.SetUint64(p.ASERTHalfLife))

	switch {
	case delta.Cmp(asertMaxExponent) >= 0:
		return 0, 1
	case delta.Cmp(asertMinExponent) < 0:
		return 0, -1
	}
	return delta.Int64(), 0
}

// asertFactor returns 2^16 * 2^(frac/2^16), approximated by the aserti3-2d
// cubic, for frac in [0, 2^16). It lies in [2^16, 2^17). Every intermediate
// fits in a uint64: at frac = 2^16-1 the sum is 18446563080438344768, under
// 2^64 by about 1.8e14 (a signed int64 would overflow; it must stay uint64).
func asertFactor(frac uint64) uint64 {
	poly := asertPolyC1*frac + asertPolyC2*frac*frac + asertPolyC3*frac*frac*frac + asertPolyRound
	return 1<<asertRadixBits + poly>>48
}
