package chain

// The address index's completeness marker: tied to the tip, moved by every
// batch that moves the tip, and an index built again at open when the
// marker does not name the tip.

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/syndtr/goleveldb/leveldb"
	"github.com/syndtr/goleveldb/leveldb/util"

	"github.com/ledger-node/ledger/chain/types"
	"github.com/ledger-node/ledger/internal/chaingen"
)

// aiWantMarker fails unless the completeness marker names c's tip.
func aiWantMarker(t testing.TB, c *Chain) {
	t.Helper()
	v, err := c.db.Get([]byte{addrIndexReadyKey}, nil)
	if err != nil {
		t.Fatalf("address index marker: %v", err)
	}
	if tip := c.Tip().Hash; !bytes.Equal(v, addrIndexMarker(tip)) {
		t.Fatalf("address index marker %x, want it to name the tip %s", v, tip)
	}
}

// TestAddressIndexMarkerFollowsTip: every batch that moves the tip moves
// the marker with it, and a store whose tip moved without the index (a
// binary that predates the index ran on the data directory, or the
// marker is of the version not tied to a tip) has its index built again
// at open instead of serving an incomplete history.
func TestAddressIndexMarkerFollowsTip(t *testing.T) {
	g := chaingen.New(chaingen.Options{Accounts: 8})
	base := rgExtend(g, g.Genesis.Hash, 3, "base", nil)
	branchA := rgExtend(g, rgTip(base), 2, "a", nil)
	// Address 7 is paid only on branch B.
	branchB := rgExtend(g, rgTip(base), 3, "b", func(i int, parent types.Hash) []*types.Tx {
		return []*types.Tx{g.Transfer(6, g.Addrs[7], types.Amount(10+i), 5, g.Nonce(parent, g.Addrs[6]))}
	})
	winner := append(append([]*types.Block{}, base...), branchB...)
	ref := rlOpen(t, Config{Genesis: g.Genesis})
	mustProcess(t, ref, winner...)

	dir := t.TempDir()
	cfg := Config{Genesis: g.Genesis, Dir: dir, Clock: testClock, Logger: rlQuiet}
	c := rlOpen(t, cfg)
	aiWantMarker(t, c)
	for _, b := range append(append([]*types.Block{}, base...), branchA...) {
		mustProcess(t, c, b)
		aiWantMarker(t, c)
	}
	// Disconnect batches alone (the tip only goes back) move it too.
	if err := c.InvalidateBlock(branchA[0].Hash()); err != nil {
		t.Fatal(err)
	}
	if c.Tip().Hash != rgTip(base) {
		t.Fatalf("tip %s after invalidating branch A, want %s", c.Tip().Hash, rgTip(base))
	}
	aiWantMarker(t, c)
	if err := c.ReconsiderBlock(branchA[0].Hash()); err != nil {
		t.Fatal(err)
	}
	aiWantMarker(t, c)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}

	// What the store holds at tip A: the entries and the marker an older
	// binary, which knows neither, would leave untouched.
	var (
		oldMarker  []byte
		oldEntries [][]byte
	)
	adRaw(t, dir, func(db *leveldb.DB) {
		v, err := db.Get([]byte{addrIndexReadyKey}, nil)
		if err != nil {
			t.Fatal(err)
		}
		oldMarker = v
		it := db.NewIterator(util.BytesPrefix([]byte{prefixAddrTx}), nil)
		defer it.Release()
		for it.Next() {
			oldEntries = append(oldEntries, append([]byte(nil), it.Key()...))
		}
	})
	// restoreOld puts the index back as it was at tip A, whatever the tip
	// is now, with the marker marker.
	restoreOld := func(marker []byte) {
		adRaw(t, dir, func(db *leveldb.DB) {
			batch := new(leveldb.Batch)
			it := db.NewIterator(util.BytesPrefix([]byte{prefixAddrTx}), nil)
			for it.Next() {
				batch.Delete(append([]byte(nil), it.Key()...))
			}
			it.Release()
			for _, k := range oldEntries {
				batch.Put(k, nil)
			}
			batch.Put([]byte{addrIndexReadyKey}, marker)
			if err := db.Write(batch, nil); err != nil {
				t.Fatal(err)
			}
		})
	}

	rows := []struct {
		name   string
		marker []byte
	}{
		// The older binary reorganised to branch B: the entries of A
		// stay, those of B are missing, the marker names A's tip.
		{"tip moved by a binary without the index", oldMarker},
		// The marker of the previous format, the version alone.
		{"marker of version 1", []byte{1}},
		{"marker of another length", append([]byte{addrIndexVersion}, rgTip(winner).String()...)},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			c := rlOpen(t, cfg)
			if c.Tip().Hash != rgTip(winner) { // the first row
				mustProcess(t, c, branchB...)
			}
			if c.Tip().Hash != rgTip(winner) {
				t.Fatalf("tip %s, want %s", c.Tip().Hash, rgTip(winner))
			}
			if err := c.Close(); err != nil {
				t.Fatal(err)
			}
			restoreOld(row.marker)
			c = rlOpen(t, cfg)
			aiCompareIndex(t, c, ref)
			aiCheckAll(t, c, g, winner)
			aiWantMarker(t, c)
			if txs, _, err := c.AddressTxs(g.Addrs[7], MaxAddressTxs, nil); err != nil || len(txs) != len(branchB) {
				t.Fatalf("address paid on branch B: %d entries, err %v", len(txs), err)
			}
			c.Close()
		})
	}
}

// TestAddressIndexBuiltBeforeResumedReorg: a store reopened in the middle
// of a reorganisation with an index to build builds it at the stored tip
// before resuming, so the marker the resumed batches rewrite never covers
// an incomplete index.
func TestAddressIndexBuiltBeforeResumedReorg(t *testing.T) {
	g := chaingen.New(chaingen.Options{Accounts: 8})
	base := rgExtend(g, g.Genesis.Hash, 3, "base", nil)
	branchA := rgExtend(g, rgTip(base), 2, "a", nil)
	branchB := rgExtend(g, rgTip(base), 3, "b", nil)
	winner := append(append([]*types.Block{}, base...), branchB...)
	ref := rlOpen(t, Config{Genesis: g.Genesis})
	mustProcess(t, ref, winner...)

	dir := t.TempDir()
	cfg := Config{Genesis: g.Genesis, Dir: dir, Clock: testClock, Logger: rlQuiet}
	c := rlOpen(t, cfg)
	mustProcess(t, c, base...)
	mustProcess(t, c, branchA...)
	mustProcess(t, c, branchB[:2]...) // a tie: the tip stays on A
	// branchB[2] switches: two disconnects, then the connects; the first
	// connect fails, leaving the tip at the fork point.
	writes := 0
	c.writeFault = func() error {
		if writes++; writes > len(branchA) {
			return fmt.Errorf("injected failure of write %d", writes)
		}
		return nil
	}
	if _, err := c.ProcessBlock(branchB[2]); !errors.Is(err, ErrStorage) {
		t.Fatalf("reorganisation with a failing write: %v", err)
	}
	c.Close()
	// An index to build: the marker of the previous format, and entries
	// missing.
	adRaw(t, dir, func(db *leveldb.DB) {
		adMustPut(t, db, []byte{addrIndexReadyKey}, []byte{1})
		adMustDelete(t, db, addrTxKey(g.Miner, 1, 0))
	})
	c = rlOpen(t, cfg)
	if c.Tip().Hash != rgTip(winner) {
		t.Fatalf("tip %s after reopening, want the resumed switch to %s", c.Tip().Hash, rgTip(winner))
	}
	aiCompareIndex(t, c, ref)
	aiCheckAll(t, c, g, winner)
}
