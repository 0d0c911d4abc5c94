package chain

import "github.com/ledger-node/ledger/chain/types"

// NotificationType says what happened to the chain.
type NotificationType int

const (
	// BlockConnected: Block became the tip.
	BlockConnected NotificationType = iota
	// BlockDisconnected: Block left the main chain; its parent is the tip.
	BlockDisconnected
	// Reorganized: the main chain moved off its previous branch. Sent
	// after the BlockDisconnected and BlockConnected notifications of the
	// switch, with OldTip, Fork and the new tip (Hash, Height).
	Reorganized
)

// String names the type.
func (t NotificationType) String() string {
	switch t {
	case BlockConnected:
		return "BlockConnected"
	case BlockDisconnected:
		return "BlockDisconnected"
	case Reorganized:
		return "Reorganized"
	}
	return "unknown"
}

// Notification reports one change of the main chain.
type Notification struct {
	Type   NotificationType
	Block  *types.Block // BlockConnected, BlockDisconnected
	Hash   types.Hash   // the block, or the new tip for Reorganized
	Height uint32
	OldTip types.Hash // Reorganized
	Fork   types.Hash // Reorganized: the last common block
}

// Subscribe registers fn to be called for every notification, in order,
// after the change is durable. fn runs on the goroutine that changed the
// chain, while no other change can start: it must return quickly and must
// not call methods that change the chain (ProcessBlock, InvalidateBlock,
// ReconsiderBlock). Read methods are fine.
func (c *Chain) Subscribe(fn func(Notification)) {
	c.subMu.Lock()
	defer c.subMu.Unlock()
	c.subscribers = append(c.subscribers, fn)
}

// deliverNotifications ends an operation that began at tip oldTip: if the
// main chain left oldTip's branch, a Reorganized notification follows the
// operation's own, and all go to the subscribers. Called with processMu
// held.
func (c *Chain) deliverNotifications(oldTip *blockNode) {
	if newTip := c.tipNode(); oldTip != nil && findFork(oldTip, newTip) != oldTip {
		c.pending = append(c.pending, Notification{
			Type: Reorganized, Hash: newTip.hash, Height: newTip.height,
			OldTip: oldTip.hash, Fork: findFork(oldTip, newTip).hash,
		})
	}
	if len(c.pending) == 0 {
		return
	}
	pending := c.pending
	c.pending = nil
	c.subMu.Lock()
	subs := append([]func(Notification){}, c.subscribers...)
	c.subMu.Unlock()
	for _, n := range pending {
		for _, fn := range subs {
			fn(n)
		}
	}
}
