package types

import (
	"bytes"
	"encoding/hex"
	"strings"
	"testing"
)

// BIP 173 test vectors: valid bech32 strings, with the hrp and (where the
// BIP's reference tests give it) the data regrouped into bytes.
var bip173Valid = []struct {
	s, hrp, data string // data: hex of the 5-bit groups regrouped into bytes, "-" if not whole bytes
}{
	{"A12UEL5L", "a", ""},
	{"a12uel5l", "a", ""},
	{"an83characterlonghumanreadablepartthatcontainsthenumber1andtheexcludedcharactersbio1tt5tgs",
		"an83characterlonghumanreadablepartthatcontainsthenumber1andtheexcludedcharactersbio", ""},
	{"abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw", "abcdef", "00443214c74254b635cf84653a56d7c675be77df"},
	{"11qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqc8247j", "1", "-"},
	{"split1checkupstagehandshakeupstreamerranterredcaperred2y9e3w", "split",
		"c5f38b70305f519bf66d85fb6cf03058f3dde463ecd7918f2dc743918f2d"},
	{"?1ezyfcl", "?", ""},
}

// BIP 173 invalid strings, with a word the error must contain so that each
// is refused for its own reason.
var bip173Invalid = []struct {
	s, reason, why string
}{
	{"\x201nwldj5", "invalid character", "hrp character out of range (0x20)"},
	{"\x7f1axkwrx", "invalid character", "hrp character out of range (0x7f)"},
	{"\x801eym55h", "invalid character", "hrp character out of range (0x80)"},
	{"an84characterslonghumanreadablepartthatcontainsthenumber1andtheexcludedcharactersbio1569pvx", "at most 90", "overall max length exceeded"},
	{"pzry9x0s0muk", "no separator", "no separator character"},
	{"1pzry9x0s0muk", "no separator", "empty hrp"},
	{"x1b4n0q5v", "invalid character 'b'", "invalid data character"},
	{"li1dgmt3", "too short", "too short checksum"},
	{"de1lg7wt\xff", "invalid character", "invalid character in checksum"},
	{"A1G7SGD8", "checksum", "checksum calculated with uppercase form of hrp"},
	{"10a06t8", "no separator", "empty hrp"},
	{"1qzzfhee", "no separator", "empty hrp"},
	// Not in the BIP's list, but required by it.
	{"A12uEL5L", "mixes", "mixed case"},
	{"a12UEL5L", "mixes", "mixed case"},
	{"A12UEL5M", "checksum", "corrupted last character"},
	{"a1qqqqq", "too short", "five checksum characters"},
	{"", "no separator", "empty string"},
	{"a12uel5l\x00", "invalid character", "NUL"},
	// BIP 350 (bech32m) strings: valid bech32m, so invalid bech32 (the
	// checksum constant is 1, not 0x2bc830a3).
	{"A1LQFN3A", "checksum", "bech32m"},
	{"a1lqfn3a", "checksum", "bech32m"},
	{"abcdef1l7aum6echk45nj3s0wdvt2fg8x9yrzpqzd3ryx", "checksum", "bech32m"},
	{"?1v759aa", "checksum", "bech32m"},
}

func TestBech32BIP173Valid(t *testing.T) {
	for _, tt := range bip173Valid {
		hrp, data, err := bech32Decode(tt.s)
		if err != nil {
			t.Errorf("%q: %v", tt.s, err)
			continue
		}
		if hrp != tt.hrp {
			t.Errorf("%q: hrp %q, want %q", tt.s, hrp, tt.hrp)
		}
		for _, d := range data {
			if d > 31 {
				t.Errorf("%q: data value %d", tt.s, d)
			}
		}
		if got := bech32Encode(hrp, data); got != strings.ToLower(tt.s) {
			t.Errorf("re-encoded %q as %q", tt.s, got)
		}
		if tt.data != "-" {
			raw, ok := convertBits(data, 5, 8, false)
			if !ok || hex.EncodeToString(raw) != tt.data {
				t.Errorf("%q: data %x (ok %v), want %s", tt.s, raw, ok, tt.data)
			}
		}
	}
}

func TestBech32BIP173Invalid(t *testing.T) {
	for _, tt := range bip173Invalid {
		t.Run(tt.why, func(t *testing.T) {
			hrp, data, err := bech32Decode(tt.s)
			if hrp != "" || data != nil {
				t.Errorf("%q: returned %q, %v with error", tt.s, hrp, data)
			}
			wantKind(t, err, ErrBadAddress)
			if !strings.Contains(err.Error(), tt.reason) {
				t.Errorf("%q: error %q does not say %q", tt.s, err, tt.reason)
			}
		})
	}
}

// TestBech32Checksum checks the encoder against the BIP's vectors and that
// every single-character substitution and every adjacent swap is caught.
func TestBech32Checksum(t *testing.T) {
	s := "abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw"
	data := make([]byte, 32)
	for i := range data {
		data[i] = byte(i)
	}
	if got := bech32Encode("abcdef", data); got != s {
		t.Fatalf("bech32Encode = %s, want %s", got, s)
	}
	if got := bech32Encode("a", nil); got != "a12uel5l" {
		t.Fatalf("bech32Encode(a, nil) = %s", got)
	}
	sep := strings.LastIndexByte(s, '1')
	for i := sep + 1; i < len(s); i++ {
		for _, c := range []byte(bech32Charset) {
			if c == s[i] {
				continue
			}
			bad := s[:i] + string(c) + s[i+1:]
			_, _, err := bech32Decode(bad)
			if kindOf(err) != ErrBadAddress || !strings.Contains(err.Error(), "checksum") {
				t.Fatalf("%q: %v, want a checksum error", bad, err)
			}
		}
		if i+1 < len(s) && s[i] != s[i+1] {
			b := []byte(s)
			b[i], b[i+1] = b[i+1], b[i]
			if _, _, err := bech32Decode(string(b)); kindOf(err) != ErrBadAddress {
				t.Fatalf("swap at %d: %v", i, err)
			}
		}
	}
	// The hrp is covered by the checksum.
	if _, _, err := bech32Decode("abcdeg" + s[6:]); err == nil || !strings.Contains(err.Error(), "checksum") {
		t.Errorf("changed hrp: %v", err)
	}
}

func TestConvertBits(t *testing.T) {
	tests := []struct {
		in       []byte
		from, to uint
		pad      bool
		want     []byte
		ok       bool
	}{
		{[]byte{0xff}, 8, 5, true, []byte{31, 28}, true},
		{[]byte{0xff}, 8, 5, false, nil, false},
		{[]byte("foobar"), 8, 5, true, []byte{12, 25, 23, 22, 30, 24, 19, 1, 14, 8}, true},
		{[]byte{0, 0}, 5, 8, false, []byte{0}, true},
		{[]byte{31, 31}, 5, 8, false, nil, false},  // non-zero padding
		{[]byte{0, 0, 0}, 5, 8, false, nil, false}, // a whole 5-bit group of padding
		{[]byte{1}, 5, 8, false, nil, false},
		{[]byte{32}, 5, 8, false, nil, false}, // not a 5-bit value
		{[]byte{32}, 5, 8, true, nil, false},
		{nil, 8, 5, true, []byte{}, true},
		{nil, 5, 8, false, []byte{}, true},
	}
	for _, tt := range tests {
		got, ok := convertBits(tt.in, tt.from, tt.to, tt.pad)
		if ok != tt.ok || (ok && !bytes.Equal(got, tt.want)) {
			t.Errorf("convertBits(%v, %d, %d, %v) = %v, %v; want %v, %v", tt.in, tt.from, tt.to, tt.pad, got, ok, tt.want, tt.ok)
		}
	}
	// 8 -> 5 -> 8 is the identity for every length.
	for n := 0; n < 64; n++ {
		in := seqBytes(byte(n*7), n)
		five, ok := convertBits(in, 8, 5, true)
		if !ok || len(five) != (8*n+4)/5 {
			t.Fatalf("%d bytes: %d groups, ok %v", n, len(five), ok)
		}
		back, ok := convertBits(five, 5, 8, false)
		if !ok || !bytes.Equal(back, in) {
			t.Fatalf("%d bytes: round trip %x, ok %v", n, back, ok)
		}
	}
}
