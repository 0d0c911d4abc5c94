package mempool

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"

	"github.com/ledger-node/ledger/chain/types"
	"github.com/ledger-node/ledger/internal/chaingen"
)

func TestPersistRoundTrip(t *testing.T) {
	f := newFixture(t, chaingen.Options{Accounts: 4}, nil)
	f.mustAdd(f.tx(0, 0, 1000), f.tx(0, 1, 2000), f.tx(1, 0, 1500), f.tx(2, 3, 1000))
	path := filepath.Join(t.TempDir(), "mempool.dat")
	if err := f.p.Save(path); err != nil {
		t.Fatal(err)
	}
	before := f.p.Content(0)
	f.p.Close()

	f.p = f.newPool(nil)
	n, err := f.p.Load(path)
	if err != nil || n != len(before) {
		t.Fatalf("loaded %d of %d: %v", n, len(before), err)
	}
	after := f.p.Content(0)
	for i := range before {
		if before[i].ID != after[i].ID || before[i].Queued != after[i].Queued {
			t.Fatalf("entry %d differs after reload", i)
		}
	}
	checkInvariants(t, f.p)

	// Loading re-validates: once the chain has moved, mined ones are
	// refused, the rest accepted.
	f.p.Close()
	f.connect(before[0].Tx)
	f.p = f.newPool(nil)
	if n, err := f.p.Load(path); err != nil || n != len(before)-1 {
		t.Fatalf("loaded %d: %v", n, err)
	}
	if n, err := f.p.Load(filepath.Join(t.TempDir(), "missing")); n != 0 || err != nil {
		t.Fatalf("missing file: %d %v", n, err)
	}
}

// TestLoadBounded: a file larger than the pool could hold (Save never
// writes one) is refused before it is read or verified; one exactly as
// large as the pool's limits allow is loaded.
func TestLoadBounded(t *testing.T) {
	const size = 148 // a transfer
	f := newFixture(t, chaingen.Options{Accounts: 4}, func(c *Config) { c.MaxCount, c.MaxBytes = 2, 2*size })
	dir := t.TempDir()
	tests := []struct {
		name     string
		txs      []*types.Tx
		kind     error
		accepted int
	}{
		{"one record too many", []*types.Tx{f.tx(0, 0, 1000), f.tx(1, 0, 1000), f.tx(2, 0, 1000)}, ErrBadPoolFile, 0},
		{"exactly the limit", []*types.Tx{f.tx(0, 0, 1000), f.tx(1, 0, 1000)}, nil, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, tc.name)
			if err := os.WriteFile(path, EncodeFile(f.g.Genesis.Hash, tc.txs), 0o600); err != nil {
				t.Fatal(err)
			}
			checks := f.p.sigChecks.Load()
			n, err := f.p.Load(path)
			if tc.kind != nil {
				wantKind(t, err, tc.kind)
			} else if err != nil {
				t.Fatal(err)
			}
			if n != tc.accepted || f.p.sigChecks.Load()-checks != uint64(tc.accepted) {
				t.Fatalf("accepted %d with %d verifications, want %d", n, f.p.sigChecks.Load()-checks, tc.accepted)
			}
		})
	}
}

// resum recomputes a file's checksum after an edit, so that the edit
// reaches the checks behind it.
func resum(b []byte) []byte {
	sum := sha256.Sum256(b[:len(b)-fileSumSize])
	copy(b[len(b)-fileSumSize:], sum[:])
	return b
}

func TestLoadCorrupt(t *testing.T) {
	f := newFixture(t, chaingen.Options{Accounts: 3}, nil)
	txs := []*types.Tx{f.tx(0, 0, 1000), f.tx(1, 0, 1000)}
	good := EncodeFile(f.g.Genesis.Hash, txs)
	edit := func(fn func(b []byte) []byte) []byte { return fn(append([]byte(nil), good...)) }
	tests := []struct {
		name string
		data []byte
		kind error
	}{
		{"empty", nil, ErrBadPoolFile},
		{"truncated header", good[:20], ErrBadPoolFile},
		{"truncated body", good[:len(good)-50], ErrBadPoolFile},
		{"bad magic", edit(func(b []byte) []byte { b[0] = 'X'; return b }), ErrBadPoolFile},
		{"bad version", edit(func(b []byte) []byte { b[9] = 9; return resum(b) }), ErrBadPoolFile},
		{"flipped bit", edit(func(b []byte) []byte { b[fileHeaderSize+30] ^= 1; return b }), ErrBadPoolFile},
		{"count too large", edit(func(b []byte) []byte { binary.BigEndian.PutUint32(b[42:], 1<<30); return resum(b) }), ErrBadPoolFile},
		{"count too small", edit(func(b []byte) []byte { binary.BigEndian.PutUint32(b[42:], 1); return resum(b) }), ErrBadPoolFile},
		{"payload mismatch", edit(func(b []byte) []byte { binary.BigEndian.PutUint64(b[46:], 7); return resum(b) }), ErrBadPoolFile},
		{"record length huge", edit(func(b []byte) []byte {
			binary.BigEndian.PutUint32(b[fileHeaderSize:], 0xffffffff)
			return resum(b)
		}), ErrBadPoolFile},
		{"record not a tx", edit(func(b []byte) []byte { b[fileHeaderSize+4] = 9; return resum(b) }), ErrBadPoolFile},
		{"other network", EncodeFile(types.Hash{1}, txs), ErrPoolFileNetwork},
	}
	dir := t.TempDir()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, tc.name)
			if err := os.WriteFile(path, tc.data, 0o600); err != nil {
				t.Fatal(err)
			}
			n, err := f.p.Load(path)
			wantKind(t, err, tc.kind)
			if n != 0 || f.p.Count() != 0 {
				t.Fatalf("accepted %d from a bad file", n)
			}
		})
	}
}

// FuzzDecodeFile: hostile pool files never panic, and whatever decodes
// re-encodes to the same bytes.
func FuzzDecodeFile(f *testing.F) {
	g := chaingen.New(chaingen.Options{Accounts: 2})
	tx := g.Transfer(0, g.Addrs[1], 5, 1000, 0)
	memo := &types.Tx{Kind: types.TxTransfer, ChainID: 7, Nonce: 3, To: g.Addrs[0], Amount: 9, Fee: 99, Memo: []byte("hello")}
	f.Add(EncodeFile(g.Genesis.Hash, []*types.Tx{tx, memo}))
	f.Add(EncodeFile(types.Hash{}, nil))
	f.Add([]byte(fileMagic))
	f.Fuzz(func(t *testing.T, data []byte) {
		genesis, txs, err := DecodeFile(data)
		if err != nil {
			if Kind(err) != string(ErrBadPoolFile) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if again := EncodeFile(genesis, txs); !bytes.Equal(again, data) {
			t.Fatalf("re-encoding differs")
		}
	})
}
