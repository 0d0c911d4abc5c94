package chain

// Reorganisations (security-tests item 9): after every switch, the store's
// state, commitment, transaction index, height index and undo data equal
// those of a fresh store fed only the winning branch, and chaingen's state
// for the new tip.

import (
	"bytes"
	"errors"
	"fmt"
	"math/big"
	"testing"

	"github.com/syndtr/goleveldb/leveldb/util"

	"github.com/ledger-node/ledger/chain/types"
	"github.com/ledger-node/ledger/consensus"
	"github.com/ledger-node/ledger/internal/chaingen"
)

// rgExtend builds n blocks on parent. Block i holds a transfer from key
// i%5 (its next nonce on this branch) whose recipient and amount depend on
// tag, so two branches spend the same nonces differently, plus the extra
// transactions extra returns for block i.
func rgExtend(g *chaingen.Generator, parent types.Hash, n int, tag string, extra func(i int, parent types.Hash) []*types.Tx) []*types.Block {
	var out []*types.Block
	salt := 0
	for _, c := range tag {
		salt = salt*31 + int(c)
	}
	for i := 0; i < n; i++ {
		from := i % 5
		to := g.Addrs[(from+1+salt%4)%len(g.Addrs)]
		if to == g.Addrs[from] {
			to = g.Addrs[5]
		}
		txs := []*types.Tx{g.Transfer(from, to, types.Amount(1000+salt%1000+i), types.Amount(1+salt%7), g.Nonce(parent, g.Addrs[from]))}
		if extra != nil {
			txs = append(txs, extra(i, parent)...)
		}
		b := g.MustBlock(parent, txs, chaingen.BlockOpts{CoinbaseMemo: []byte(fmt.Sprintf("%s%d", tag, i))})
		out = append(out, b)
		parent = b.Hash()
	}
	return out
}

func rgTip(blocks []*types.Block) types.Hash { return blocks[len(blocks)-1].Hash() }

// rgRecordPrefixes are the tables that depend only on the main chain.
var rgRecordPrefixes = []byte{prefixAccount, prefixTx, prefixHeight, prefixUndo, prefixTip, prefixAddrTx, addrIndexReadyKey}

func rgRecords(t testing.TB, c *Chain, prefix byte) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	it := c.db.NewIterator(util.BytesPrefix([]byte{prefix}), nil)
	defer it.Release()
	for it.Next() {
		out[string(it.Key())] = append([]byte(nil), it.Value()...)
	}
	if err := it.Error(); err != nil {
		t.Fatal(err)
	}
	return out
}

// rgCompareFresh opens a fresh store, feeds it blocks (a branch from
// genesis), and compares with c: the tip, every stored account, the
// commitment, and every record of the main-chain tables. It also checks c
// against chaingen's state of the tip.
func rgCompareFresh(t testing.TB, c *Chain, g *chaingen.Generator, blocks []*types.Block) {
	t.Helper()
	fresh := rlOpen(t, Config{Genesis: g.Genesis})
	mustProcess(t, fresh, blocks...)
	tip := rgTip(blocks)
	checkState(t, fresh, g, tip)
	checkState(t, c, g, tip)
	if c.Tip().Hash != fresh.Tip().Hash || c.Tip().TotalWork.Cmp(fresh.Tip().TotalWork) != 0 {
		t.Fatalf("tip %s, fresh store %s", c.Tip().Hash, fresh.Tip().Hash)
	}
	got, want := storedAccounts(t, c), storedAccounts(t, fresh)
	if len(got) != len(want) {
		t.Fatalf("%d accounts, fresh store %d", len(got), len(want))
	}
	for a, acct := range want {
		if got[a] != acct {
			t.Fatalf("account %s: %+v, fresh store %+v", a, got[a], acct)
		}
	}
	_, gc := c.Commitment()
	_, fc := fresh.Commitment()
	if !gc.Equal(&fc) {
		t.Fatal("commitment differs from the fresh store's")
	}
	for _, p := range rgRecordPrefixes {
		gr, fr := rgRecords(t, c, p), rgRecords(t, fresh, p)
		for k, v := range fr {
			if gv, ok := gr[k]; !ok || !bytes.Equal(gv, v) {
				t.Fatalf("table %c: record %x is %x, fresh store %x", p, k, gv, v)
			}
		}
		for k := range gr {
			if _, ok := fr[k]; !ok {
				t.Fatalf("table %c: record %x not in the fresh store", p, k)
			}
		}
	}
}

// rgCheckTxIndex: every transaction of winners is found at its place;
// every transaction of losers that winners do not hold is not found.
func rgCheckTxIndex(t testing.TB, c *Chain, winners, losers []*types.Block) {
	t.Helper()
	won := map[types.Hash]bool{}
	for _, b := range winners {
		for i, tx := range b.Txs {
			id := tx.Hash()
			won[id] = true
			got, loc, blk, ok, err := c.Transaction(id)
			if err != nil || !ok || got.Hash() != id || blk != b.Hash() || loc.Height != b.Header.Height || loc.Index != uint32(i) {
				t.Fatalf("winning tx %s: ok=%v err=%v loc=%+v block=%s, want %d/%d in %s", id, ok, err, loc, blk, b.Header.Height, i, b.Hash())
			}
		}
	}
	for _, b := range losers {
		for _, tx := range b.Txs {
			id := tx.Hash()
			if won[id] {
				continue
			}
			if _, _, _, ok, err := c.Transaction(id); ok || err != nil {
				t.Fatalf("losing tx %s (block %d %s) still found: err=%v", id, b.Header.Height, b.Hash(), err)
			}
			if _, ok, _ := c.TxLocation(id); ok {
				t.Fatalf("losing tx %s still has a location", id)
			}
		}
	}
}

// rgWantSwitch checks the notifications of one switch from the old branch
// (oldBlocks, after the fork) to the new one: disconnections from the old
// tip down, connections from the fork up, then Reorganized.
func rgWantSwitch(t testing.TB, notes []Notification, fork types.Hash, oldBlocks, newBlocks []*types.Block) {
	t.Helper()
	want := len(oldBlocks) + len(newBlocks) + 1
	if len(notes) != want {
		t.Fatalf("%d notifications, want %d", len(notes), want)
	}
	for i := range oldBlocks {
		b := oldBlocks[len(oldBlocks)-1-i]
		n := notes[i]
		if n.Type != BlockDisconnected || n.Hash != b.Hash() || n.Height != b.Header.Height || n.Block == nil || n.Block.Hash() != b.Hash() {
			t.Fatalf("notification %d: %v %s@%d, want BlockDisconnected %s@%d", i, n.Type, n.Hash, n.Height, b.Hash(), b.Header.Height)
		}
	}
	for i, b := range newBlocks {
		n := notes[len(oldBlocks)+i]
		if n.Type != BlockConnected || n.Hash != b.Hash() || n.Height != b.Header.Height || n.Block == nil || n.Block.Hash() != b.Hash() {
			t.Fatalf("notification %d: %v %s@%d, want BlockConnected %s@%d", len(oldBlocks)+i, n.Type, n.Hash, n.Height, b.Hash(), b.Header.Height)
		}
	}
	last := notes[want-1]
	newTip, oldTip := newBlocks[len(newBlocks)-1], oldBlocks[len(oldBlocks)-1]
	if last.Type != Reorganized || last.Hash != newTip.Hash() || last.Height != newTip.Header.Height ||
		last.OldTip != oldTip.Hash() || last.Fork != fork {
		t.Fatalf("last notification %+v, want Reorganized to %s from %s at fork %s", last, newTip.Hash(), oldTip.Hash(), fork)
	}
}

// rgReplay follows notifications from start and checks that each one
// moves the tip consistently; it returns where they lead and whether a
// Reorganized came.
func rgReplay(t testing.TB, start types.Hash, notes []Notification) (types.Hash, bool) {
	t.Helper()
	tip, reorg := start, false
	for i, n := range notes {
		switch n.Type {
		case BlockDisconnected:
			if n.Hash != tip {
				t.Fatalf("notification %d disconnects %s, the tip is %s", i, n.Hash, tip)
			}
			tip = n.Block.Header.PrevBlock
		case BlockConnected:
			if n.Block.Header.PrevBlock != tip {
				t.Fatalf("notification %d connects %s on %s, the tip is %s", i, n.Hash, n.Block.Header.PrevBlock, tip)
			}
			tip = n.Hash
		case Reorganized:
			if n.Hash != tip || i != len(notes)-1 {
				t.Fatalf("Reorganized to %s at %d of %d, tip %s", n.Hash, i, len(notes), tip)
			}
			reorg = true
		}
	}
	return tip, reorg
}

// rgFeedSide feeds blocks that must not move the tip.
func rgFeedSide(t testing.TB, c *Chain, blocks ...*types.Block) {
	t.Helper()
	tip := c.Tip().Hash
	for _, b := range blocks {
		res, err := c.ProcessBlock(b)
		if err != nil || res.MainChain || res.Reorg || res.Orphan {
			t.Fatalf("side block %d: %+v, %v", b.Header.Height, res, err)
		}
		if c.Tip().Hash != tip {
			t.Fatalf("side block %d moved the tip", b.Header.Height)
		}
	}
}

// rgFeedMain feeds blocks that each extend the tip.
func rgFeedMain(t testing.TB, c *Chain, blocks ...*types.Block) {
	t.Helper()
	for _, b := range blocks {
		res, err := c.ProcessBlock(b)
		if err != nil || !res.MainChain || res.Reorg || res.Orphan {
			t.Fatalf("block %d: %+v, %v", b.Header.Height, res, err)
		}
	}
}

func cat(parts ...[]*types.Block) []*types.Block {
	var out []*types.Block
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// TestReorgDepthAndBack switches to a heavier branch at depth 1 and 10,
// then back to the first branch extended, comparing after each switch.
func TestReorgDepthAndBack(t *testing.T) {
	for _, depth := range []int{1, 10} {
		t.Run(fmt.Sprintf("depth%d", depth), func(t *testing.T) {
			g := chaingen.New(chaingen.Options{Accounts: 6})
			prefix := rgExtend(g, g.Genesis.Hash, 2, "C", nil)
			fork := rgTip(prefix)
			// A transfer valid on both branches: key 5 spends only here.
			shared := g.Transfer(5, g.Addrs[0], 777, 2, g.Nonce(fork, g.Addrs[5]))
			a := rgExtend(g, fork, depth, "A", func(i int, _ types.Hash) []*types.Tx {
				if i == 0 {
					return []*types.Tx{shared}
				}
				return nil
			})
			b := rgExtend(g, fork, depth+1, "B", func(i int, _ types.Hash) []*types.Tx {
				if i == depth {
					return []*types.Tx{shared}
				}
				return nil
			})
			// The branches spend key 0's next nonce differently.
			if a[0].Txs[1].Nonce != b[0].Txs[1].Nonce || a[0].Txs[1].Hash() == b[0].Txs[1].Hash() {
				t.Fatal("branches do not spend the same nonce differently")
			}

			c := rlOpen(t, Config{Genesis: g.Genesis})
			notes := rlRecord(c)
			rgFeedMain(t, c, prefix...)
			rgFeedMain(t, c, a...)
			notes.take()
			rgFeedSide(t, c, b[:depth]...) // equal work at most: first seen stays
			if n := notes.take(); len(n) != 0 {
				t.Fatalf("%d notifications for side blocks", len(n))
			}
			res, err := c.ProcessBlock(b[depth])
			if err != nil || !res.MainChain || !res.Reorg || res.Orphan {
				t.Fatalf("switching block: %+v, %v", res, err)
			}
			rgWantSwitch(t, notes.take(), fork, a, b)
			rgCompareFresh(t, c, g, cat(prefix, b))
			rgCheckTxIndex(t, c, cat(prefix, b), a)

			// And back: A grows past B.
			a2 := rgExtend(g, rgTip(a), 2, "A+", nil)
			rgFeedSide(t, c, a2[0]) // equal work
			res, err = c.ProcessBlock(a2[1])
			if err != nil || !res.MainChain || !res.Reorg {
				t.Fatalf("switching back: %+v, %v", res, err)
			}
			rgWantSwitch(t, notes.take(), fork, b, cat(a, a2))
			rgCompareFresh(t, c, g, cat(prefix, a, a2))
			rgCheckTxIndex(t, c, cat(prefix, a, a2), b)

			// The store reopens at the same place.
			dir := c.cfg.Dir
			if err := c.Close(); err != nil {
				t.Fatal(err)
			}
			c = rlOpen(t, Config{Genesis: g.Genesis, Dir: dir})
			rgCompareFresh(t, c, g, cat(prefix, a, a2))
		})
	}
}

// TestReorgInvalidBlockInHeavierBranch: branch B (12 blocks) outweighs A
// (5 blocks) but its third block has a bad state root. The store tries B,
// fails at B3, marks B3 and its descendants invalid, returns to A's tip
// with A's state, and refuses the rest of B.
func TestReorgInvalidBlockInHeavierBranch(t *testing.T) {
	g := chaingen.New(chaingen.Options{Accounts: 6})
	a := rgExtend(g, g.Genesis.Hash, 5, "A", nil)
	good := rgExtend(g, g.Genesis.Hash, 12, "B", nil)
	// B3 with a corrupted state root, and the good blocks after it moved
	// onto it (their own roots are right for the state B3 should give).
	b := append([]*types.Block(nil), good[:2]...)
	b = append(b, g.Mutate(good[2], false, func(blk *types.Block) { blk.Header.StateRoot[0] ^= 0x80 }))
	for i := 3; i < len(good); i++ {
		prev := b[i-1].Hash()
		b = append(b, g.Mutate(good[i], false, func(blk *types.Block) { blk.Header.PrevBlock = prev }))
	}

	c := rlOpen(t, Config{Genesis: g.Genesis})
	rgFeedMain(t, c, a...)
	notes := rlRecord(c)
	rgFeedSide(t, c, b[:5]...) // B1..B5: not more work than A
	_, err := c.ProcessBlock(b[5])
	rlExactKind(t, err, consensus.ErrBadStateRoot)
	rgCompareFresh(t, c, g, a)
	rgCheckTxIndex(t, c, a, b[:2])
	tip, reorg := rgReplay(t, rgTip(a), notes.take())
	if tip != rgTip(a) || reorg {
		t.Fatalf("notifications lead to %s (reorg %v), want A's tip %s", tip, reorg, rgTip(a))
	}
	for i, blk := range b[:6] {
		if got, want := c.IsKnownInvalid(blk.Hash()), i >= 2; got != want {
			t.Errorf("B%d: IsKnownInvalid = %v, want %v", i+1, got, want)
		}
		if c.IsMainChain(blk.Hash()) {
			t.Errorf("B%d is on the main chain", i+1)
		}
	}
	// The child of the last stored invalid block is refused.
	before := rlSnap(t, c)
	res, err := c.ProcessBlock(b[6])
	rlExactKind(t, err, ErrKnownInvalid)
	if res.Orphan || res.MainChain {
		t.Fatalf("B7: %+v", res)
	}
	before.check(t, c)
	// The stored invalid blocks are refused as such too.
	for _, blk := range b[2:6] {
		_, err := c.ProcessBlock(blk)
		rlExactKind(t, err, ErrKnownInvalid)
	}
	if n := notes.take(); len(n) != 0 {
		t.Fatalf("%d notifications for refused blocks", len(n))
	}

	// The marks survive a restart: the store does not try B again.
	dir := c.cfg.Dir
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	c = rlOpen(t, Config{Genesis: g.Genesis, Dir: dir})
	rgCompareFresh(t, c, g, a)
	for _, blk := range b[2:6] {
		if !c.IsKnownInvalid(blk.Hash()) {
			t.Fatalf("B%d no longer known invalid after a restart", blk.Header.Height)
		}
	}
	// A valid sibling of B3 on B2 is still welcome, and once its branch
	// is heavier the store switches to it.
	alt := rgExtend(g, b[1].Hash(), 4, "B'", nil)
	rgFeedSide(t, c, alt[:3]...)
	res, err = c.ProcessBlock(alt[3])
	if err != nil || !res.Reorg || !res.MainChain {
		t.Fatalf("valid heavier branch: %+v, %v", res, err)
	}
	rgCompareFresh(t, c, g, cat(b[:2], alt))
}

// TestDescendantsOfInvalidBlockAreKnownInvalid: after B3 of a heavier
// branch failed (see TestReorgInvalidBlockInHeavierBranch), every later
// block of that branch is refused with ErrKnownInvalid, whatever their
// number. The store knows their ancestry leads to an invalid block; none of
// them may wait in the orphan pool, where its MissingParent would send the
// node to fetch the refused block again, for ever.
func TestDescendantsOfInvalidBlockAreKnownInvalid(t *testing.T) {
	g := chaingen.New(chaingen.Options{Accounts: 6})
	a := rgExtend(g, g.Genesis.Hash, 5, "A", nil)
	good := rgExtend(g, g.Genesis.Hash, 12, "B", nil)
	b := append([]*types.Block(nil), good[:2]...)
	b = append(b, g.Mutate(good[2], false, func(blk *types.Block) { blk.Header.StateRoot[0] ^= 0x80 }))
	for i := 3; i < len(good); i++ {
		prev := b[i-1].Hash()
		b = append(b, g.Mutate(good[i], false, func(blk *types.Block) { blk.Header.PrevBlock = prev }))
	}
	c := rlOpen(t, Config{Genesis: g.Genesis})
	rgFeedMain(t, c, a...)
	rgFeedSide(t, c, b[:5]...)
	_, err := c.ProcessBlock(b[5])
	rlExactKind(t, err, consensus.ErrBadStateRoot)
	before := rlSnap(t, c)
	for i, blk := range b[6:] {
		res, err := c.ProcessBlock(blk)
		if !errors.Is(err, ErrKnownInvalid) || res.Orphan {
			t.Errorf("B%d, descendant of invalid B3: result %+v, err %v; want ErrKnownInvalid", i+7, res, err)
		}
	}
	before.check(t, c)
	if n := c.OrphanCount(); n != 0 {
		t.Errorf("%d descendants of an invalid block wait in the orphan pool", n)
	}
}

// TestReorgEqualWorkFirstSeenStays: two branches of equal work; whichever
// arrived first stays the tip.
func TestReorgEqualWorkFirstSeenStays(t *testing.T) {
	g := chaingen.New(chaingen.Options{Accounts: 6})
	a := rgExtend(g, g.Genesis.Hash, 3, "A", nil)
	b := rgExtend(g, g.Genesis.Hash, 3, "B", nil)
	if consensus.CalcWork(a[2].Header.Bits).Cmp(consensus.CalcWork(b[2].Header.Bits)) != 0 {
		t.Fatal("branches do not carry equal work")
	}
	for _, order := range [][2][]*types.Block{{a, b}, {b, a}} {
		first, second := order[0], order[1]
		c := rlOpen(t, Config{Genesis: g.Genesis})
		rgFeedMain(t, c, first...)
		rgFeedSide(t, c, second...)
		checkState(t, c, g, rgTip(first))
		if c.Tip().TotalWork.Cmp(c.node(rgTip(second)).work) != 0 {
			t.Fatal("branches differ in work")
		}
		rgCheckTxIndex(t, c, first, second)
		// One more block on the second branch tips the balance.
		more := rgExtend(g, rgTip(second), 1, "more", nil)
		res, err := c.ProcessBlock(more[0])
		if err != nil || !res.Reorg || !res.MainChain {
			t.Fatalf("heavier: %+v, %v", res, err)
		}
		rgCompareFresh(t, c, g, cat(second, more))
	}
}

// TestReorgFollowsWorkNotLength: a longer branch whose late timestamps
// made its targets easier loses to a shorter branch with more work.
func TestReorgFollowsWorkNotLength(t *testing.T) {
	g := chaingen.New(chaingen.Options{Accounts: 6, Bits: "2000ffff"})
	// Long: after block 2 each block comes two half-lives late, so each
	// later block's target is four times easier.
	var long []*types.Block
	parent := g.Genesis.Hash
	for i := 0; i < 4; i++ {
		ph := g.State(parent).Block.Header
		o := chaingen.BlockOpts{CoinbaseMemo: []byte{'L', byte(i)}}
		if i >= 1 {
			o.Time = ph.Time + 2*g.Params.ASERTHalfLife
		}
		blk := g.MustBlock(parent, nil, o)
		long = append(long, blk)
		parent = blk.Hash()
	}
	short := rgExtend(g, g.Genesis.Hash, 3, "S", nil)
	work := func(bs []*types.Block) *big.Int {
		w := new(big.Int)
		for _, b := range bs {
			w.Add(w, consensus.CalcWork(b.Header.Bits))
		}
		return w
	}
	if len(long) <= len(short) || work(long).Cmp(work(short)) >= 0 {
		t.Fatalf("test chains: long %d blocks work %v, short %d blocks work %v", len(long), work(long), len(short), work(short))
	}
	c := rlOpen(t, Config{Genesis: g.Genesis})
	rgFeedMain(t, c, long...)
	notes := rlRecord(c)
	rgFeedSide(t, c, short[:2]...)
	res, err := c.ProcessBlock(short[2])
	if err != nil || !res.Reorg || !res.MainChain {
		t.Fatalf("shorter, heavier branch: %+v, %v", res, err)
	}
	rgWantSwitch(t, notes.take(), g.Genesis.Hash, long, short)
	rgCompareFresh(t, c, g, short)

	// After a restart the index recomputes each branch's difficulty
	// schedule: children of both tips, with the bits chaingen computed,
	// are accepted.
	dir := c.cfg.Dir
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	c = rlOpen(t, Config{Genesis: g.Genesis, Dir: dir})
	longKid := g.MustBlock(rgTip(long), nil, chaingen.BlockOpts{CoinbaseMemo: []byte("long kid")})
	shortKid := g.MustBlock(rgTip(short), nil, chaingen.BlockOpts{CoinbaseMemo: []byte("short kid")})
	if longKid.Header.Bits == shortKid.Header.Bits {
		t.Fatal("the branches require the same bits: the test shows nothing")
	}
	// The long branch's kid is far easier than the tip: only a block sync
	// asked for (its header chain known) is stored; from a stranger it is
	// refused, which the fork-deficit test covers.
	if res, err := c.ProcessRequestedBlock(longKid); err != nil || res.MainChain || res.Reorg {
		t.Fatalf("requested side block on the easier branch: %+v, %v", res, err)
	}
	rgFeedMain(t, c, shortKid)
	rgCompareFresh(t, c, g, cat(short, []*types.Block{shortKid}))
}
