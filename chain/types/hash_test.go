package types

import (
	"crypto/sha256"
	"strings"
	"testing"
)

func sha256Sum(b []byte) [32]byte { return sha256.Sum256(b) }

func TestDoubleSHA256(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "5df6e0e2761359d30a8275058e299fcc0381534545f55cf43e41983f5d4c9456"},
		{"abc", "4f8b42c22dd3729b519ba6f68d2da7cc5b2d606d05daed5ad5128cc03e6c6358"},
	}
	for _, tt := range tests {
		if got := DoubleSHA256([]byte(tt.in)).String(); got != tt.want {
			t.Errorf("DoubleSHA256(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestHashStringParse(t *testing.T) {
	h := seqHash(0xf0)
	s := h.String()
	if s != "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff000102030405060708090a0b0c0d0e0f" {
		t.Errorf("String() = %s (want byte order, lowercase)", s)
	}
	got, err := ParseHash(s)
	if err != nil || got != h {
		t.Errorf("ParseHash(String()) = %x, %v", got, err)
	}
	// Upper case hex is read too; String always writes lower case.
	if got, err := ParseHash(strings.ToUpper(s)); err != nil || got != h {
		t.Errorf("ParseHash(upper) = %x, %v", got, err)
	}
	for _, bad := range []string{"", s[:63], s + "0", s[:62] + "zz", s[:63] + " ", "0x" + s[:62]} {
		_, err := ParseHash(bad)
		wantKind(t, err, ErrNonCanonical)
	}
	if !ZeroHash.IsZero() || h.IsZero() {
		t.Error("IsZero")
	}
	var one Hash
	one[31] = 1
	if one.IsZero() {
		t.Error("IsZero of a hash with only its last byte set")
	}
}
