package chain

import (
	"math/big"

	"github.com/ledger-node/ledger/chain/types"
	"github.com/ledger-node/ledger/consensus"
)

// blockStatus records what is known of a block. The low bits are persisted
// in its index record.
type blockStatus uint8

const (
	// statusValid: the block was connected to the main chain once, so it
	// passed full validation.
	statusValid blockStatus = 1 << iota
	// statusInvalid: the block itself failed validation.
	statusInvalid
	// statusInvalidAncestor: an ancestor failed validation.
	statusInvalidAncestor

	statusPersisted  = statusValid | statusInvalid | statusInvalidAncestor
	statusAnyInvalid = statusInvalid | statusInvalidAncestor
)

// blockNode is a stored block in the in-memory index. Every stored block
// has a node and every node's body is stored. Fields other than status are
// immutable; status is guarded by Chain.mu.
type blockNode struct {
	hash   types.Hash
	header types.Header
	parent *blockNode
	height uint32
	// work is the cumulative work of the chain ending here.
	work *big.Int
	// anchorTime is the timestamp of block 1 on this chain (0 for genesis).
	anchorTime uint64
	// children are the stored blocks whose parent this is; guarded by
	// Chain.mu (appended when a child joins the index).
	children []*blockNode
	// seq orders blocks by when they were stored (by height, then hash,
	// for blocks loaded at start): the first seen wins ties of work.
	seq uint64
	// status is guarded by Chain.mu.
	status blockStatus
}

// Hash implements consensus.HeaderContext.
func (n *blockNode) Hash() types.Hash { return n.hash }

// Height implements consensus.HeaderContext.
func (n *blockNode) Height() uint32 { return n.height }

// Timestamp implements consensus.HeaderContext.
func (n *blockNode) Timestamp() uint64 { return n.header.Time }

// MedianTimePast implements consensus.HeaderContext: the median of the
// timestamps of this block and up to MedianTimeBlocks-1 ancestors.
func (n *blockNode) MedianTimePast() uint64 {
	var ts [consensus.MedianTimeBlocks]uint64
	k := 0
	for it := n; it != nil && k < len(ts); it = it.parent {
		ts[k] = it.header.Time
		k++
	}
	return consensus.MedianTime(ts[:k])
}

// AnchorTime implements consensus.HeaderContext.
func (n *blockNode) AnchorTime() uint64 { return n.anchorTime }

// ancestor returns the ancestor at height, or nil.
func (n *blockNode) ancestor(height uint32) *blockNode {
	if height > n.height {
		return nil
	}
	it := n
	for it != nil && it.height > height {
		it = it.parent
	}
	return it
}

// isInvalid reports whether the node or an ancestor is known invalid.
func (n *blockNode) isInvalid() bool { return n.status&statusAnyInvalid != 0 }

func newBlockNode(h *types.Header, hash types.Hash, parent *blockNode) *blockNode {
	n := &blockNode{hash: hash, header: *h, parent: parent, height: h.Height}
	work := consensus.CalcWork(h.Bits)
	if parent != nil {
		work.Add(work, parent.work)
	}
	n.work = work
	switch {
	case h.Height == 1:
		n.anchorTime = h.Time
	case parent != nil:
		n.anchorTime = parent.anchorTime
	}
	return n
}

// findFork returns the last common ancestor of a and b.
func findFork(a, b *blockNode) *blockNode {
	for a.height > b.height {
		a = a.parent
	}
	for b.height > a.height {
		b = b.parent
	}
	for a != b {
		a, b = a.parent, b.parent
	}
	return a
}

// better reports whether candidate should replace current as the best
// chain: strictly more work. On equal work the first seen stays.
func better(candidate, current *blockNode) bool {
	return candidate.work.Cmp(current.work) > 0
}

// addToIndex makes n a stored block: in the index and among its parent's
// children. Called with Chain.mu held.
func (c *Chain) addToIndex(n *blockNode) {
	c.index[n.hash] = n
	if n.parent != nil {
		n.parent.children = append(n.parent.children, n)
	}
}

// walkSubtree calls fn for n and every stored descendant, depth first,
// without recursion (a long chain must not exhaust the stack). Called with
// Chain.mu held.
func walkSubtree(n *blockNode, fn func(*blockNode)) {
	stack := []*blockNode{n}
	for len(stack) > 0 {
		m := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		fn(m)
		stack = append(stack, m.children...)
	}
}
