package consensus_test

// VerifySignatures and CheckTxSignature: the signature cache is consulted
// and filled, the lowest failing index is reported, and signature failures
// map to their kinds. Helpers (rtEnv, rtExactKind) are in rules_test.go.

import (
	"sync"
	"testing"

	"github.com/ledger-node/ledger/chain/types"
	"github.com/ledger-node/ledger/consensus"
)

type rtCache struct {
	mu        sync.Mutex
	ids       map[types.Hash]bool
	contains  int
	additions []types.Hash
}

func newRTCache(ids ...types.Hash) *rtCache {
	c := &rtCache{ids: map[types.Hash]bool{}}
	for _, id := range ids {
		c.ids[id] = true
	}
	return c
}

func (c *rtCache) Contains(id types.Hash) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.contains++
	return c.ids[id]
}

func (c *rtCache) Add(id types.Hash) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ids[id] = true
	c.additions = append(c.additions, id)
}

func rtIDs(txs []*types.Tx) []types.Hash {
	out := make([]types.Hash, len(txs))
	for i, tx := range txs {
		out[i] = tx.Hash()
	}
	return out
}

func TestVerifySignaturesCache(t *testing.T) {
	e := newRTEnv()
	good := e.transfer(0, e.addrs[1], 5, 1, 0)
	bad := e.transfer(1, e.addrs[2], 5, 1, 0)
	bad.Sig[50] ^= 1
	cb := e.coinbase(1) // no signature: skipped
	txs := []*types.Tx{cb, good, bad}
	ids := rtIDs(txs)

	// Without a cache, the bad signature is found.
	rtExactKind(t, consensus.VerifySignatures(txs, ids, e.p, nil, 2), consensus.ErrBadSignature)

	// A cache hit skips verification: the bad transaction's id in the
	// cache makes it pass, which proves it was not verified.
	c := newRTCache(ids[2])
	if err := consensus.VerifySignatures(txs, ids, e.p, c, 2); err != nil {
		t.Fatalf("cached bad signature was verified: %v", err)
	}
	if len(c.additions) != 1 || c.additions[0] != ids[1] {
		t.Fatalf("cache additions %v, want only the good transfer %s", c.additions, ids[1])
	}
	// Now both are cached: nothing is verified or added.
	c.additions = nil
	if err := consensus.VerifySignatures(txs, ids, e.p, c, 1); err != nil || len(c.additions) != 0 {
		t.Fatalf("second pass: err %v, additions %v", err, c.additions)
	}
	// A failure is not remembered, nor is the coinbase.
	fresh := newRTCache()
	err := consensus.VerifySignatures(txs, ids, e.p, fresh, 3)
	rtExactKind(t, err, consensus.ErrBadSignature)
	if fresh.ids[ids[2]] {
		t.Fatal("a failing signature was added to the cache")
	}
	if fresh.ids[ids[0]] {
		t.Fatal("the coinbase was added to the cache")
	}
	// Nothing to verify.
	if err := consensus.VerifySignatures(nil, nil, e.p, fresh, 4); err != nil {
		t.Fatal(err)
	}
	if err := consensus.VerifySignatures([]*types.Tx{cb}, ids[:1], e.p, nil, 4); err != nil {
		t.Fatalf("coinbase only: %v", err)
	}
	// workers below 1 means one worker, not none.
	for _, w := range []int{0, -3} {
		rtExactKind(t, consensus.VerifySignatures(txs, ids, e.p, nil, w), consensus.ErrBadSignature)
		if err := consensus.VerifySignatures(txs[:2], ids[:2], e.p, nil, w); err != nil {
			t.Fatalf("workers %d: %v", w, err)
		}
	}
}

// TestVerifySignaturesLowestIndex puts three different failures at
// consecutive indexes among many good transfers and checks that the lowest
// one is reported whatever the number of workers. The lowest is the slow
// kind (a full verification that fails); the two after it fail fast at
// parsing, so with several workers they are usually found first.
func TestVerifySignaturesLowestIndex(t *testing.T) {
	e := newRTEnv()
	var txs []*types.Tx
	for i := 0; i < 48; i++ {
		txs = append(txs, e.transfer(i%len(e.keys), e.addrs[(i+1)%len(e.keys)], types.Amount(i+1), 1, uint64(i)))
	}
	type fault struct {
		at   int
		kind consensus.ErrorKind
		do   func(tx *types.Tx)
	}
	faults := []fault{
		{9, consensus.ErrBadSignature, func(tx *types.Tx) { tx.Sig[40] ^= 1 }},
		{10, consensus.ErrHighS, rtHighS},
		{11, consensus.ErrBadPubKey, func(tx *types.Tx) { tx.PubKey[0] = 0x04 }},
	}
	for _, f := range faults {
		f.do(txs[f.at])
	}
	ids := rtIDs(txs)
	for _, workers := range []int{1, 2, 3, 8, 48, 100} {
		for rep := 0; rep < 30; rep++ {
			rtExactKind(t, consensus.VerifySignatures(txs, ids, e.p, nil, workers), consensus.ErrBadSignature)
		}
	}
	// With the first fault cached away, the second is the lowest.
	c := newRTCache(ids[9])
	rtExactKind(t, consensus.VerifySignatures(txs, ids, e.p, c, 8), consensus.ErrHighS)
	c = newRTCache(ids[9], ids[10])
	rtExactKind(t, consensus.VerifySignatures(txs, ids, e.p, c, 8), consensus.ErrBadPubKey)
	c = newRTCache(ids[9], ids[10], ids[11])
	if err := consensus.VerifySignatures(txs, ids, e.p, c, 8); err != nil {
		t.Fatalf("all faults cached: %v", err)
	}
	// Every good transaction was verified and added.
	if len(c.additions) != len(txs)-3 {
		t.Fatalf("%d additions, want %d", len(c.additions), len(txs)-3)
	}
}

func TestCheckTxSignatureMapsKinds(t *testing.T) {
	e := newRTEnv()
	tx := e.transfer(2, e.addrs[3], 7, 1, 0)
	if err := consensus.CheckTxSignature(tx, e.p); err != nil {
		t.Fatalf("valid: %v", err)
	}
	// The same transaction is invalid on another network.
	other := rtParams()
	other.GenesisHash = rtOtherHash
	rtExactKind(t, consensus.CheckTxSignature(tx, other), consensus.ErrBadSignature)
	// A coinbase has no signature to check.
	rtExactKind(t, consensus.CheckTxSignature(e.coinbase(1), e.p), consensus.ErrBadSignature)
}
