package wallet

import (
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	_ "embed"
	"strings"

	"golang.org/x/text/unicode/norm"
)

// wordlistEnglish is the official BIP-39 English wordlist (bitcoin/bips
// bip-0039/english.txt, SHA-256 2f5eed53…24dbda), one word a line.
//
//go:embed wordlist_english.txt
var wordlistEnglish string

var (
	englishWords = strings.Split(strings.TrimSuffix(wordlistEnglish, "\n"), "\n")
	englishIndex = func() map[string]int {
		m := make(map[string]int, len(englishWords))
		for i, w := range englishWords {
			m[w] = i
		}
		return m
	}()
)

// MnemonicWords is the length of mnemonics this wallet creates: 24 words,
// 256 bits of entropy.
const MnemonicWords = 24

// SeedSize is the size of a BIP-39 seed.
const SeedSize = 64

// NewEntropy returns 32 bytes from crypto/rand: the entropy of a 24-word
// mnemonic.
func NewEntropy() ([]byte, error) {
	e := make([]byte, 32)
	if _, err := rand.Read(e); err != nil {
		return nil, err
	}
	return e, nil
}

// NewMnemonic returns a fresh 24-word English mnemonic from crypto/rand.
func NewMnemonic() (string, error) {
	e, err := NewEntropy()
	if err != nil {
		return "", err
	}
	return EntropyToMnemonic(e)
}

// EntropyToMnemonic encodes 16, 20, 24, 28 or 32 bytes of entropy as a
// BIP-39 English mnemonic of 12 to 24 words.
func EntropyToMnemonic(entropy []byte) (string, error) {
	n := len(entropy)
	if n < 16 || n > 32 || n%4 != 0 {
		return "", errorf(ErrBadEntropy, "entropy is %d bytes; BIP-39 takes 16, 20, 24, 28 or 32", n)
	}
	csBits := n * 8 / 32
	sum := sha256.Sum256(entropy)
	bits := append(append([]byte(nil), entropy...), sum[0])
	words := make([]string, (n*8+csBits)/11)
	for i := range words {
		var idx int
		for b := i * 11; b < i*11+11; b++ {
			idx = idx<<1 | int(bits[b/8]>>(7-uint(b%8))&1)
		}
		words[i] = englishWords[idx]
	}
	return strings.Join(words, " "), nil
}

// MnemonicToEntropy decodes and checks a mnemonic: every word must be in
// the English list, the count must be 12, 15, 18, 21 or 24, and the
// checksum must match. Words may be separated by any whitespace; case is
// ignored.
func MnemonicToEntropy(mnemonic string) ([]byte, error) {
	words := strings.Fields(strings.ToLower(mnemonic))
	n := len(words)
	if n < 12 || n > 24 || n%3 != 0 {
		return nil, errorf(ErrBadMnemonic, "mnemonic has %d words; BIP-39 takes 12, 15, 18, 21 or 24", n)
	}
	total := n * 11
	bits := make([]byte, (total+7)/8)
	for i, w := range words {
		idx, ok := englishIndex[w]
		if !ok {
			return nil, errorf(ErrBadMnemonic, "word %d (%q) is not in the BIP-39 English list", i+1, w)
		}
		for j := 0; j < 11; j++ {
			if idx>>(10-uint(j))&1 == 1 {
				b := i*11 + j
				bits[b/8] |= 1 << (7 - uint(b%8))
			}
		}
	}
	csBits := total / 33
	entropy := bits[:(total-csBits)/8]
	sum := sha256.Sum256(entropy)
	got := bits[len(entropy)] >> (8 - uint(csBits))
	if want := sum[0] >> (8 - uint(csBits)); got != want {
		return nil, errorf(ErrBadMnemonic, "mnemonic checksum is wrong (a word is mistyped or out of order)")
	}
	return append([]byte(nil), entropy...), nil
}

// ValidateMnemonic reports why a mnemonic is not valid, or nil.
func ValidateMnemonic(mnemonic string) error {
	_, err := MnemonicToEntropy(mnemonic)
	return err
}

// MnemonicToSeed checks the mnemonic and derives the 64-byte BIP-39 seed:
// PBKDF2-HMAC-SHA512, 2048 rounds, salt "mnemonic"+passphrase, both NFKD
// normalised. The mnemonic is re-joined with single spaces in lower case.
func MnemonicToSeed(mnemonic, passphrase string) ([]byte, error) {
	if _, err := MnemonicToEntropy(mnemonic); err != nil {
		return nil, err
	}
	m := strings.Join(strings.Fields(strings.ToLower(mnemonic)), " ")
	salt := "mnemonic" + norm.NFKD.String(passphrase)
	seed, err := pbkdf2.Key(sha512.New, norm.NFKD.String(m), []byte(salt), 2048, SeedSize)
	if err != nil {
		return nil, wrapf(ErrBadSeed, err, "PBKDF2")
	}
	return seed, nil
}
