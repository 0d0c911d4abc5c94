package types

import (
	"math"
	"math/big"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
)

func TestParseCoins(t *testing.T) {
	tests := []struct {
		in   string
		want Amount
		ok   bool
	}{
		{"1", Coin, true},
		{"0", 0, true},
		{"0.0", 0, true},
		{"0.5", Coin / 2, true},
		{"12.00000001", 12*Coin + 1, true},
		{"0.00000001", 1, true},
		{"0.1", 10_000_000, true},
		{"21000000", 21_000_000 * Coin, true},
		{"184467440737.09551615", MaxAmount, true}, // the largest amount
		{"184467440737", 184467440737 * Coin, true},
		{"007", 7 * Coin, true}, // leading zeros are read
		{"1.50000000", Coin * 3 / 2, true},
		{"184467440737.09551616", 0, false}, // one above the largest
		{"184467440737.1", 0, false},
		{"184467440738", 0, false},
		{"99999999999999999999", 0, false}, // overflows uint64 itself
		{"1.000000001", 0, false},          // nine decimals
		{"0.000000000", 0, false},
		{"-1", 0, false},
		{"+1", 0, false},
		{"-0", 0, false},
		{"1e8", 0, false},
		{"1E8", 0, false},
		{".5", 0, false},
		{"5.", 0, false},
		{".", 0, false},
		{"", 0, false},
		{" 1", 0, false},
		{"1 ", 0, false},
		{"1\n", 0, false},
		{"0x10", 0, false},
		{"1,5", 0, false},
		{"1.5.5", 0, false},
		{"1_000", 0, false},
		{"١", 0, false}, // a non-ASCII digit
		{"NaN", 0, false},
		{"Inf", 0, false},
		{strings.Repeat("0", 40), 0, true},
		{strings.Repeat("0", 41), 0, false}, // longer than 40 characters
	}
	for _, tt := range tests {
		got, err := ParseCoins(tt.in)
		if !tt.ok {
			if got != 0 {
				t.Errorf("ParseCoins(%q) = %d with error", tt.in, got)
			}
			wantKind(t, err, ErrBadAmount)
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseCoins(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
}

func TestAmountString(t *testing.T) {
	tests := []struct {
		a    Amount
		want string
	}{
		{0, "0.00000000"},
		{1, "0.00000001"},
		{Coin / 2, "0.50000000"},
		{Coin, "1.00000000"},
		{12*Coin + 1, "12.00000001"},
		{Coin - 1, "0.99999999"},
		{10 * Coin, "10.00000000"},
		{MaxAmount, "184467440737.09551615"},
	}
	for _, tt := range tests {
		if got := tt.a.String(); got != tt.want {
			t.Errorf("Amount(%d).String() = %q, want %q", uint64(tt.a), got, tt.want)
		}
		if back, err := ParseCoins(tt.want); err != nil || back != tt.a {
			t.Errorf("ParseCoins(%q) = %d, %v", tt.want, back, err)
		}
	}
	rng := rand.New(rand.NewPCG(11, 12))
	for range 1000 {
		a := Amount(rng.Uint64())
		if rng.IntN(2) == 0 {
			a %= 1000 * Coin
		}
		if back, err := ParseCoins(a.String()); err != nil || back != a {
			t.Fatalf("ParseCoins(%q) = %d, %v; want %d", a.String(), back, err, uint64(a))
		}
	}
	if Coin != 100_000_000 || CoinDecimals != 8 || MaxAmount != math.MaxUint64 {
		t.Error("coin constants changed")
	}
}

// coinsSpec is ParseCoins written out independently: at most 40
// characters, ASCII digits with an optional point and one to eight
// decimals, and a value that fits in an Amount.
var coinsSyntax = regexp.MustCompile(`^[0-9]+(\.[0-9]{1,8})?$`)

func coinsSpec(s string) (Amount, bool) {
	if len(s) > 40 || !coinsSyntax.MatchString(s) {
		return 0, false
	}
	whole, frac, _ := strings.Cut(s, ".")
	frac += strings.Repeat("0", CoinDecimals-len(frac))
	v, _ := new(big.Int).SetString(whole+frac, 10)
	if !v.IsUint64() {
		return 0, false
	}
	return Amount(v.Uint64()), true
}

func TestParseCoinsMatchesSpec(t *testing.T) {
	for _, s := range []string{
		"1", "0.5", "184467440737.09551615", "184467440737.09551616", "1.000000001", "00000000000000000000000000000000000001.5",
		"000000000000000000000000000000000000001.5", "18446744073709551615", "0000184467440737.09551615",
	} {
		want, wantOK := coinsSpec(s)
		got, err := ParseCoins(s)
		if (err == nil) != wantOK || got != want {
			t.Errorf("ParseCoins(%q) = %d, %v; spec says %d, %v", s, got, err, want, wantOK)
		}
	}
}
