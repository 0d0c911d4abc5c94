package chain

import (
	"errors"
	"math/big"
	"time"

	"github.com/syndtr/goleveldb/leveldb"
	"github.com/syndtr/goleveldb/leveldb/opt"

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

// ProcessBlock validates a block and, if it leads the chain with the most
// work, makes it the tip, reorganising if needed. Orphans waiting for it
// are processed next. Consensus failures are *consensus.RuleError values;
// a block refused only for a timestamp too far in the future, or whose
// transactions do not match its header, is not remembered as invalid.
//
// A side-chain block whose branch has much less work than the tip (more
// than Config.MaxForkDeficit blocks' worth) is refused with
// ErrInsufficientWork and not stored: otherwise anyone could fork from old
// history, where ASERT makes blocks nearly free, and fill the disk. Sync,
// which fetches only blocks of a header chain with more work than the tip,
// uses ProcessRequestedBlock instead.
func (c *Chain) ProcessBlock(blk *types.Block) (ProcessResult, error) {
	return c.processBlock(blk, false)
}

// ProcessRequestedBlock is ProcessBlock for a block the caller asked a
// peer for because it belongs to a validated header chain with more work
// than the tip: the fork-deficit rule does not apply.
func (c *Chain) ProcessRequestedBlock(blk *types.Block) (ProcessResult, error) {
	return c.processBlock(blk, true)
}

func (c *Chain) processBlock(blk *types.Block, requested bool) (result ProcessResult, resultErr error) {
	var elapsed time.Duration
	if obs := c.cfg.Observer; obs != nil {
		// Deferred first, so it runs last: after the unlock and the
		// notifications.
		defer func() { obs.BlockProcessed(result, resultErr, elapsed) }()
	}
	c.processMu.Lock()
	defer c.processMu.Unlock()
	defer c.deliverNotifications(c.tipNode())
	start := time.Now() // see Observer: a measurement, not Config.Clock
	defer func() { elapsed = time.Since(start) }()
	hash := blk.Hash()
	res := ProcessResult{Hash: hash}
	if err := c.checkUsable(); err != nil {
		return res, err
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
		// The body is checked before pooling: a malleated body with an
		// honest header would otherwise hold the honest block's place.
		if err := consensus.CheckBlockSanity(blk, blk.TxHashes(), c.params); err != nil {
			if !consensus.IsBodyMismatch(err) {
				c.invalid.add(hash)
			}
			return res, err
		}
		res.Orphan = true
		if c.orphans.add(blk, hash, c.clock()) {
			res.MissingParent = c.orphans.missingAncestor(hash)
		} else {
			res.MissingParent = blk.Header.PrevBlock
		}
		return res, nil
	}
	oldTip := c.tipNode()
	if err := c.acceptBlock(blk, hash, parent, requested); err != nil {
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
func (c *Chain) acceptBlock(blk *types.Block, hash types.Hash, parent *blockNode, requested bool) error {
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
	if node.parent == c.tipNode() {
		// The common case, a child of the tip (it has more work): body,
		// index record and new state go in one synced batch.
		err := c.connectBlock(node, blk, txids, true)
		if isRuleError(err) {
			c.invalid.add(hash)
		}
		return err
	}
	if !requested {
		if err := c.checkForkDeficit(node); err != nil {
			return err
		}
	}
	// A side-chain block, stored first. If it leads to a reorganisation,
	// the write is synced before the first disconnect, so that a crash
	// midway resumes toward it on open.
	reorg := better(node, c.tipNode())
	batch := new(leveldb.Batch)
	batch.Put(hashKey(prefixBlock, hash), blk.Encode())
	batch.Put(hashKey(prefixIndex, hash), encodeIndex(node))
	wo := &opt.WriteOptions{Sync: reorg}
	if err := c.db.Write(batch, wo); err != nil {
		return c.fail(err)
	}
	c.mu.Lock()
	c.addToIndex(node)
	c.mu.Unlock()
	if reorg {
		return c.activateBestChain(node, &checkedBody{blk: blk, txids: txids})
	}
	return nil
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
			if err := c.acceptBlock(o.blk, o.hash, pn, false); err != nil {
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
// chain is activated instead. body, if not nil, is target's, already in
// memory. It returns the first consensus failure met, or a storage error
// (after which the store refuses changes until reopened).
func (c *Chain) activateBestChain(target *blockNode, body *checkedBody) error {
	var firstRuleErr error
	for target != nil && better(target, c.tipNode()) {
		fork := findFork(c.tipNode(), target)
		for c.tipNode() != fork {
			if err := c.disconnectTip(); err != nil {
				return c.fail(err)
			}
		}
		var path []*blockNode
		for n := target; n != fork; n = n.parent {
			path = append(path, n)
		}
		reached := true
		for i := len(path) - 1; i >= 0; i-- {
			n := path[i]
			var nb *checkedBody
			if n == target {
				nb = body
			}
			err := c.connectNode(n, nb)
			if err == nil {
				continue
			}
			if !isRuleError(err) {
				return c.fail(err)
			}
			c.log.Warn("block failed validation", "hash", n.hash, "height", n.height, "err", err)
			if firstRuleErr == nil {
				firstRuleErr = err
			}
			if err := c.markInvalid(n); err != nil {
				return c.fail(err)
			}
			target, reached = c.bestCandidate(), false
			body = nil // it was the old target's
			break
		}
		if reached {
			break
		}
	}
	return firstRuleErr
}

// checkedBody is a block body that passed CheckBlockSanity in acceptBlock
// just now, with its transaction ids, so that connecting it hashes
// nothing again.
type checkedBody struct {
	blk   *types.Block
	txids []types.Hash
}

// connectNode connects n, the child of the tip, loading its body from disk
// unless body is given.
func (c *Chain) connectNode(n *blockNode, body *checkedBody) error {
	if body != nil {
		return c.connectBlock(n, body.blk, body.txids, false)
	}
	blk, err := c.loadBlock(n.hash)
	if err != nil {
		return err
	}
	// A body swapped or damaged on disk must not condemn the block.
	txids := blk.TxHashes()
	if blk.Hash() != n.hash || types.MerkleRoot(txids) != n.header.TxRoot {
		return corrupt("stored body of block %s does not match its header", n.hash)
	}
	return c.connectBlock(n, blk, txids, false)
}

func isRuleError(err error) bool {
	var re *consensus.RuleError
	return errors.As(err, &re)
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

// restoreBestValidChain moves the tip off a block marked invalid (where
// InvalidateBlock, or a crash between marking and disconnecting, leaves
// it) and onto the best valid chain, resuming any interrupted switch.
func (c *Chain) restoreBestValidChain() error {
	for c.nodeInvalid(c.tipNode()) {
		if err := c.disconnectTip(); err != nil {
			return c.fail(err)
		}
	}
	if best := c.bestCandidate(); best != c.tipNode() {
		c.log.Info("switching to the best valid chain", "tip", c.tipNode().height, "best", best.height)
		return c.activateBestChain(best, nil)
	}
	return nil
}

// markInvalid flags n invalid and its descendants as having an invalid
// ancestor, in memory and on disk.
func (c *Chain) markInvalid(n *blockNode) error {
	batch := new(leveldb.Batch)
	c.mu.Lock()
	n.status |= statusInvalid
	walkSubtree(n, func(m *blockNode) {
		if m != n && m.status&statusInvalidAncestor == 0 {
			m.status |= statusInvalidAncestor
		}
		batch.Put(hashKey(prefixIndex, m.hash), encodeIndex(m))
	})
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

// checkForkDeficit refuses to store a side-chain block from a stranger
// (sync asks for blocks through ProcessRequestedBlock instead) when its
// branch is more than MaxForkDeficit tip-blocks' worth of work behind the
// tip, or when the block itself is more than minSideBlockWorkRatio times
// easier than the tip. ASERT makes blocks nearly free on a branch whose
// timestamps run far ahead of its height (a fork from old history stamped
// with today's time); without these limits such blocks could fill the disk
// for the cost of a few hashes each. An honest fork's difficulty stays
// close to the tip's: it takes four half-lives off schedule to drift 16x.
func (c *Chain) checkForkDeficit(n *blockNode) error {
	tip := c.tipNode()
	tipWork := consensus.CalcWork(tip.header.Bits)
	allowance := new(big.Int).Mul(tipWork, big.NewInt(int64(c.cfg.MaxForkDeficit)))
	if allowance.Add(allowance, n.work).Cmp(tip.work) < 0 {
		return chainError(ErrInsufficientWork,
			"block %s at height %d is on a branch with far less work than the tip (height %d): not stored",
			n.hash, n.height, tip.height)
	}
	own := consensus.CalcWork(n.header.Bits)
	if own.Mul(own, big.NewInt(minSideBlockWorkRatio)).Cmp(tipWork) < 0 {
		return chainError(ErrInsufficientWork,
			"side-chain block %s is more than %dx easier than the tip: not stored", n.hash, minSideBlockWorkRatio)
	}
	return nil
}

// minSideBlockWorkRatio: see checkForkDeficit.
const minSideBlockWorkRatio = 16
