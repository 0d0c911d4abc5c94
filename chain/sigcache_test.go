package chain

import (
	"errors"
	"testing"

	"github.com/ledger-node/ledger/chain/types"
	"github.com/ledger-node/ledger/consensus"
	"github.com/ledger-node/ledger/internal/chaingen"
)

// TestKeyCache: keys parsed through the cache equal a fresh parse, bad
// keys are refused with ErrBadPubKey and not remembered, the cache stays
// within its bound, and a bad signature still fails with a cached key.
func TestKeyCache(t *testing.T) {
	c := NewSigCache(16)
	var _ consensus.KeyCache = c
	g := chaingen.New(chaingen.Options{Accounts: 3})
	tx := g.Transfer(0, g.Addrs[1], 5, 200, 0)
	want, err := types.ParsePubKey(&tx.PubKey)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		got, err := c.ParsePubKey(&tx.PubKey)
		if err != nil || !got.IsEqual(want) {
			t.Fatalf("parse %d through the cache: %v", i, err)
		}
	}
	bad := tx.PubKey
	bad[0] = 0x05
	if _, err := c.ParsePubKey(&bad); !errors.Is(err, types.ErrBadPubKey) {
		t.Fatalf("bad key: %v", err)
	}
	for i := range c.keys {
		if _, ok := c.keys[i].keys[bad]; ok {
			t.Fatal("a bad key was remembered")
		}
	}
	for i := range c.keys {
		c.keys[i].max = 4 // small, so 200 keys overfill every shard
	}
	for i := 0; i < 200; i++ {
		k := chaingen.Key("keycache", i)
		var raw [types.PubKeySize]byte
		copy(raw[:], k.PubKey().SerializeCompressed())
		if _, err := c.ParsePubKey(&raw); err != nil {
			t.Fatal(err)
		}
	}
	for i := range c.keys {
		if n := len(c.keys[i].keys); n > c.keys[i].max {
			t.Fatalf("key shard %d holds %d, bound %d", i, n, c.keys[i].max)
		}
	}
	// The key is cached; a forged signature must still fail.
	forged := *tx
	forged.Amount++
	err = consensus.VerifySignatures([]*types.Tx{&forged}, []types.Hash{forged.Hash()}, g.Params, c, 1)
	if !errors.Is(err, consensus.ErrBadSignature) {
		t.Fatalf("forged transaction with a cached key: %v", err)
	}
	if err := consensus.VerifySignatures([]*types.Tx{tx}, []types.Hash{tx.Hash()}, g.Params, c, 1); err != nil {
		t.Fatalf("honest transaction: %v", err)
	}
}
