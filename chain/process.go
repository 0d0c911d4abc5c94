package chain

import (
	"errors"

	"github.com/syndtr/goleveldb/leveldb"

	"github.com/ledger-node/ledger/chain/types"
	"github.com/ledger-node/ledger/consensus"
)

// ProcessResult says what became of a processed block.
type ProcessResult struct {
	Hash types.Hash
	// Orphan: the parent is unknown; the block waits in the orphan pool
	// and MissingParent names the first unknown ancestor to fetch.
	Orphan        bool
	MissingParent types.Hash
	// MainChain: the block is on the main chain after processing.
	MainChain bool
	// Reorg: processing moved the main chain off its previous branch.
	Reorg bool
}

// accepted is a block that passed the checks that need no state and is
// about to be stored: its body and index record wait in batch, so that when
// the block directly extends the tip they are written in the same batch as
// the state it produces.
type accepted struct {
	node     *blockNode
	blk      *types.Block
	txids    []types.Hash
	batch    *leveldb.Batch
	consumed bool // batch was written by connectBlock
}

// ProcessBlock validates a block and, if it leads the chain with the most
// work, makes it the tip, reorganising if needed. Orphans waiting for it
// are processed next. Consensus failures are *consensus.RuleError values;
// a block refused only for a timestamp too far in the future, or whose
// transactions do not match its header, is not remembered as invalid.
func (c *Chain) ProcessBlock(blk *types.Block) (ProcessResult, error) {
	c.processMu.Lock()
	defer c.processMu.Unlock()
	defer c.deliverNotifications(c.tipNode())
	hash := blk.Hash()
	res := ProcessResult{Hash: hash}
	if c.isClosed() {
		return res, chainError(ErrClosed, "chain store is closed")
	}
	if n := c.node(hash); n != nil {
		if c.nodeInvalid(n) {
			return res, chainError(ErrKnownInvalid, "block %s is known to be invalid", hash)
		}
		return res, chainError(ErrDuplicateBlock, "block %s is already stored", hash)
	}
	if c.orphans.has(hash) {
		return res, chainError(ErrDuplicateBlock, "block %s is already waiting for its parent", hash)
	}
	if c.invalid.has(hash) {
		return res, chainError(ErrKnownInvalid, "block %s is known to be invalid", hash)
	}
	if err := consensus.CheckHeaderSanity(&blk.Header, hash, c.params); err != nil {
		// Not remembered: checking proof of work again costs less than
		// remembering every piece of junk would.
		return res, err
	}
	if c.invalid.has(blk.Header.PrevBlock) {
		c.invalid.add(hash)
		return res, chainError(ErrKnownInvalid, "block %s extends an invalid block", hash)
	}
	parent := c.node(blk.Header.PrevBlock)
	if parent == nil {
		res.Orphan = true
		if c.orphans.add(blk, hash, c.clock()) {
			res.MissingParent = c.orphans.missingAncestor(hash)
		} else {
			res.MissingParent = blk.Header.PrevBlock
		}
		return res, nil
	}
	oldTip := c.tipNode()
	if err := c.acceptBlock(blk, hash, parent); err != nil {
		return res, err
	}
	c.processOrphans(hash)
	c.mu.RLock()
	n := c.index[hash]
	res.MainChain = n != nil && int(n.height) < len(c.mainChain) && c.mainChain[n.height] == n
	res.Reorg = int(oldTip.height) >= len(c.mainChain) || c.mainChain[oldTip.height] != oldTip
	c.mu.RUnlock()
	return res, nil
}

// acceptBlock applies the contextual header rules and the block's sanity
// rules, stores it and, if it has the most work, connects it.
func (c *Chain) acceptBlock(blk *types.Block, hash types.Hash, parent *blockNode) error {
	if c.nodeInvalid(parent) {
		c.invalid.add(hash)
		return chainError(ErrKnownInvalid, "block %s extends an invalid block", hash)
	}
	if err := consensus.CheckHeaderContext(&blk.Header, parent, c.params); err != nil {
		c.invalid.add(hash)
		return err
	}
	// Not remembered: the block may become valid once local time catches
	// up.
	if err := consensus.CheckHeaderTime(&blk.Header, uint64(c.clock().Unix()), c.params); err != nil {
		return err
	}
	txids := blk.TxHashes()
	if err := consensus.CheckBlockSanity(blk, txids, c.params); err != nil {
		// A body that does not match its header says nothing of the block
		// the header names; any other failure condemns the header.
		if !consensus.IsBodyMismatch(err) {
			c.invalid.add(hash)
		}
		return err
	}
	node := newBlockNode(&blk.Header, hash, parent)
	c.nextSeq++
	node.seq = c.nextSeq
	acc := &accepted{node: node, blk: blk, txids: txids, batch: new(leveldb.Batch)}
	acc.batch.Put(hashKey(prefixBlock, hash), blk.Encode())
	acc.batch.Put(hashKey(prefixIndex, hash), encodeIndex(node))
	c.mu.Lock()
	c.index[hash] = node
	c.mu.Unlock()

	var activateErr error
	if better(node, c.tipNode()) {
		if node.parent != c.tipNode() {
			// A reorganisation: store the block that justifies it before
			// the first disconnect, so that a crash midway resumes toward
			// it on open instead of stopping at whatever tip was reached.
			if err := c.db.Write(acc.batch, syncWrite); err != nil {
				return err
			}
			acc.batch = new(leveldb.Batch)
		}
		activateErr = c.activateBestChain(node, acc)
	}
	if !acc.consumed {
		c.mu.RLock()
		acc.batch.Put(hashKey(prefixIndex, hash), encodeIndex(node))
		c.mu.RUnlock()
		if err := c.db.Write(acc.batch, syncWrite); err != nil {
			return err
		}
	}
	return activateErr
}

// processOrphans accepts the orphans that descend from parent, breadth
// first. Their failures are logged, not returned: they came from whoever
// sent them, not from the caller.
func (c *Chain) processOrphans(parent types.Hash) {
	queue := []types.Hash{parent}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, o := range c.orphans.takeChildren(p) {
			pn := c.node(p)
			if pn == nil {
				continue
			}
			if err := c.acceptBlock(o.blk, o.hash, pn); err != nil {
				c.log.Debug("orphan block refused", "hash", o.hash, "err", err)
				continue
			}
			queue = append(queue, o.hash)
		}
	}
}

// activateBestChain moves the tip to target, disconnecting to the fork
// point and connecting target's branch. A block that fails validation on
// the way is marked invalid with its descendants, and the best remaining
// chain is activated instead. acc, if not nil, is the block just accepted.
// It returns the first consensus failure met, or a storage error.
func (c *Chain) activateBestChain(target *blockNode, acc *accepted) error {
	var firstRuleErr error
	for target != nil && better(target, c.tipNode()) {
		fork := findFork(c.tipNode(), target)
		for c.tipNode() != fork {
			if err := c.disconnectTip(); err != nil {
				return err
			}
		}
		var path []*blockNode
		for n := target; n != fork; n = n.parent {
			path = append(path, n)
		}
		reached := true
		for i := len(path) - 1; i >= 0; i-- {
			n := path[i]
			err := c.connectNode(n, acc)
			if err == nil {
				continue
			}
			var re *consensus.RuleError
			if !errors.As(err, &re) {
				return err
			}
			c.log.Warn("block failed validation", "hash", n.hash, "height", n.height, "err", err)
			if firstRuleErr == nil {
				firstRuleErr = err
			}
			if err := c.markInvalid(n); err != nil {
				return err
			}
			target, reached = c.bestCandidate(), false
			break
		}
		if reached {
			break
		}
	}
	return firstRuleErr
}

// connectNode connects n, the child of the tip, loading its body unless it
// is the block just accepted.
func (c *Chain) connectNode(n *blockNode, acc *accepted) error {
	if acc != nil && n == acc.node {
		err := c.connectBlock(n, acc.blk, acc.txids, acc.batch)
		acc.consumed = err == nil
		return err
	}
	blk, err := c.loadBlock(n.hash)
	if err != nil {
		return err
	}
	return c.connectBlock(n, blk, blk.TxHashes(), new(leveldb.Batch))
}

// bestCandidate returns the valid block with the most work. On a tie the
// tip stays; among other blocks of equal work the first stored wins, so
// the choice does not depend on map order and a store that crashed picks
// what one that did not would have.
func (c *Chain) bestCandidate() *blockNode {
	c.mu.RLock()
	defer c.mu.RUnlock()
	tip := c.mainChain[len(c.mainChain)-1]
	best := tip
	for _, n := range c.index {
		if n.isInvalid() {
			continue
		}
		switch cmp := n.work.Cmp(best.work); {
		case cmp > 0, cmp == 0 && best != tip && n.seq < best.seq:
			best = n
		}
	}
	return best
}

// markInvalid flags n invalid and its descendants as having an invalid
// ancestor, in memory and on disk.
func (c *Chain) markInvalid(n *blockNode) error {
	batch := new(leveldb.Batch)
	c.mu.Lock()
	n.status |= statusInvalid
	batch.Put(hashKey(prefixIndex, n.hash), encodeIndex(n))
	for _, m := range c.index {
		if m.height > n.height && m.ancestor(n.height) == n && m.status&statusInvalidAncestor == 0 {
			m.status |= statusInvalidAncestor
			batch.Put(hashKey(prefixIndex, m.hash), encodeIndex(m))
		}
	}
	c.mu.Unlock()
	return c.db.Write(batch, syncWrite)
}

func (c *Chain) nodeInvalid(n *blockNode) bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return n.isInvalid()
}

func (c *Chain) isClosed() bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.closed
}

// loadBlock reads a stored block body.
func (c *Chain) loadBlock(hash types.Hash) (*types.Block, error) {
	v, err := c.db.Get(hashKey(prefixBlock, hash), nil)
	if err != nil {
		if errors.Is(err, leveldb.ErrNotFound) {
			return nil, corrupt("body of indexed block %s is missing", hash)
		}
		return nil, c.readErr(err)
	}
	blk, err := types.DecodeBlock(v)
	if err != nil {
		return nil, corrupt("body of block %s: %v", hash, err)
	}
	return blk, nil
}
