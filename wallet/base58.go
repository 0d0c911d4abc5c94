package wallet

import (
	"crypto/sha256"
	"math/big"
	"strings"
)

const base58Alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"

// base58MaxInput bounds what base58CheckDecode reads.
const base58MaxInput = 200

func base58CheckEncode(payload []byte) string {
	sum1 := sha256.Sum256(payload)
	sum2 := sha256.Sum256(sum1[:])
	b := append(append([]byte(nil), payload...), sum2[:4]...)
	n := new(big.Int).SetBytes(b)
	var out []byte
	mod, base := new(big.Int), big.NewInt(58)
	for n.Sign() > 0 {
		n.DivMod(n, base, mod)
		out = append(out, base58Alphabet[mod.Int64()])
	}
	for _, c := range b {
		if c != 0 {
			break
		}
		out = append(out, '1')
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return string(out)
}

func base58CheckDecode(s string) ([]byte, error) {
	if len(s) == 0 || len(s) > base58MaxInput {
		return nil, errorf(ErrBadExtendedKey, "base58 string of %d characters", len(s))
	}
	n, base := new(big.Int), big.NewInt(58)
	for i := 0; i < len(s); i++ {
		d := strings.IndexByte(base58Alphabet, s[i])
		if d < 0 {
			return nil, errorf(ErrBadExtendedKey, "invalid base58 character %q at position %d", s[i], i)
		}
		n.Mul(n, base)
		n.Add(n, big.NewInt(int64(d)))
	}
	zeros := 0
	for zeros < len(s) && s[zeros] == '1' {
		zeros++
	}
	b := append(make([]byte, zeros), n.Bytes()...)
	if len(b) < 4 {
		return nil, errorf(ErrBadExtendedKey, "base58 string too short for a checksum")
	}
	payload, check := b[:len(b)-4], b[len(b)-4:]
	sum1 := sha256.Sum256(payload)
	sum2 := sha256.Sum256(sum1[:])
	if string(sum2[:4]) != string(check) {
		return nil, errorf(ErrBadExtendedKey, "base58 checksum is wrong")
	}
	return payload, nil
}
