package chain

import (
	"errors"

	"github.com/syndtr/goleveldb/leveldb"

	"github.com/ledger-node/ledger/chain/types"
	"github.com/ledger-node/ledger/consensus"
)

// HaveBlock reports whether the block is stored or waiting as an orphan.
func (c *Chain) HaveBlock(hash types.Hash) bool {
	return c.node(hash) != nil || c.orphans.has(hash)
}

// IsKnownInvalid reports whether the block or an ancestor failed validation.
func (c *Chain) IsKnownInvalid(hash types.Hash) bool {
	if c.invalid.has(hash) {
		return true
	}
	n := c.node(hash)
	return n != nil && c.nodeInvalid(n)
}

// IsMainChain reports whether the block is on the main chain.
func (c *Chain) IsMainChain(hash types.Hash) bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	n := c.index[hash]
	return n != nil && int(n.height) < len(c.mainChain) && c.mainChain[n.height] == n
}

// HashAtHeight returns the main-chain block hash at height.
func (c *Chain) HashAtHeight(height uint32) (types.Hash, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if int64(height) >= int64(len(c.mainChain)) {
		return types.Hash{}, chainError(ErrUnknownBlock, "no main-chain block at height %d", height)
	}
	return c.mainChain[height].hash, nil
}

// HeaderByHash returns a stored block's header and height.
func (c *Chain) HeaderByHash(hash types.Hash) (types.Header, error) {
	n := c.node(hash)
	if n == nil {
		return types.Header{}, chainError(ErrUnknownBlock, "unknown block %s", hash)
	}
	return n.header, nil
}

// BlockByHash returns a stored block, main chain or not.
func (c *Chain) BlockByHash(hash types.Hash) (*types.Block, error) {
	if c.node(hash) == nil {
		return nil, chainError(ErrUnknownBlock, "unknown block %s", hash)
	}
	return c.loadBlock(hash)
}

// BlockByHeight returns the main-chain block at height.
func (c *Chain) BlockByHeight(height uint32) (*types.Block, error) {
	hash, err := c.HashAtHeight(height)
	if err != nil {
		return nil, err
	}
	return c.loadBlock(hash)
}

// Account returns an address's state at the tip; a never-used address
// reads as the zero Account.
func (c *Chain) Account(addr types.Address) (consensus.Account, error) {
	return dbView{c.db}.Account(addr)
}

// TxLocation returns where a main-chain transaction sits. ok is false if
// the transaction is not on the main chain.
func (c *Chain) TxLocation(txid types.Hash) (loc TxLocation, ok bool, err error) {
	v, err := c.db.Get(hashKey(prefixTx, txid), nil)
	if errors.Is(err, leveldb.ErrNotFound) {
		return loc, false, nil
	}
	if err != nil {
		return loc, false, c.readErr(err)
	}
	loc, err = decodeTxLoc(v)
	return loc, err == nil, err
}

// Transaction returns a main-chain transaction, its location and its
// block's hash. ok is false if it is not on the main chain.
func (c *Chain) Transaction(txid types.Hash) (tx *types.Tx, loc TxLocation, block types.Hash, ok bool, err error) {
	loc, ok, err = c.TxLocation(txid)
	if !ok || err != nil {
		return nil, loc, block, false, err
	}
	block, err = c.HashAtHeight(loc.Height)
	if err != nil {
		// The block was disconnected between the two reads.
		return nil, loc, block, false, nil
	}
	blk, err := c.loadBlock(block)
	if err != nil {
		return nil, loc, block, false, err
	}
	if int(loc.Index) >= len(blk.Txs) || blk.Txs[loc.Index].Hash() != txid {
		return nil, loc, block, false, nil
	}
	return blk.Txs[loc.Index], loc, block, true, nil
}

// Locator returns main-chain hashes from the tip back to genesis, dense
// for the last ten blocks and then at doubling distances, so that a peer
// can find the last block we share with it in O(log n) hashes.
func (c *Chain) Locator() []types.Hash {
	c.mu.RLock()
	defer c.mu.RUnlock()
	var out []types.Hash
	step := 1
	for h := len(c.mainChain) - 1; h >= 0; h -= step {
		out = append(out, c.mainChain[h].hash)
		if len(out) >= 10 {
			step *= 2
		}
		if h > 0 && h-step < 0 {
			h = step // next iteration lands on genesis
		}
	}
	return out
}

// OrphanCount returns the number of blocks waiting for their parent.
func (c *Chain) OrphanCount() int { return c.orphans.len() }
