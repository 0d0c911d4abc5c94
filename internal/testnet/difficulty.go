package testnet

import (
	"math"
	"math/big"

	"github.com/ledger-node/ledger/consensus"
)

// maxTargetBits is the easiest target the compact form can say without
// its sign bit: 0x7fffff * 256^29, just under 2^255 (Bitcoin's regtest
// limit). A block then takes two hashes on average.
const maxTargetBits = 0x207fffff

// limitHeadroom is how many doublings easier than the initial target
// ASERT may go: 8, so the target can ease 256-fold when the miners fall
// behind (a slower machine than measured, nodes stopped for a while) yet a
// network that was stopped for days catches up at no more than about 256
// blocks per block time instead of as fast as blocks can be processed.
const limitHeadroom = 8

// InitialBits chooses a new network's genesis bits so that the expected
// time between blocks is spacing seconds: the expected hashes per block
// are rate (hashes per second of one mining thread) times the threads
// that really run in parallel, min(miners, cores), times spacing, and the
// target is 2^256/hashes - 1 (consensus.CalcWork's inverse). With no
// miners the network is sized for one thread (a node started later with
// --mine, or an external miner). The powLimit bits returned are 2^8 times
// the initial target, capped at maxTargetBits like the target itself.
// Both are canonical compact values.
func InitialBits(rate float64, miners, cores int, spacing uint64) (bits, powLimitBits uint32) {
	threads := max(min(miners, cores), 1)
	hashes := rate * float64(threads) * float64(spacing)
	maxTarget := consensus.CompactToBig(maxTargetBits)
	// Below two hashes a block (or a rate that is not a number) the
	// easiest target is as close as the compact form gets.
	if math.IsNaN(hashes) || hashes < 2 {
		return maxTargetBits, maxTargetBits
	}
	// 2^255 hashes is beyond any machine; capping keeps the conversion
	// to an integer exact in range.
	hashes = min(hashes, math.Ldexp(1, 255))
	h, _ := new(big.Float).SetFloat64(hashes).Int(nil)
	target := new(big.Int).Lsh(big.NewInt(1), 256)
	target.Quo(target, h)
	target.Sub(target, big.NewInt(1))
	if target.Cmp(maxTarget) > 0 {
		return maxTargetBits, maxTargetBits
	}
	bits = consensus.BigToCompact(target)
	limit := new(big.Int).Lsh(consensus.CompactToBig(bits), limitHeadroom)
	if limit.Cmp(maxTarget) > 0 {
		return bits, maxTargetBits
	}
	return bits, consensus.BigToCompact(limit)
}
