package wallet

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func newTestStore(t *testing.T) *Store {
	t.Helper()
	s, err := NewStore(filepath.Join(t.TempDir(), "wallets"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestKeystoreRoundTrip(t *testing.T) {
	net, _ := testNetwork(t)
	s := newTestStore(t)
	seed := testSeed(t)
	w, err := s.Create("main", []byte("hunter2"), net, seed, testKDF)
	if err != nil {
		t.Fatal(err)
	}
	a0, _ := w.Address(0)
	st, err := os.Stat(s.Path("main"))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("file mode %v, want 0600", st.Mode().Perm())
	}
	w2, err := s.Open("main", []byte("hunter2"), net)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(w2.seed, seed) || w2.NextIndex() != 0 {
		t.Fatalf("seed or index differ after reopening")
	}
	// Handing out addresses persists the index and restores the same
	// addresses from the mnemonic alone.
	var handed []string
	for want := uint32(0); want < 3; want++ {
		i, a, err := w2.NextAddress()
		if err != nil || i != want {
			t.Fatalf("NextAddress = %d, %v, want %d", i, err, want)
		}
		handed = append(handed, a.Bech32(net.Prefix))
	}
	if handed[0] != a0.Bech32(net.Prefix) {
		t.Errorf("index 0 differs between wallets")
	}
	w3, err := s.Open("main", []byte("hunter2"), net)
	if err != nil || w3.NextIndex() != 3 {
		t.Fatalf("reopened index %d, %v", w3.NextIndex(), err)
	}
	other := newTestStore(t)
	r, err := other.CreateFromMnemonic("restored", []byte("x"), net, testMnemonic, "", testKDF)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range handed {
		a, _ := r.Address(uint32(i))
		if a.Bech32(net.Prefix) != want {
			t.Errorf("restored address %d = %s, want %s", i, a.Bech32(net.Prefix), want)
		}
	}
	all, err := w3.Addresses()
	if err != nil || len(all) != 3 {
		t.Fatalf("Addresses = %v, %v", all, err)
	}
	names, err := s.List()
	if err != nil || len(names) != 1 || names[0] != "main" {
		t.Errorf("List = %v, %v", names, err)
	}
	// A passphrase makes a different wallet.
	p, _ := other.CreateFromMnemonic("pass", []byte("x"), net, testMnemonic, "TREZOR", testKDF)
	if pa, _ := p.Address(0); pa == a0 {
		t.Error("passphrase did not change the keys")
	}
	w.Close()
	if _, err := w.Key(0); err == nil {
		t.Error("closed wallet derived a key")
	}
}

func TestKeystoreRefusals(t *testing.T) {
	net, _ := testNetwork(t)
	s := newTestStore(t)
	seed := testSeed(t)
	if _, err := s.Create("w", []byte("pw"), net, seed, testKDF); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(s.Path("w"))
	_, err := s.Create("w", []byte("other"), net, seed, testKDF)
	wantKind(t, err, ErrWalletExists)
	after, _ := os.ReadFile(s.Path("w"))
	if !bytes.Equal(before, after) {
		t.Fatal("existing wallet was changed")
	}
	_, err = s.Open("w", []byte("wrong"), net)
	wantKind(t, err, ErrWrongPassword)
	_, err = s.Open("w", []byte(""), net)
	wantKind(t, err, ErrWrongPassword)
	_, err = s.Open("missing", []byte("pw"), net)
	wantKind(t, err, ErrWalletNotFound)
	for _, name := range []string{"", "../x", "a/b", "-x", "a.b", strings.Repeat("a", 65), "wallet\x00"} {
		_, err = s.Create(name, []byte("pw"), net, seed, testKDF)
		wantKind(t, err, ErrBadName)
		_, err = s.Open(name, []byte("pw"), net)
		wantKind(t, err, ErrBadName)
	}
	other := net
	other.GenesisHash[0] ^= 1
	_, err = s.Open("w", []byte("pw"), other)
	wantKind(t, err, ErrWrongNetwork)
	other = net
	other.Prefix = "lother"
	_, err = s.Open("w", []byte("pw"), other)
	wantKind(t, err, ErrWrongNetwork)
	for _, k := range []KDFParams{{}, {LogN: 23, R: 1, P: 1}, {LogN: 4, R: 0, P: 1}, {LogN: 4, R: 1, P: 17}, {LogN: 22, R: 8, P: 1}} {
		_, err = s.Create("k", []byte("pw"), net, seed, k)
		wantKind(t, err, ErrBadParams)
	}
	_, err = s.Create("short", []byte("pw"), net, seed[:32], testKDF)
	wantKind(t, err, ErrBadSeed)
	_, err = s.Create("nonet", []byte("pw"), Network{}, seed, testKDF)
	wantKind(t, err, ErrBadParams)
	if err := DefaultKDF.Validate(); err != nil {
		t.Error(err)
	}
	// An oversized file is refused without being read.
	big := append(bytes.Repeat([]byte(" "), MaxKeystoreSize), before...)
	if err := os.WriteFile(s.Path("big"), big, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = s.Open("big", []byte("pw"), net)
	wantKind(t, err, ErrCorruptKeystore)
	if names, _ := s.List(); len(names) != 2 {
		t.Errorf("List = %v", names)
	}
	// No temp files are left behind.
	ents, _ := os.ReadDir(s.Dir())
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".tmp") {
			t.Errorf("leftover %s", e.Name())
		}
	}
}

func TestKeystoreTruncated(t *testing.T) {
	net, _ := testNetwork(t)
	s := newTestStore(t)
	if _, err := s.Create("w", []byte("pw"), net, testSeed(t), testKDF); err != nil {
		t.Fatal(err)
	}
	good, _ := os.ReadFile(s.Path("w"))
	for n := 0; n < len(good)-1; n++ { // the last byte is an optional newline
		if err := os.WriteFile(s.Path("t"), good[:n], 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := s.Open("t", []byte("pw"), net)
		if !errors.Is(err, ErrCorruptKeystore) {
			t.Fatalf("truncated to %d bytes: %v", n, err)
		}
	}
}

// TestKeystoreTampered changes each byte of the file in turn: every change
// is refused with a typed error, and any change to the network, nonce,
// index or ciphertext is reported as tampering, not as a wrong password.
func TestKeystoreTampered(t *testing.T) {
	net, _ := testNetwork(t)
	s := newTestStore(t)
	w, err := s.Create("w", []byte("pw"), net, testSeed(t), testKDF)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := w.NextAddress(); err != nil {
		t.Fatal(err)
	}
	good, _ := os.ReadFile(s.Path("w"))
	opened := 0
	for i := range good {
		for _, repl := range []byte{'0', '1', 'f', '"', 'x'} {
			if good[i] == repl {
				continue
			}
			bad := bytes.Clone(good)
			bad[i] = repl
			if err := os.WriteFile(s.Path("t"), bad, 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := s.Open("t", []byte("pw"), net)
			switch {
			case err == nil:
				// Only changes JSON ignores (whitespace in the layout) may
				// open; none exist for these replacement bytes.
				opened++
				t.Errorf("byte %d changed to %q: opened", i, repl)
			case errors.Is(err, ErrCorruptKeystore), errors.Is(err, ErrWrongPassword), errors.Is(err, ErrWrongNetwork):
			default:
				t.Fatalf("byte %d changed to %q: untyped error %v", i, repl, err)
			}
		}
	}
	// Field-level tampering, with valid syntax, must be detected as such.
	for _, tc := range []struct{ field, kind string }{
		{`"nextIndex": 1`, `"nextIndex": 0`},
		{`"nextIndex": 1`, `"nextIndex": 7`},
	} {
		bad := strings.Replace(string(good), tc.field, tc.kind, 1)
		if bad == string(good) {
			t.Fatalf("field %s not in file", tc.field)
		}
		os.WriteFile(s.Path("t"), []byte(bad), 0o600)
		_, err := s.Open("t", []byte("pw"), net)
		wantKind(t, err, ErrCorruptKeystore)
	}
	ks, err := decodeKeystore(good)
	if err != nil {
		t.Fatal(err)
	}
	for name, mutate := range map[string]func(k *keystore){
		"nonce":      func(k *keystore) { k.nonce[0] ^= 1 },
		"ciphertext": func(k *keystore) { k.ciphertext[5] ^= 1 },
		"tag":        func(k *keystore) { k.ciphertext[len(k.ciphertext)-1] ^= 1 },
		"chain id":   func(k *keystore) { k.net.ChainID++ },
	} {
		c := *ks
		c.nonce, c.ciphertext = bytes.Clone(ks.nonce), bytes.Clone(ks.ciphertext)
		mutate(&c)
		os.WriteFile(s.Path("t"), c.encode(), 0o600)
		n := net
		n.ChainID = c.net.ChainID
		_, err := s.Open("t", []byte("pw"), n)
		if !errors.Is(err, ErrCorruptKeystore) {
			t.Errorf("%s tampered: %v, want ErrCorruptKeystore", name, err)
		}
	}
}

func TestConcurrentCreate(t *testing.T) {
	net, _ := testNetwork(t)
	s := newTestStore(t)
	seed := testSeed(t)
	const n = 16
	var wg sync.WaitGroup
	errs := make([]error, n)
	// Different wallets all succeed.
	for i := range n {
		wg.Go(func() {
			_, errs[i] = s.Create(fmt.Sprintf("w%d", i), []byte(fmt.Sprint("pw", i)), net, seed, testKDF)
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("w%d: %v", i, err)
		}
		if _, err := s.Open(fmt.Sprintf("w%d", i), []byte(fmt.Sprint("pw", i)), net); err != nil {
			t.Fatalf("w%d reopen: %v", i, err)
		}
	}
	// The same wallet: exactly one wins, the file is the winner's.
	for i := range n {
		wg.Go(func() {
			_, errs[i] = s.Create("same", []byte(fmt.Sprint("pw", i)), net, seed, testKDF)
		})
	}
	wg.Wait()
	winner := -1
	for i, err := range errs {
		if err == nil {
			if winner >= 0 {
				t.Fatalf("two winners: %d and %d", winner, i)
			}
			winner = i
		} else if !errors.Is(err, ErrWalletExists) {
			t.Fatalf("loser %d: %v", i, err)
		}
	}
	if winner < 0 {
		t.Fatal("no winner")
	}
	if _, err := s.Open("same", []byte(fmt.Sprint("pw", winner)), net); err != nil {
		t.Fatalf("winner's password: %v", err)
	}
}

func TestConcurrentNextAddress(t *testing.T) {
	net, _ := testNetwork(t)
	s := newTestStore(t)
	if _, err := s.Create("w", []byte("pw"), net, testSeed(t), testKDF); err != nil {
		t.Fatal(err)
	}
	// Several independently opened handles to the same wallet, as separate
	// processes would have.
	const handles, each = 4, 5
	var wg sync.WaitGroup
	var mu sync.Mutex
	seen := map[uint32]bool{}
	for range handles {
		w, err := s.Open("w", []byte("pw"), net)
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			for range each {
				i, a, err := w.NextAddress()
				if err != nil {
					t.Error(err)
					return
				}
				want, _ := w.Address(i)
				mu.Lock()
				if seen[i] || a != want {
					t.Errorf("index %d handed out twice or wrong address", i)
				}
				seen[i] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	w, err := s.Open("w", []byte("pw"), net)
	if err != nil || w.NextIndex() != handles*each {
		t.Fatalf("final index %d, %v", w.NextIndex(), err)
	}
}
