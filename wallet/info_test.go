package wallet

import (
	"errors"
	"os"
	"testing"
)

// TestStoreInfo: a wallet's network and next index are readable without
// its password; a missing or damaged file gives the typed error.
func TestStoreInfo(t *testing.T) {
	net, _ := testNetwork(t)
	s := newTestStore(t)
	w, err := s.Create("main", []byte("pw"), net, testSeed(t), testKDF)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := w.NextAddress(); err != nil {
		t.Fatal(err)
	}
	info, err := s.Info("main")
	if err != nil {
		t.Fatal(err)
	}
	if info.Name != "main" || info.Network != net || info.NextIndex != 1 {
		t.Fatalf("Info = %+v, want network %+v and next index 1", info, net)
	}
	if _, err := s.Info("absent"); !errors.Is(err, ErrWalletNotFound) {
		t.Fatalf("missing wallet: %v, want ErrWalletNotFound", err)
	}
	if _, err := s.Info("../main"); !errors.Is(err, ErrBadName) {
		t.Fatalf("bad name: %v, want ErrBadName", err)
	}
	if err := os.WriteFile(s.Path("broken"), []byte(`{"version":1`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Info("broken"); !errors.Is(err, ErrCorruptKeystore) {
		t.Fatalf("truncated file: %v, want ErrCorruptKeystore", err)
	}
}
