package chain

import (
	"errors"
	"testing"
	"time"

	"github.com/ledger-node/ledger/chain/types"
	"github.com/ledger-node/ledger/consensus"
	"github.com/ledger-node/ledger/internal/chaingen"
)

// testClock is far enough after the test genesis that generated blocks are
// never in the future.
func testClock() time.Time { return time.Unix(1_700_000_000+10*365*86400, 0) }

func openTestChain(t testing.TB, g *chaingen.Generator, dir string) *Chain {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	c, err := Open(Config{Dir: dir, Genesis: g.Genesis, Clock: testClock})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func mustProcess(t testing.TB, c *Chain, blocks ...*types.Block) {
	t.Helper()
	for _, b := range blocks {
		if _, err := c.ProcessBlock(b); err != nil {
			t.Fatalf("block %d %s: %v", b.Header.Height, b.Hash(), err)
		}
	}
}

// checkState compares every account of the store with the generator's
// state after block h, and the commitment with h's state root.
func checkState(t testing.TB, c *Chain, g *chaingen.Generator, h types.Hash) {
	t.Helper()
	tip := c.Tip()
	if tip.Hash != h {
		t.Fatalf("tip is %s (height %d), want %s", tip.Hash, tip.Height, h)
	}
	want := g.State(h)
	stored := storedAccounts(t, c)
	if len(stored) != len(want.Accounts) {
		t.Fatalf("store has %d accounts, expected %d", len(stored), len(want.Accounts))
	}
	for a, acct := range want.Accounts {
		if stored[a] != acct {
			t.Fatalf("account %s: store %+v, expected %+v", a, stored[a], acct)
		}
	}
	if tip.StateRoot != want.Block.Header.StateRoot {
		t.Fatalf("commitment %s, header says %s", tip.StateRoot, want.Block.Header.StateRoot)
	}
}

func storedAccounts(t testing.TB, c *Chain) map[types.Address]consensus.Account {
	t.Helper()
	out := map[types.Address]consensus.Account{}
	it := c.db.NewIterator(nil, nil)
	defer it.Release()
	for it.Next() {
		k := it.Key()
		if k[0] != prefixAccount {
			continue
		}
		a, err := decodeAccount(it.Value())
		if err != nil {
			t.Fatal(err)
		}
		out[types.Address(k[1:])] = a
	}
	return out
}

func wantKind(t testing.TB, err error, kind error) {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Fatalf("got error %v, want kind %v", err, kind)
	}
}
