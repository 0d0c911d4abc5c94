package chain

import (
	"errors"

	"github.com/syndtr/goleveldb/leveldb"

	"github.com/ledger-node/ledger/chain/types"
	"github.com/ledger-node/ledger/consensus"
)

// dbView reads accounts straight from the database: the state at the tip.
type dbView struct{ db *leveldb.DB }

// Account implements consensus.AccountReader.
func (v dbView) Account(addr types.Address) (consensus.Account, error) {
	val, err := v.db.Get(accountKey(addr), nil)
	if errors.Is(err, leveldb.ErrNotFound) {
		return consensus.Account{}, nil
	}
	if err != nil {
		return consensus.Account{}, err
	}
	return decodeAccount(val)
}

// connectBlock fully validates blk, the child of the tip, and makes it the
// tip: signatures in parallel (skipping those the cache knows) while the
// state transition runs, then one synced batch holding the new accounts,
// the transaction index, the undo data, the main-chain record, the index
// record and the tip marker — and, with storeBody, the block itself, which
// then joins the index. Memory changes only after the write succeeded.
func (c *Chain) connectBlock(n *blockNode, blk *types.Block, txids []types.Hash, storeBody bool) error {
	if n.parent != c.tipNode() {
		return corrupt("connecting block %s whose parent is not the tip", n.hash)
	}
	// The state transition, and the batch that stores it, do not depend
	// on the signatures: they are prepared while the signatures are
	// verified, or one core would idle through them.
	c.mu.RLock()
	parentCommitment := c.commitment
	idx := encodeIndex(n)
	c.mu.RUnlock()
	idx[types.HeaderSize] |= byte(statusValid)
	type prepared struct {
		delta *consensus.StateDelta
		batch *leveldb.Batch
		err   error
	}
	done := make(chan prepared, 1)
	go func() {
		d, err := consensus.ApplyBlock(dbView{c.db}, &parentCommitment, blk, c.params)
		if err != nil {
			done <- prepared{err: err}
			return
		}
		done <- prepared{delta: d, batch: c.connectBatch(n, blk, txids, d, idx, storeBody)}
	}()
	sigErr := consensus.VerifySignatures(blk.Txs, txids, c.params, c.sigs, c.cfg.VerifyWorkers)
	res := <-done
	// A bad signature condemns the block whatever the state says; report
	// it first so the reason is the same on every node.
	if sigErr != nil {
		return sigErr
	}
	if res.err != nil {
		return res.err
	}
	delta, batch := res.delta, res.batch
	if err := c.writeState(batch); err != nil {
		return c.fail(err)
	}
	c.mu.Lock()
	if storeBody {
		c.addToIndex(n)
	}
	n.status |= statusValid
	c.mainChain = append(c.mainChain, n)
	c.commitment = delta.Commitment
	c.mu.Unlock()
	c.pending = append(c.pending, Notification{Type: BlockConnected, Block: blk, Hash: n.hash, Height: n.height})
	return nil
}

// connectBatch holds everything connecting n writes: the body (with
// storeBody), accounts, transaction index, address index and its
// completeness marker naming n (unless NoAddressIndex), undo data,
// main-chain record, index record (idx) and the tip marker with the new
// commitment.
func (c *Chain) connectBatch(n *blockNode, blk *types.Block, txids []types.Hash, delta *consensus.StateDelta, idx []byte, storeBody bool) *leveldb.Batch {
	batch := new(leveldb.Batch)
	if storeBody {
		batch.Put(hashKey(prefixBlock, n.hash), blk.Encode())
	}
	for _, ch := range delta.Changes {
		if ch.After.IsEmpty() {
			batch.Delete(accountKey(ch.Addr))
		} else {
			batch.Put(accountKey(ch.Addr), encodeAccount(ch.After))
		}
	}
	for i, id := range txids {
		batch.Put(hashKey(prefixTx, id), encodeTxLoc(TxLocation{Height: n.height, Index: uint32(i)}))
	}
	if !c.cfg.NoAddressIndex {
		indexAddresses(batch, blk, n.height, false)
		batch.Put([]byte{addrIndexReadyKey}, addrIndexMarker(n.hash))
	}
	batch.Put(hashKey(prefixUndo, n.hash), encodeUndo(delta.Changes))
	batch.Put(heightKey(n.height), n.hash[:])
	batch.Put(hashKey(prefixIndex, n.hash), idx)
	batch.Put([]byte{prefixTip}, encodeTip(n.hash, &delta.Commitment))
	return batch
}

// disconnectTip undoes the tip block with its undo data and makes its
// parent the tip, in one synced batch. The recomputed commitment must
// match the parent's state root; if not, the database is corrupt.
func (c *Chain) disconnectTip() error {
	n := c.tipNode()
	if n.parent == nil {
		return corrupt("asked to disconnect the genesis block")
	}
	blk, err := c.loadBlock(n.hash)
	if err != nil {
		return err
	}
	raw, err := c.db.Get(hashKey(prefixUndo, n.hash), nil)
	if err != nil {
		if errors.Is(err, leveldb.ErrNotFound) {
			return corrupt("undo data of main-chain block %s is missing", n.hash)
		}
		return c.readErr(err)
	}
	undo, err := decodeUndo(raw)
	if err != nil {
		return err
	}
	batch := new(leveldb.Batch)
	view := dbView{c.db}
	reverse := make([]consensus.AccountChange, len(undo))
	for i, u := range undo {
		now, err := view.Account(u.Addr)
		if err != nil {
			return err
		}
		reverse[i] = consensus.AccountChange{Addr: u.Addr, Before: now, After: u.Before}
		if u.Before.IsEmpty() {
			batch.Delete(accountKey(u.Addr))
		} else {
			batch.Put(accountKey(u.Addr), encodeAccount(u.Before))
		}
	}
	c.mu.RLock()
	current := c.commitment
	c.mu.RUnlock()
	restored := consensus.UpdateCommitment(&current, reverse)
	if root := types.Hash(restored.Sum()); root != n.parent.header.StateRoot {
		return corrupt("undoing block %s gives state root %s, its parent says %s", n.hash, root, n.parent.header.StateRoot)
	}
	for _, tx := range blk.Txs {
		batch.Delete(hashKey(prefixTx, tx.Hash()))
	}
	if !c.cfg.NoAddressIndex {
		indexAddresses(batch, blk, n.height, true)
		batch.Put([]byte{addrIndexReadyKey}, addrIndexMarker(n.parent.hash))
	}
	batch.Delete(hashKey(prefixUndo, n.hash))
	batch.Delete(heightKey(n.height))
	batch.Put([]byte{prefixTip}, encodeTip(n.parent.hash, &restored))
	if err := c.writeState(batch); err != nil {
		return c.fail(err)
	}
	c.mu.Lock()
	c.mainChain = c.mainChain[:len(c.mainChain)-1]
	c.commitment = restored
	c.mu.Unlock()
	c.pending = append(c.pending, Notification{Type: BlockDisconnected, Block: blk, Hash: n.hash, Height: n.height})
	return nil
}
