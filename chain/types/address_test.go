package types

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
)

func TestAddressBIP173Payload(t *testing.T) {
	// The BIP 173 vector whose data is the 32 characters in order is a
	// 20-byte payload: an address.
	var a Address
	copy(a[:], mustHex(t, "00443214c74254b635cf84653a56d7c675be77df"))
	const s = "abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw"
	if got := a.Bech32("abcdef"); got != s {
		t.Errorf("Bech32 = %s, want %s", got, s)
	}
	got, err := ParseAddress(s, "abcdef")
	if err != nil || got != a {
		t.Errorf("ParseAddress = %x, %v", got, err)
	}
	// All upper case is the same address (BIP 173 allows it for QR codes).
	got, err = ParseAddress(strings.ToUpper(s), "abcdef")
	if err != nil || got != a {
		t.Errorf("ParseAddress(upper) = %x, %v", got, err)
	}
	if a.String() != "00443214c74254b635cf84653a56d7c675be77df" {
		t.Errorf("String() = %s", a.String())
	}
}

func TestAddressFromPubKey(t *testing.T) {
	// Key 1's public key is the generator G.
	var g [PubKeySize]byte
	copy(g[:], mustHex(t, "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"))
	sum := sha256.Sum256(g[:])
	a := AddressFromPubKey(&g)
	if hex.EncodeToString(a[:]) != hex.EncodeToString(sum[:AddressSize]) {
		t.Errorf("AddressFromPubKey(G) = %x, want %x", a, sum[:AddressSize])
	}
	if testAddr(1) != a {
		t.Errorf("testAddr(1) = %x", testAddr(1))
	}
	if testAddr(1) == testAddr(2) {
		t.Error("two keys, one address")
	}
}

func TestAddressRoundTrip(t *testing.T) {
	hrps := []string{"lg", "tlg", "a", "0", "abcdefghijklmnopqrst", "lg2"}
	addrs := []Address{{}, testAddr(1), testAddr(2), testAddr(3), addrFromBytes(seqBytes(0xf0, AddressSize))}
	var ff Address
	for i := range ff {
		ff[i] = 0xff
	}
	addrs = append(addrs, ff)
	for _, hrp := range hrps {
		if !ValidHRP(hrp) {
			t.Fatalf("test hrp %q is not valid", hrp)
		}
		for _, a := range addrs {
			s := a.Bech32(hrp)
			if len(s) != len(hrp)+1+32+6 || s != strings.ToLower(s) || !strings.HasPrefix(s, hrp+"1") {
				t.Errorf("Bech32(%q) = %q", hrp, s)
			}
			got, err := ParseAddress(s, hrp)
			if err != nil || got != a {
				t.Errorf("ParseAddress(%q) = %x, %v; want %x", s, got, err, a)
			}
		}
	}
}

func TestParseAddressWrongNetwork(t *testing.T) {
	s := testAddr(1).Bech32("tlg")
	_, err := ParseAddress(s, "lg")
	wantKind(t, err, ErrBadAddress)
	if !strings.Contains(err.Error(), `"tlg"`) || !strings.Contains(err.Error(), `"lg"`) {
		t.Errorf("error %q does not name both networks", err)
	}
	// A prefix of the right prefix is another network too.
	_, err = ParseAddress(testAddr(1).Bech32("l"), "lg")
	wantKind(t, err, ErrBadAddress)
}

func TestParseAddressTypo(t *testing.T) {
	s := testAddr(2).Bech32("lg")
	for i := len("lg1"); i < len(s); i++ {
		for _, c := range []byte(bech32Charset) {
			if c == s[i] {
				continue
			}
			typo := s[:i] + string(c) + s[i+1:]
			_, err := ParseAddress(typo, "lg")
			if kindOf(err) != ErrBadAddress || !strings.Contains(err.Error(), "checksum") {
				t.Fatalf("%s: %v, want a checksum error", typo, err)
			}
		}
	}
	// A character outside the charset is named as such, not as a checksum
	// failure.
	typo := s[:10] + "b" + s[11:]
	_, err := ParseAddress(typo, "lg")
	wantKind(t, err, ErrBadAddress)
	if !strings.Contains(err.Error(), "invalid character") {
		t.Errorf("%s: %v", typo, err)
	}
}

func TestParseAddressPayloadLength(t *testing.T) {
	enc := func(n int) string {
		data, _ := convertBits(seqBytes(1, n), 8, 5, true)
		return bech32Encode("lg", data)
	}
	for _, n := range []int{0, 1, 19, 21, 32, 40} {
		_, err := ParseAddress(enc(n), "lg")
		wantKind(t, err, ErrBadAddress)
		if !strings.Contains(err.Error(), "payload") {
			t.Errorf("%d-byte payload: %v", n, err)
		}
	}
	if _, err := ParseAddress(enc(AddressSize), "lg"); err != nil {
		t.Errorf("20-byte payload: %v", err)
	}
	// 32 groups of 5 bits plus one more: 165 bits, not a whole number of
	// bytes.
	data := make([]byte, 33)
	_, err := ParseAddress(bech32Encode("lg", data), "lg")
	wantKind(t, err, ErrBadAddress)
	// 31 groups: 155 bits, 19 bytes and 3 padding bits.
	_, err = ParseAddress(bech32Encode("lg", data[:31]), "lg")
	wantKind(t, err, ErrBadAddress)
}

func TestParseAddressMalformed(t *testing.T) {
	good := testAddr(3).Bech32("lg")
	for _, s := range []string{
		"", "lg", "lg1", good[:len(good)-1], good + "q", " " + good, good + " ",
		strings.ToUpper(good[:5]) + good[5:], "lg" + good[3:], strings.Replace(good, "1", "", 1),
		strings.Repeat("l", 60) + good,
	} {
		_, err := ParseAddress(s, "lg")
		wantKind(t, err, ErrBadAddress)
	}
}

func TestValidHRP(t *testing.T) {
	tests := []struct {
		hrp  string
		want bool
	}{
		{"lg", true},
		{"a", true},
		{"0", true},
		{"tlg2", true},
		{"abcdefghijklmnopqrst", true}, // 20
		{"abcdefghijklmnopqrstu", false},
		{"", false},
		{"LG", false},
		{"Lg", false},
		{"l-g", false},
		{"l g", false},
		{"l1g", true}, // a digit 1 is allowed: the separator is the last '1'
		{"lg?", false},
		{"é", false},
		{"lg\x00", false},
	}
	for _, tt := range tests {
		if got := ValidHRP(tt.hrp); got != tt.want {
			t.Errorf("ValidHRP(%q) = %v, want %v", tt.hrp, got, tt.want)
		}
	}
	// An hrp containing '1' still round trips.
	a := testAddr(1)
	if got, err := ParseAddress(a.Bech32("l1g"), "l1g"); err != nil || got != a {
		t.Errorf("hrp l1g: %x, %v", got, err)
	}
}
