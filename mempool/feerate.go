package mempool

import (
	"fmt"
	"math/bits"

	"github.com/ledger-node/ledger/chain/types"
)

// FeeRate is a fee per byte of encoded transaction, kept as the exact
// fraction Fee/Size so that ordering never depends on rounding. The zero
// value (Size 0) is treated as a rate of zero.
type FeeRate struct {
	Fee  types.Amount
	Size uint64
}

// RatePerByte returns the rate of a whole number of base units per byte.
func RatePerByte(units types.Amount) FeeRate { return FeeRate{Fee: units, Size: 1} }

// Cmp compares r with o: -1 if r is lower, 0 if equal, +1 if higher. It
// cross-multiplies in 128 bits, so any fee and size compare exactly.
func (r FeeRate) Cmp(o FeeRate) int {
	if r.Size == 0 || o.Size == 0 {
		a, b := r.Size != 0 && r.Fee != 0, o.Size != 0 && o.Fee != 0
		switch {
		case a == b:
			return 0
		case a:
			return 1
		default:
			return -1
		}
	}
	h1, l1 := bits.Mul64(uint64(r.Fee), o.Size)
	h2, l2 := bits.Mul64(uint64(o.Fee), r.Size)
	switch {
	case h1 < h2 || (h1 == h2 && l1 < l2):
		return -1
	case h1 == h2 && l1 == l2:
		return 0
	default:
		return 1
	}
}

// PerByte returns the rate as a float, for display and estimation only.
func (r FeeRate) PerByte() float64 {
	if r.Size == 0 {
		return 0
	}
	return float64(r.Fee) / float64(r.Size)
}

// String renders the rate in base units per byte.
func (r FeeRate) String() string { return fmt.Sprintf("%.3f/B", r.PerByte()) }

// bumpOK reports whether newFee is at least pct percent above oldFee,
// computed exactly in 128 bits: newFee*100 >= oldFee*(100+pct).
func bumpOK(oldFee, newFee types.Amount, pct uint64) bool {
	h1, l1 := bits.Mul64(uint64(newFee), 100)
	h2, l2 := bits.Mul64(uint64(oldFee), 100+pct)
	return h1 > h2 || (h1 == h2 && l1 >= l2)
}

// paysRelay reports whether newFee is at least oldFee plus rate per byte
// for size bytes, computed exactly in 128 bits.
func paysRelay(oldFee, newFee, rate types.Amount, size int) bool {
	hi, lo := bits.Mul64(uint64(rate), uint64(size))
	lo, carry := bits.Add64(lo, uint64(oldFee), 0)
	return hi+carry == 0 && uint64(newFee) >= lo
}
