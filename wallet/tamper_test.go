//go:build unix

package wallet

import (
	"os"
	"regexp"
	"syscall"
	"testing"
)

// TestNextAddressRefusesEditedIndex: the index read back from the file is
// authenticated, so an edited next index is corruption, not a jump.
func TestNextAddressRefusesEditedIndex(t *testing.T) {
	net, _ := testNetwork(t)
	s, err := NewStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	w, err := s.Create("w", []byte("pw"), net, testSeed(t), testKDF)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	path := s.Path("w")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	edited := regexp.MustCompile(`"nextIndex":\s*\d+`).ReplaceAll(data, []byte(`"nextIndex": 2147483648`))
	if string(edited) == string(data) {
		t.Fatal("test did not find the nextIndex field")
	}
	if err := os.WriteFile(path, edited, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := w.NextAddress(); !isKind(err, ErrCorruptKeystore) {
		t.Fatalf("NextAddress on an edited file: %v", err)
	}
}

// TestFIFORefused: a FIFO where a wallet file should be is refused at
// once instead of blocking the open.
func TestFIFORefused(t *testing.T) {
	net, _ := testNetwork(t)
	dir := t.TempDir()
	s, err := NewStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(s.Path("f"), 0o600); err != nil {
		t.Skipf("no FIFOs here: %v", err)
	}
	if _, err := s.Open("f", []byte("pw"), net); !isKind(err, ErrCorruptKeystore) {
		t.Fatalf("open of a FIFO: %v", err)
	}
}
