package types

import "strings"

// This file implements the bech32 checksummed base32 format of BIP 173,
// which addresses use. It is a small, self-contained codec: the node needs
// only encoding and verified decoding of short strings.

const bech32Charset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"

// bech32MaxLength is the longest string BIP 173 allows.
const bech32MaxLength = 90

var bech32Generator = [5]uint32{0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3}

// bech32CharIndex maps an ASCII byte to its 5-bit value, or -1.
var bech32CharIndex = func() (t [256]int8) {
	for i := range t {
		t[i] = -1
	}
	for i := 0; i < len(bech32Charset); i++ {
		t[bech32Charset[i]] = int8(i)
	}
	return t
}()

func bech32Polymod(values []byte) uint32 {
	chk := uint32(1)
	for _, v := range values {
		top := chk >> 25
		chk = (chk&0x1ffffff)<<5 ^ uint32(v)
		for i := 0; i < 5; i++ {
			if (top>>uint(i))&1 == 1 {
				chk ^= bech32Generator[i]
			}
		}
	}
	return chk
}

func bech32HRPExpand(hrp string) []byte {
	out := make([]byte, 0, 2*len(hrp)+1)
	for i := 0; i < len(hrp); i++ {
		out = append(out, hrp[i]>>5)
	}
	out = append(out, 0)
	for i := 0; i < len(hrp); i++ {
		out = append(out, hrp[i]&31)
	}
	return out
}

func bech32Checksum(hrp string, data []byte) []byte {
	values := append(bech32HRPExpand(hrp), data...)
	values = append(values, 0, 0, 0, 0, 0, 0)
	mod := bech32Polymod(values) ^ 1
	out := make([]byte, 6)
	for i := range out {
		out[i] = byte(mod>>uint(5*(5-i))) & 31
	}
	return out
}

// bech32Encode renders hrp and 5-bit data as a lowercase bech32 string.
func bech32Encode(hrp string, data []byte) string {
	var sb strings.Builder
	sb.Grow(len(hrp) + 1 + len(data) + 6)
	sb.WriteString(hrp)
	sb.WriteByte('1')
	for _, d := range data {
		sb.WriteByte(bech32Charset[d])
	}
	for _, d := range bech32Checksum(hrp, data) {
		sb.WriteByte(bech32Charset[d])
	}
	return sb.String()
}

// bech32Decode splits a bech32 string into its lowercase human-readable part
// and 5-bit data, verifying the checksum. Mixed case is refused.
func bech32Decode(s string) (hrp string, data []byte, err error) {
	if len(s) > bech32MaxLength {
		return "", nil, errorf(ErrBadAddress, "bech32 string is %d characters, at most %d allowed", len(s), bech32MaxLength)
	}
	hasLower, hasUpper := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 33 || c > 126 {
			return "", nil, errorf(ErrBadAddress, "bech32 string has an invalid character at position %d", i)
		}
		hasLower = hasLower || (c >= 'a' && c <= 'z')
		hasUpper = hasUpper || (c >= 'A' && c <= 'Z')
	}
	if hasLower && hasUpper {
		return "", nil, errorf(ErrBadAddress, "bech32 string mixes upper and lower case")
	}
	s = strings.ToLower(s)
	sep := strings.LastIndexByte(s, '1')
	if sep < 1 || sep+7 > len(s) {
		return "", nil, errorf(ErrBadAddress, "bech32 string has no separator or is too short")
	}
	hrp = s[:sep]
	data = make([]byte, 0, len(s)-sep-1)
	for i := sep + 1; i < len(s); i++ {
		v := bech32CharIndex[s[i]]
		if v < 0 {
			return "", nil, errorf(ErrBadAddress, "bech32 string has an invalid character %q at position %d", s[i], i)
		}
		data = append(data, byte(v))
	}
	if bech32Polymod(append(bech32HRPExpand(hrp), data...)) != 1 {
		return "", nil, errorf(ErrBadAddress, "bech32 checksum is wrong (mistyped address?)")
	}
	return hrp, data[:len(data)-6], nil
}

// convertBits regroups a bit stream from groups of from bits into groups of
// to bits. With pad false, leftover bits must be fewer than from and zero.
func convertBits(in []byte, from, to uint, pad bool) ([]byte, bool) {
	var acc, bits uint
	maxv := uint(1)<<to - 1
	out := make([]byte, 0, len(in)*int(from)/int(to)+1)
	for _, v := range in {
		if uint(v)>>from != 0 {
			return nil, false
		}
		acc = acc<<from | uint(v)
		bits += from
		for bits >= to {
			bits -= to
			out = append(out, byte(acc>>bits&maxv))
		}
	}
	if pad {
		if bits > 0 {
			out = append(out, byte(acc<<(to-bits)&maxv))
		}
	} else if bits >= from || acc<<(to-bits)&maxv != 0 {
		return nil, false
	}
	return out, true
}
