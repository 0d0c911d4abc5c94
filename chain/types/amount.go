package types

import (
	"math"
	"strconv"
	"strings"
)

// Amount is a quantity of coins in base units.
type Amount uint64

// CoinDecimals is the number of decimals of one coin.
const CoinDecimals = 8

// Coin is one coin in base units.
const Coin Amount = 100_000_000

// MaxAmount is the largest amount any single field may hold. Sums are
// checked for overflow by consensus, not clamped.
const MaxAmount Amount = math.MaxUint64

// String renders the amount in coins with all eight decimals.
func (a Amount) String() string {
	whole, frac := uint64(a/Coin), uint64(a%Coin)
	f := strconv.FormatUint(frac, 10)
	return strconv.FormatUint(whole, 10) + "." + strings.Repeat("0", CoinDecimals-len(f)) + f
}

// ParseCoins reads a decimal number of coins ("1", "0.5", "12.00000001")
// into base units. Signs, exponents, more than eight decimals and values
// that overflow are refused.
func ParseCoins(s string) (Amount, error) {
	if s == "" || len(s) > 40 {
		return 0, errorf(ErrBadAmount, "amount %q is empty or too long", s)
	}
	whole, frac, hasDot := strings.Cut(s, ".")
	if whole == "" || (hasDot && frac == "") {
		return 0, errorf(ErrBadAmount, "amount %q is not a decimal number", s)
	}
	if len(frac) > CoinDecimals {
		return 0, errorf(ErrBadAmount, "amount %q has more than %d decimals", s, CoinDecimals)
	}
	for _, part := range []string{whole, frac} {
		for i := 0; i < len(part); i++ {
			if part[i] < '0' || part[i] > '9' {
				return 0, errorf(ErrBadAmount, "amount %q is not a decimal number", s)
			}
		}
	}
	w, err := strconv.ParseUint(whole, 10, 64)
	if err != nil || w > uint64(MaxAmount/Coin) {
		return 0, errorf(ErrBadAmount, "amount %q is too large", s)
	}
	var f uint64
	if frac != "" {
		f, _ = strconv.ParseUint(frac+strings.Repeat("0", CoinDecimals-len(frac)), 10, 64)
	}
	total := w*uint64(Coin) + f
	if total < w*uint64(Coin) {
		return 0, errorf(ErrBadAmount, "amount %q is too large", s)
	}
	return Amount(total), nil
}
