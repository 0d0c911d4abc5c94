package chain

import (
	"bytes"
	"testing"

	"github.com/ledger-node/ledger/chain/types"
	"github.com/ledger-node/ledger/consensus"
	"github.com/ledger-node/ledger/consensus/lthash"
)

// The store's record decoders read the disk, which is hostile input too
// (corruption, a foreign database): they must fail with ErrCorruptDB,
// never panic, and round-trip what they accept.

func FuzzDecodeUndo(f *testing.F) {
	f.Add(encodeUndo(nil))
	f.Add(encodeUndo([]consensus.AccountChange{{Addr: types.Address{1}, Before: consensus.Account{Balance: 5, Nonce: 2}}}))
	f.Add([]byte{0, 0, 0, 9, 1, 2})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		entries, err := decodeUndo(b)
		if err != nil {
			wantKind(t, err, ErrCorruptDB)
			return
		}
		changes := make([]consensus.AccountChange, len(entries))
		for i, e := range entries {
			changes[i] = consensus.AccountChange{Addr: e.Addr, Before: e.Before}
		}
		if !bytes.Equal(encodeUndo(changes), b) {
			t.Fatal("undo record does not round-trip")
		}
	})
}

func FuzzDecodeTip(f *testing.F) {
	var c lthash.Hash
	c.Add([]byte("seed"))
	f.Add(encodeTip(types.Hash{7}, &c))
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, b []byte) {
		h, commitment, err := decodeTip(b)
		if err != nil {
			wantKind(t, err, ErrCorruptDB)
			return
		}
		if !bytes.Equal(encodeTip(h, &commitment), b) {
			t.Fatal("tip record does not round-trip")
		}
	})
}

func FuzzDecodeRecords(f *testing.F) {
	f.Add(encodeAccount(consensus.Account{Balance: 9, Nonce: 1}))
	f.Add(encodeTxLoc(TxLocation{Height: 3, Index: 4}))
	f.Add(make([]byte, 16))
	f.Fuzz(func(t *testing.T, b []byte) {
		if a, err := decodeAccount(b); err != nil {
			wantKind(t, err, ErrCorruptDB)
		} else if !bytes.Equal(encodeAccount(a), b) {
			t.Fatal("account record does not round-trip")
		}
		if l, err := decodeTxLoc(b); err != nil {
			wantKind(t, err, ErrCorruptDB)
		} else if !bytes.Equal(encodeTxLoc(l), b) {
			t.Fatal("location record does not round-trip")
		}
	})
}
