package mempool

import (
	"errors"
	"sort"
	"time"

	"github.com/ledger-node/ledger/chain"
	"github.com/ledger-node/ledger/chain/types"
	"github.com/ledger-node/ledger/consensus"
)

// onChain is the chain's notification handler. It runs on the chain's
// goroutine while no other chain change can start, so it only queues the
// notification and wakes the pool's goroutine: re-validating senders means
// reading accounts, and re-admitting a disconnected block's transactions
// may mean verifying signatures, neither of which the chain should wait
// for. Readers that need the pool up to date with the chain call Sync.
func (p *Pool) onChain(n chain.Notification) {
	if n.Type == chain.Reorganized || p.stopped.Load() {
		return // the disconnect and connect notifications carry the work
	}
	p.evMu.Lock()
	p.events = append(p.events, n)
	p.evMu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// loop applies chain notifications as they are queued and sweeps expired
// transactions every expiry interval: admissions and connected blocks
// sweep too, but a quiet node has neither, and nothing else would hold
// the pool to MaxAge.
func (p *Pool) loop() {
	defer close(p.done)
	sweep := time.NewTicker(max(p.expiryInterval(), time.Millisecond))
	defer sweep.Stop()
	for {
		select {
		case <-p.quit:
			return
		case <-p.wake:
			if err := p.drain(); err != nil {
				p.log.Warn("mempool: applying chain changes failed", "err", err)
			}
		case <-sweep.C:
			p.mu.Lock()
			if !p.closed {
				p.expireLocked(p.clock(), false)
			}
			p.mu.Unlock()
		}
	}
}

// Sync applies every chain notification received so far before returning:
// afterwards the pool is valid against a tip at least as new as the last
// notified one. Template builders and tests call it.
func (p *Pool) Sync() error { return p.drain() }

// minedAt locates a block transaction.
type minedAt struct {
	block  types.Hash
	height uint32
}

// drain applies queued chain notifications, oldest first, in one pass:
// transactions of connected blocks leave the pool as mined, senders and
// recipients the blocks touched are re-read from a new snapshot and their
// transactions re-validated (used nonces and unpaid transfers dropped as
// invalidated, later nonces queued), and the transactions of disconnected
// blocks that the new branch does not carry go back through admission.
func (p *Pool) drain() error {
	p.drainMu.Lock()
	defer p.drainMu.Unlock()
	p.evMu.Lock()
	evs := p.events
	p.events = nil
	p.evMu.Unlock()
	if len(evs) == 0 {
		return nil
	}
	p.mu.Lock()
	closed := p.closed
	p.mu.Unlock()
	if closed {
		return nil
	}

	mined := map[types.Hash]minedAt{}
	touched := map[types.Address]struct{}{}
	var back []*types.Tx
	for _, ev := range evs {
		blk := ev.Block
		if blk == nil || len(blk.Txs) == 0 {
			continue
		}
		touched[blk.Txs[0].To] = struct{}{}
		for _, tx := range blk.Txs[1:] {
			touched[tx.Sender()] = struct{}{}
			touched[tx.To] = struct{}{}
			id := tx.Hash()
			if ev.Type == chain.BlockConnected {
				mined[id] = minedAt{ev.Hash, ev.Height}
			} else {
				delete(mined, id)
				back = append(back, tx)
			}
		}
	}

	snap, err := p.chain.StateSnapshot()
	if err != nil {
		p.requeue(evs)
		return err
	}
	nv := newView(snap)

	// Read the accounts of touched senders outside the lock. Senders that
	// appear meanwhile are read under it below.
	p.mu.Lock()
	var addrs []types.Address
	for a := range touched {
		if p.senders[a] != nil {
			addrs = append(addrs, a)
		}
	}
	p.mu.Unlock()
	accts := make(map[types.Address]consensus.Account, len(addrs))
	for _, a := range addrs {
		acct, err := snap.Account(a)
		if err != nil {
			nv.release()
			p.requeue(evs)
			return err
		}
		accts[a] = acct
	}

	// Candidates to put back: not carried by the new branch, in nonce
	// order per sender (disconnects arrive tip first, so block order alone
	// would put later nonces first). Signatures were checked when the
	// blocks connected and are normally cached; the rest are verified here,
	// outside the lock.
	var txs []*types.Tx
	seen := map[types.Hash]bool{}
	for _, tx := range back {
		id := tx.Hash()
		if _, ok := mined[id]; ok || seen[id] {
			continue
		}
		seen[id] = true
		txs = append(txs, tx)
	}
	sort.SliceStable(txs, func(i, j int) bool { return txs[i].Nonce < txs[j].Nonce })
	cands := make([]*cand, len(txs))
	errs := make([]error, len(txs))
	for i, tx := range txs {
		cands[i], errs[i] = p.prepare(tx)
	}
	p.verifyAll(cands, errs)

	if p.hookBeforeApply != nil {
		p.hookBeforeApply()
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		nv.release()
		return nil
	}
	// Senders that joined the pool since the read above: read them now,
	// before anything changes, so that a storage failure leaves the pool
	// as it was and the events queued for the next attempt.
	for a := range touched {
		if _, ok := accts[a]; ok || p.senders[a] == nil {
			continue
		}
		acct, err := snap.Account(a)
		if err != nil {
			p.mu.Unlock()
			nv.release()
			p.requeue(evs)
			return err
		}
		accts[a] = acct
	}
	old := p.view
	p.view, p.tip = nv, snap.Tip
	old.release()
	now := p.clock()
	for id, at := range mined {
		if e := p.all[id]; e != nil {
			p.dropLocked(e, TxStatus{Reason: ReasonMined, Block: at.block, Height: at.height, Time: now})
		} else if p.seenLocked(id, now) {
			// It left (or was refused) for a reason the pool saw first,
			// typically a used nonce because the snapshot ran ahead of the
			// notifications; the block says what really happened.
			p.recent.put(id, TxStatus{State: StateRemoved, Reason: ReasonMined, Block: at.block, Height: at.height, Time: now})
		}
	}
	for a := range touched {
		if s := p.senders[a]; s != nil {
			s.acct = accts[a]
			p.revalidateLocked(s)
		}
	}
	p.mu.Unlock()

	// Put back what the new branch does not carry. The sender's limit
	// does not keep them out: one below the sender's highest nonce takes
	// that one's place (see checkLocked). What is still refused is
	// recorded: as evicted if only the pool's limits stood in the way, as
	// invalidated otherwise.
	for i, c := range cands {
		err := errs[i]
		if err == nil {
			err = p.admit(c, false)
		}
		if err != nil && Kind(err) != "" {
			reason := ReasonInvalidated
			if errors.Is(err, ErrSenderLimit) || errors.Is(err, ErrPoolFull) {
				reason = ReasonEvicted
			}
			p.mu.Lock()
			if _, in := p.all[c.id]; !in && !p.closed {
				p.recent.put(c.id, TxStatus{State: StateRemoved, Reason: reason, Err: err, Time: now})
			}
			p.mu.Unlock()
		}
	}
	p.mu.Lock()
	if !p.closed {
		p.expireLocked(now, false)
	}
	p.mu.Unlock()
	p.log.Debug("mempool: applied chain changes", "events", len(evs), "mined", len(mined), "back", len(cands), "tip", snap.Tip)
	return nil
}

// seenLocked reports whether the pool remembers anything about id.
func (p *Pool) seenLocked(id types.Hash, now time.Time) bool {
	if _, ok := p.recent.get(id, now); ok {
		return true
	}
	_, ok := p.cheap.get(id, now)
	return ok
}

// requeue puts events back at the front after a storage failure, so that
// the next drain retries them in order.
func (p *Pool) requeue(evs []chain.Notification) {
	p.evMu.Lock()
	p.events = append(evs, p.events...)
	p.evMu.Unlock()
}

// Recheck is how a block producer reports transactions it could not apply
// to its state snapshot. The pool first applies the chain notifications it
// has not yet applied (the usual cause: the producer's snapshot is newer),
// then re-reads the senders' accounts and re-validates their transactions.
// A transaction valid at the pool's own tip is never dropped on the
// producer's word alone.
func (p *Pool) Recheck(ids []types.Hash) error {
	if err := p.drain(); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil
	}
	for _, id := range ids {
		e := p.all[id]
		if e == nil {
			continue
		}
		s := p.senders[e.sender]
		acct, err := p.view.snap.Account(e.sender)
		if err != nil {
			return err
		}
		s.acct = acct
		p.revalidateLocked(s)
	}
	return nil
}
