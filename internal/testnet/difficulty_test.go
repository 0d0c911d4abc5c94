package testnet

import (
	"math"
	"math/big"
	"testing"

	"github.com/ledger-node/ledger/consensus"
)

func TestInitialBits(t *testing.T) {
	tests := []struct {
		name           string
		rate           float64
		miners, cores  int
		spacing        uint64
		hashes         float64 // expected hashes per block; 0: the easiest target
		limitIsMaximum bool
	}{
		{"one thread, 5 s", 6.9e6, 1, 4, 5, 6.9e6 * 5, false},
		{"three miners on two cores", 3e6, 3, 2, 1, 6e6, false},
		{"three miners on eight cores", 3e6, 3, 8, 1, 9e6, false},
		{"no miners: sized for one thread", 2e6, 0, 8, 10, 2e7, false},
		{"32 miners, an hour", 1e7, 32, 64, 3600, 1e7 * 32 * 3600, false},
		{"slow machine, near the easiest", 300, 1, 1, 1, 300, true},
		{"below two hashes", 1, 1, 1, 1, 0, true},
		{"not a number", math.NaN(), 1, 1, 1, 0, true},
		{"infinite", math.Inf(1), 1, 1, 1, math.Ldexp(1, 255), false},
	}
	maxTarget := consensus.CompactToBig(maxTargetBits)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			bits, limit := InitialBits(tc.rate, tc.miners, tc.cores, tc.spacing)
			for _, b := range []uint32{bits, limit} {
				if consensus.BigToCompact(consensus.CompactToBig(b)) != b {
					t.Fatalf("bits %08x not canonical", b)
				}
			}
			target, lim := consensus.CompactToBig(bits), consensus.CompactToBig(limit)
			if target.Cmp(lim) > 0 || lim.Cmp(maxTarget) > 0 || target.Sign() <= 0 {
				t.Fatalf("target %x, limit %x: want 0 < target <= limit <= %x", target, lim, maxTarget)
			}
			if tc.hashes == 0 {
				if bits != maxTargetBits {
					t.Fatalf("bits %08x, want the easiest %08x", bits, uint32(maxTargetBits))
				}
			} else {
				work, _ := new(big.Float).SetInt(consensus.CalcWork(bits)).Float64()
				// Compact bits keep 15 to 23 bits of the target and round
				// it down, so the work is at most 2^-15 above the aim.
				if rel := (work - tc.hashes) / tc.hashes; rel < -1e-9 || rel > 1.0/(1<<15) {
					t.Fatalf("bits %08x mean %.6g hashes a block, want %.6g (relative error %.3g)", bits, work, tc.hashes, rel)
				}
			}
			if tc.limitIsMaximum {
				if limit != maxTargetBits {
					t.Fatalf("limit %08x, want %08x", limit, uint32(maxTargetBits))
				}
			} else if want := new(big.Int).Lsh(target, limitHeadroom); lim.Cmp(want) != 0 {
				t.Fatalf("limit %x, want 2^%d times the target %x", lim, limitHeadroom, target)
			}
		})
	}
}

// TestInitialBitsMonotonic: more hash power never means an easier target.
func TestInitialBitsMonotonic(t *testing.T) {
	prev, _ := InitialBits(1, 1, 1, 1)
	for rate := 2.0; rate < 1e12; rate *= 1.7 {
		bits, _ := InitialBits(rate, 1, 1, 1)
		if consensus.CompactToBig(bits).Cmp(consensus.CompactToBig(prev)) > 0 {
			t.Fatalf("rate %g: target %08x easier than %08x at a lower rate", rate, bits, prev)
		}
		prev = bits
	}
}
