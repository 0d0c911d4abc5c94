package wallet

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzDecodeKeystore feeds arbitrary bytes to the keystore decoder: it must
// never panic, must fail only with ErrCorruptKeystore, and whatever it
// accepts must re-encode to a file it accepts identically.
func FuzzDecodeKeystore(f *testing.F) {
	net, _ := testNetwork(f)
	dir := f.TempDir()
	s, err := NewStore(filepath.Join(dir, "w"))
	if err != nil {
		f.Fatal(err)
	}
	if _, err := s.Create("seed", []byte("pw"), net, testSeed(f), testKDF); err != nil {
		f.Fatal(err)
	}
	good, err := os.ReadFile(s.Path("seed"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add([]byte("{}"))
	f.Add([]byte(""))
	f.Add([]byte(`{"version":1,"kdf":{"name":"scrypt","logN":40,"r":1,"p":1}}`))
	f.Add(append(good, good...))
	f.Fuzz(func(t *testing.T, data []byte) {
		ks, err := decodeKeystore(data)
		if err != nil {
			if !errors.Is(err, ErrCorruptKeystore) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if err := ks.kdf.Validate(); err != nil {
			t.Fatalf("accepted bad KDF params: %v", err)
		}
		ks2, err := decodeKeystore(ks.encode())
		if err != nil {
			t.Fatalf("re-encoded file refused: %v", err)
		}
		if string(ks2.additionalData()) != string(ks.additionalData()) || string(ks2.ciphertext) != string(ks.ciphertext) {
			t.Fatal("re-encoding changed the keystore")
		}
	})
}
