package wallet

import (
	"errors"
	"strings"
	"testing"

	"github.com/ledger-node/ledger/chain/types"
)

func TestCoinType(t *testing.T) {
	seen := map[uint32]uint32{}
	for _, id := range []uint32{1, 2, 7, 42, 1000, 0xffffffff} {
		c := CoinType(id)
		if c < 1<<30 || c >= 1<<31 {
			t.Errorf("CoinType(%d) = %d out of [2^30, 2^31)", id, c)
		}
		if c != CoinType(id) {
			t.Error("not deterministic")
		}
		if prev, ok := seen[c]; ok {
			t.Errorf("chain ids %d and %d share coin type %d", prev, id, c)
		}
		seen[c] = id
	}
	p := AddressPath(7, 3)
	if got := FormatPath(p); !strings.HasPrefix(got, "m/44'/") || !strings.HasSuffix(got, "'/0'/0/3") {
		t.Errorf("AddressPath = %s", got)
	}
	// Different chain ids give different keys from the same seed.
	seed := testSeed(t)
	k1, _ := DeriveKey(seed, 1, 0)
	k2, _ := DeriveKey(seed, 2, 0)
	if AddressOf(k1) == AddressOf(k2) {
		t.Error("chain ids share keys")
	}
	_, err := DeriveKey(seed, 1, MaxAddressIndex+1)
	wantKind(t, err, ErrBadPath)
}

func TestParseAddress(t *testing.T) {
	net, g := testNetwork(t)
	a := g.Addrs[0]
	s := a.Bech32(net.Prefix)
	got, err := net.ParseAddress(s)
	if err != nil || got != a {
		t.Fatalf("ParseAddress(%s) = %x, %v", s, got, err)
	}
	if got, err := net.ParseAddress(strings.ToUpper(s)); err != nil || got != a {
		t.Errorf("upper case: %v", err)
	}
	// Every single-character typo in the data part is a checksum error.
	for i := len(net.Prefix) + 1; i < len(s); i++ {
		c := byte('q')
		if s[i] == 'q' {
			c = 'p'
		}
		_, err := net.ParseAddress(s[:i] + string(c) + s[i+1:])
		if !errors.Is(err, ErrAddressChecksum) || !strings.Contains(err.Error(), "checksum") {
			t.Fatalf("typo at %d: %v", i, err)
		}
		if !errors.Is(err, types.ErrBadAddress) {
			t.Errorf("cause not wrapped: %v", err)
		}
	}
	tests := []struct {
		in   string
		kind ErrorKind
		says []string
	}{
		{a.Bech32("lg"), ErrWrongNetwork, []string{`"lg"`, `"` + net.Prefix + `"`}},
		{a.Bech32("l"), ErrWrongNetwork, []string{`"l"`}},
		{strings.ToUpper(a.Bech32("tlg")), ErrWrongNetwork, []string{`"tlg"`}},
		{"", ErrBadAddress, []string{"malformed"}},
		{"ltest1", ErrBadAddress, nil},
		{s[:10] + "b" + s[11:], ErrBadAddress, []string{"invalid character"}},
		{strings.ToUpper(s[:8]) + s[8:], ErrBadAddress, []string{"mixes"}},
		{" " + s, ErrBadAddress, nil},
		{s[:len(s)-1], ErrAddressChecksum, nil},
	}
	for _, tt := range tests {
		_, err := net.ParseAddress(tt.in)
		if !errors.Is(err, tt.kind) {
			t.Errorf("ParseAddress(%q) = %v, want %s", tt.in, err, tt.kind)
			continue
		}
		for _, w := range tt.says {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("ParseAddress(%q): %q does not say %s", tt.in, err, w)
			}
		}
	}
}
