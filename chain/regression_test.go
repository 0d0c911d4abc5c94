package chain

import (
	"errors"
	"testing"

	"github.com/ledger-node/ledger/chain/types"
	"github.com/ledger-node/ledger/consensus"
	"github.com/ledger-node/ledger/internal/chaingen"
)

// TestStorageFailureRefusesChanges: a failed state write leaves memory and
// disk at the old tip, every later change is refused with ErrStorage (the
// store cannot know what else the disk lost), and after a reopen the
// honest chain connects with nothing marked invalid.
func TestStorageFailureRefusesChanges(t *testing.T) {
	g := chaingen.New(chaingen.Options{Accounts: 2})
	dir := t.TempDir()
	c, err := Open(Config{Dir: dir, Genesis: g.Genesis, Clock: testClock})
	if err != nil {
		t.Fatal(err)
	}
	b1 := g.MustBlock(g.Genesis.Hash, []*types.Tx{g.Transfer(0, g.Addrs[1], 100, 1, 0)})
	b2 := g.MustBlock(b1.Hash(), nil)
	b3 := g.MustBlock(b2.Hash(), nil)
	c.writeFault = func() error { return errors.New("injected EIO") }
	_, err = c.ProcessBlock(b1)
	wantKind(t, err, ErrStorage)
	c.writeFault = nil
	if c.Tip().Height != 0 || c.IsKnownInvalid(b1.Hash()) || c.HaveBlock(b1.Hash()) {
		t.Fatalf("after a failed write: tip %d, b1 invalid %v, stored %v", c.Tip().Height, c.IsKnownInvalid(b1.Hash()), c.HaveBlock(b1.Hash()))
	}
	if acct, _ := c.Account(g.Addrs[0]); acct.Nonce != 0 {
		t.Fatalf("the failed block's state reached the disk: %+v", acct)
	}
	_, err = c.ProcessBlock(b2)
	wantKind(t, err, ErrStorage)
	c.Close()

	c2, err := Open(Config{Dir: dir, Genesis: g.Genesis, Clock: testClock})
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer c2.Close()
	mustProcess(t, c2, b1, b2, b3)
	checkState(t, c2, g, b3.Hash())
}

// TestOpenLeavesInvalidTip: a crash between InvalidateBlock's marks and its
// disconnects leaves the tip on an invalid block; Open moves to the best
// valid chain instead of running on it.
func TestOpenLeavesInvalidTip(t *testing.T) {
	g := chaingen.New(chaingen.Options{Accounts: 2})
	dir := t.TempDir()
	c, err := Open(Config{Dir: dir, Genesis: g.Genesis, Clock: testClock})
	if err != nil {
		t.Fatal(err)
	}
	blocks := g.Chain(g.Genesis.Hash, 3, "a")
	mustProcess(t, c, blocks...)
	c.processMu.Lock()
	if err := c.markInvalid(c.tipNode()); err != nil { // InvalidateBlock's first step
		t.Fatal(err)
	}
	c.processMu.Unlock()
	c.Close() // the crash
	c2, err := Open(Config{Dir: dir, Genesis: g.Genesis, Clock: testClock})
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer c2.Close()
	checkState(t, c2, g, blocks[1].Hash())
	sib := g.MustBlock(blocks[1].Hash(), nil, chaingen.BlockOpts{CoinbaseMemo: []byte("b")})
	mustProcess(t, c2, sib)
	checkState(t, c2, g, sib.Hash())
}

// TestOrphanMalleationDoesNotPoison: a malleated body of a block whose
// parent is unknown is refused before it can take the honest block's place
// in the orphan pool; the honest block then waits and connects.
func TestOrphanMalleationDoesNotPoison(t *testing.T) {
	g := chaingen.New(chaingen.Options{Accounts: 2})
	c := openTestChain(t, g, "")
	bs := g.Chain(g.Genesis.Hash, 2, "h")
	bad, _ := types.DecodeBlock(bs[1].Encode())
	bad.Txs[0].Memo = []byte("junk") // same header: PoW holds, the root does not
	res, err := c.ProcessBlock(bad)
	if res.Orphan || !errors.Is(err, consensus.ErrBadMerkleRoot) {
		t.Fatalf("malleated orphan: %+v, %v", res, err)
	}
	res, err = c.ProcessBlock(bs[1])
	if err != nil || !res.Orphan {
		t.Fatalf("honest orphan: %+v, %v", res, err)
	}
	mustProcess(t, c, bs[0])
	checkState(t, c, g, bs[1].Hash())
}

// TestCheapSideChainNotStored: a branch forked from old history and
// stamped with today's time gets nearly free blocks from ASERT; from a
// stranger they are not stored, whatever their number.
func TestCheapSideChainNotStored(t *testing.T) {
	g := chaingen.New(chaingen.Options{Accounts: 2, Bits: "1e7fffff"})
	c := openTestChain(t, g, "")
	honest := g.Chain(g.Genesis.Hash, 5, "h")
	mustProcess(t, c, honest...)
	now := uint64(testClock().Unix())
	parent := honest[0].Hash()
	stored := 0
	for i := 0; i < 50; i++ {
		b := g.MustBlock(parent, nil, chaingen.BlockOpts{Time: now - 50 + uint64(i), CoinbaseMemo: []byte("spam")})
		res, err := c.ProcessBlock(b)
		switch {
		case err == nil && !res.Orphan:
			stored++
		case err != nil:
			wantKind(t, err, ErrInsufficientWork)
		}
		parent = b.Hash()
	}
	// The first spam block carries the era's real difficulty; the next is
	// at the limit and refused, and the rest wait as orphans of it, in the
	// bounded pool, never stored.
	c.mu.RLock()
	indexed := len(c.index)
	c.mu.RUnlock()
	if stored > 1 || indexed > 7 {
		t.Fatalf("%d cheap side-chain blocks stored, index holds %d", stored, indexed)
	}
	checkState(t, c, g, honest[4].Hash())
}

// TestSubscriberMayRead: a notification handler may call every read
// method, HaveBlock included, without deadlocking the store.
func TestSubscriberMayRead(t *testing.T) {
	g := chaingen.New(chaingen.Options{Accounts: 2})
	c := openTestChain(t, g, "")
	bs := g.Chain(g.Genesis.Hash, 3, "r")
	seen := 0
	c.Subscribe(func(n Notification) {
		if c.HaveBlock(n.Hash) && c.OrphanCount() >= 0 && c.Tip().Hash == n.Hash && c.IsMainChain(n.Hash) {
			seen++
		}
		if _, err := c.BlockByHash(n.Hash); err != nil {
			t.Errorf("read in handler: %v", err)
		}
	})
	mustProcess(t, c, bs...)
	if seen != 3 {
		t.Fatalf("handler saw %d consistent notifications, want 3", seen)
	}
}

// TestForkDeficitBoundary: with MaxForkDeficit 2, a side block from a
// stranger is stored while its branch is at most two tip-blocks' worth of
// work behind the tip, refused with ErrInsufficientWork one block deeper,
// and stored at any depth when sync asked for it (ProcessRequestedBlock).
func TestForkDeficitBoundary(t *testing.T) {
	g := chaingen.New(chaingen.Options{Accounts: 2})
	c := rlOpen(t, Config{Genesis: g.Genesis, MaxForkDeficit: 2})
	main := g.Chain(g.Genesis.Hash, 6, "m")
	rgFeedMain(t, c, main...)
	// side(h) is a block at height h forking off the main chain.
	side := func(h int, tag string) *types.Block {
		return g.MustBlock(main[h-2].Hash(), nil, chaingen.BlockOpts{CoinbaseMemo: []byte(tag)})
	}
	atLimit, beyond := side(4, "at limit"), side(3, "beyond")
	for _, b := range append(main, atLimit, beyond) {
		if b.Header.Bits != main[0].Header.Bits {
			t.Fatalf("block %d has bits %08x, not %08x: the work arithmetic below does not hold",
				b.Header.Height, b.Header.Bits, main[0].Header.Bits)
		}
	}
	// The tip has 6 blocks' work above genesis; atLimit's branch 4, two
	// behind (exactly the allowance); beyond's 3.
	rgFeedSide(t, c, atLimit)
	_, err := c.ProcessBlock(beyond)
	rlExactKind(t, err, ErrInsufficientWork)
	if c.HaveBlock(beyond.Hash()) || c.IsKnownInvalid(beyond.Hash()) {
		t.Fatal("a block refused for too little work was stored or condemned")
	}
	res, err := c.ProcessRequestedBlock(beyond)
	if err != nil || res.MainChain || res.Orphan || !c.HaveBlock(beyond.Hash()) {
		t.Fatalf("requested deep side block: %+v, %v", res, err)
	}
}
