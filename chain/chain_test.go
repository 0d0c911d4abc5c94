package chain

import (
	"testing"

	"github.com/ledger-node/ledger/chain/types"
	"github.com/ledger-node/ledger/internal/chaingen"
)

func TestConnectTransfers(t *testing.T) {
	g := chaingen.New(chaingen.Options{Accounts: 5})
	c := openTestChain(t, g, "")
	parent := g.Genesis.Hash
	var sent []types.Hash
	for h := 0; h < 20; h++ {
		var txs []*types.Tx
		for i := 0; i < 5; i++ {
			tx := g.Transfer(i, g.Addrs[(i+1)%5], types.Amount(1000+h), 10, g.Nonce(parent, g.Addrs[i]))
			txs = append(txs, tx)
			sent = append(sent, tx.Hash())
		}
		b := g.MustBlock(parent, txs)
		res, err := c.ProcessBlock(b)
		if err != nil {
			t.Fatal(err)
		}
		if !res.MainChain || res.Reorg || res.Orphan {
			t.Fatalf("result %+v", res)
		}
		parent = b.Hash()
	}
	checkState(t, c, g, parent)
	for _, id := range sent {
		tx, _, _, ok, err := c.Transaction(id)
		if err != nil || !ok || tx.Hash() != id {
			t.Fatalf("tx %s: ok=%v err=%v", id, ok, err)
		}
	}
}
