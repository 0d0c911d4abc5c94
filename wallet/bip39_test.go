package wallet

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"sort"
	"strings"
	"testing"
)

type bip39File struct {
	Passphrase string `json:"passphrase"`
	Vectors    []struct {
		Entropy  string `json:"entropy"`
		Mnemonic string `json:"mnemonic"`
		Seed     string `json:"seed"`
	} `json:"vectors"`
	Invalid []string `json:"invalid"`
}

func loadJSON(t testing.TB, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func wantKind(t testing.TB, err error, k ErrorKind) {
	t.Helper()
	if !errors.Is(err, k) {
		t.Fatalf("error %v, want kind %s", err, k)
	}
}

func TestWordlist(t *testing.T) {
	sum := sha256.Sum256([]byte(wordlistEnglish))
	if hex.EncodeToString(sum[:]) != "2f5eed53a4727b4bf8880d8f3f199efc90e58503646d9ff8eff3a2ed3b24dbda" {
		t.Fatalf("english wordlist SHA-256 %x differs from the official english.txt", sum)
	}
	if len(englishWords) != 2048 || len(englishIndex) != 2048 {
		t.Fatalf("%d words, %d distinct", len(englishWords), len(englishIndex))
	}
	if !sort.StringsAreSorted(englishWords) {
		t.Error("wordlist is not sorted")
	}
	prefixes := map[string]bool{}
	for _, w := range englishWords {
		p := w[:min(4, len(w))]
		if prefixes[p] {
			t.Errorf("two words start with %q", p)
		}
		prefixes[p] = true
	}
}

func TestBIP39Vectors(t *testing.T) {
	var f bip39File
	loadJSON(t, "testdata/bip39_vectors.json", &f)
	if f.Passphrase != "TREZOR" || len(f.Vectors) != 24 {
		t.Fatalf("unexpected vector file: %q, %d vectors", f.Passphrase, len(f.Vectors))
	}
	for _, v := range f.Vectors {
		t.Run(v.Entropy, func(t *testing.T) {
			m, err := EntropyToMnemonic(mustHex(t, v.Entropy))
			if err != nil || m != v.Mnemonic {
				t.Fatalf("EntropyToMnemonic = %q, %v; want %q", m, err, v.Mnemonic)
			}
			e, err := MnemonicToEntropy(v.Mnemonic)
			if err != nil || hex.EncodeToString(e) != v.Entropy {
				t.Fatalf("MnemonicToEntropy = %x, %v", e, err)
			}
			seed, err := MnemonicToSeed(v.Mnemonic, f.Passphrase)
			if err != nil || hex.EncodeToString(seed) != v.Seed {
				t.Fatalf("MnemonicToSeed = %x, %v; want %s", seed, err, v.Seed)
			}
			// Extra whitespace and upper case are the same mnemonic.
			seed2, err := MnemonicToSeed("  "+strings.ToUpper(strings.ReplaceAll(v.Mnemonic, " ", " \t ")), f.Passphrase)
			if err != nil || hex.EncodeToString(seed2) != v.Seed {
				t.Fatalf("normalised mnemonic: %x, %v", seed2, err)
			}
		})
	}
	// The BIP-39 vectors' first BIP-32 root key.
	seed, _ := MnemonicToSeed(f.Vectors[0].Mnemonic, "TREZOR")
	m, err := MasterKey(seed)
	if err != nil {
		t.Fatal(err)
	}
	if got := m.String(); got != "xprv9s21ZrQH143K3h3fDYiay8mocZ3afhfULfb5GX8kCBdno77K4HiA15Tg23wpbeF1pLfs1c5SPmYHrEpTuuRhxMwvKDwqdKiGJS9XFKzUsAF" {
		t.Errorf("root key of vector 0 = %s", got)
	}
}

func TestBIP39Invalid(t *testing.T) {
	var f bip39File
	loadJSON(t, "testdata/bip39_vectors.json", &f)
	cases := append([]string{
		"",
		"abandon",
		strings.Repeat("abandon ", 24), // checksum wrong
		strings.Repeat("zoo ", 25),
		"abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandonn",
	}, f.Invalid...)
	for _, m := range cases {
		if _, err := MnemonicToEntropy(m); !errors.Is(err, ErrBadMnemonic) {
			t.Errorf("MnemonicToEntropy(%q) = %v, want ErrBadMnemonic", m, err)
		}
		if _, err := MnemonicToSeed(m, "TREZOR"); !errors.Is(err, ErrBadMnemonic) {
			t.Errorf("MnemonicToSeed(%q) = %v, want ErrBadMnemonic", m, err)
		}
	}
	for _, n := range []int{0, 1, 15, 17, 33, 64} {
		_, err := EntropyToMnemonic(make([]byte, n))
		wantKind(t, err, ErrBadEntropy)
	}
}

func TestNewMnemonic(t *testing.T) {
	seen := map[string]bool{}
	for range 20 {
		m, err := NewMnemonic()
		if err != nil {
			t.Fatal(err)
		}
		if n := len(strings.Fields(m)); n != MnemonicWords {
			t.Fatalf("%d words", n)
		}
		if err := ValidateMnemonic(m); err != nil {
			t.Fatal(err)
		}
		if seen[m] {
			t.Fatal("repeated mnemonic")
		}
		seen[m] = true
		// The last word's low 8 bits are the checksum: any other word
		// with the same top 3 (entropy) bits must be refused.
		words := strings.Fields(m)
		idx := englishIndex[words[23]]
		for low := 0; low < 256; low++ {
			alt := idx&^0xff | low
			if alt == idx {
				continue
			}
			words[23] = englishWords[alt]
			if err := ValidateMnemonic(strings.Join(words, " ")); !errors.Is(err, ErrBadMnemonic) {
				t.Fatalf("checksum word %q accepted: %v", words[23], err)
			}
		}
	}
}
