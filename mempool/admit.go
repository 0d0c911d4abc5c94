package mempool

import (
	"container/heap"
	"sync"
	"sync/atomic"

	"github.com/ledger-node/ledger/chain/types"
	"github.com/ledger-node/ledger/consensus"
)

// cand is a transaction on its way in: the stateless facts computed once,
// and the sender's account if it was read outside the lock.
type cand struct {
	tx     *types.Tx
	id     types.Hash
	sender types.Address
	size   int
	rate   FeeRate
	// acct was read from view outside the lock; used only if view is
	// still the pool's view when the transaction is admitted.
	acct *consensus.Account
	view *view
}

// Add validates tx against the tip state plus its sender's transactions in
// the pool and admits it. A refusal is a *consensus.RuleError (kinds
// unchanged) or a *PolicyError; other errors are storage failures. The pool
// keeps tx: the caller must not modify it afterwards.
//
// The signature is verified outside any lock, and only if the chain's
// signature cache does not already know the id; a verified id is added to
// that cache so that the block carrying it later connects without checking
// it again.
func (p *Pool) Add(tx *types.Tx) error {
	c, err := p.prepare(tx)
	if err == nil {
		err = p.precheck(c)
	}
	if err == nil {
		err = p.verify(c)
	}
	if err == nil {
		err = p.admit(c, true)
	}
	if err != nil {
		p.noteRefusal(c, err)
		return err
	}
	p.notify([]Accepted{c.accepted()})
	return nil
}

// AddBatch admits txs in order, verifying their signatures in parallel on
// Config.VerifyWorkers goroutines first. errs[i] is the outcome of txs[i].
// Put a sender's transactions in nonce order; out of order they are queued
// and promoted, but may meet the gap limit.
func (p *Pool) AddBatch(txs []*types.Tx) []error {
	errs := make([]error, len(txs))
	cands := make([]*cand, len(txs))
	for i, tx := range txs {
		cands[i], errs[i] = p.prepare(tx)
	}
	p.verifyAll(cands, errs)
	var acc []Accepted
	for i, c := range cands {
		if errs[i] == nil {
			errs[i] = p.admit(c, true)
		}
		if errs[i] != nil {
			p.noteRefusal(c, errs[i])
		} else {
			acc = append(acc, c.accepted())
		}
	}
	p.notify(acc)
	return errs
}

func (c *cand) accepted() Accepted {
	return Accepted{Tx: c.tx, ID: c.id, Sender: c.sender, Size: c.size, Rate: c.rate}
}

// prepare applies the stateless rules: no coinbase, consensus sanity,
// the size limit and the minimum relay fee rate.
func (p *Pool) prepare(tx *types.Tx) (*cand, error) {
	c := &cand{tx: tx, id: tx.Hash(), size: tx.EncodedSize()}
	if tx.IsCoinbase() {
		return c, policyError(ErrCoinbase, "a coinbase is only valid as the first transaction of a block")
	}
	if err := consensus.CheckTxSanity(tx, p.params); err != nil {
		return c, err
	}
	if c.size > p.cfg.MaxTxSize {
		return c, policyError(ErrTxTooLarge, "transaction is %d bytes, this node relays at most %d", c.size, p.cfg.MaxTxSize)
	}
	c.sender = tx.Sender()
	c.rate = FeeRate{Fee: tx.Fee, Size: uint64(c.size)}
	if min := RatePerByte(p.cfg.MinFeePerByte); c.rate.Cmp(min) < 0 {
		return c, policyError(ErrFeeTooLow, "fee rate %s is below the minimum relay fee rate %s", c.rate, min)
	}
	return c, nil
}

// precheck refuses, before the expensive signature check, what the state
// already condemns: a known id, a repeated permanent failure, a used
// nonce, a gap too large, a full sender, an underpriced replacement, an
// unaffordable transfer. The account of a sender new to the pool is read
// outside the lock.
func (p *Pool) precheck(c *cand) error {
	p.mu.Lock()
	if err := p.knownLocked(c); err != nil {
		p.mu.Unlock()
		return err
	}
	if s := p.senders[c.sender]; s != nil {
		_, _, err := p.checkLocked(s, c)
		p.mu.Unlock()
		return err
	}
	v := p.view
	v.refs.Add(1)
	p.mu.Unlock()
	acct, err := v.snap.Account(c.sender)
	v.release()
	if err != nil {
		return err
	}
	c.acct, c.view = &acct, v
	_, _, err = p.checkLocked(&sender{addr: c.sender, acct: acct, after: acct}, c)
	return err
}

// knownLocked refuses a closed pool, a transaction already in the pool and
// one recently refused for a reason that cannot change.
func (p *Pool) knownLocked(c *cand) error {
	if p.closed {
		return policyError(ErrPoolClosed, "the transaction pool is closed")
	}
	if _, ok := p.all[c.id]; ok {
		return policyError(ErrAlreadyKnown, "transaction %s is already in the pool", c.id)
	}
	if st, ok := p.recent.get(c.id, p.clock()); ok && st.State == StateRefused && permanent(st.Err) {
		return st.Err
	}
	return nil
}

func (p *Pool) verify(c *cand) error {
	if p.sigs.Contains(c.id) {
		return nil
	}
	if err := consensus.CheckTxSignature(c.tx, p.params); err != nil {
		return err
	}
	p.sigs.Add(c.id)
	return nil
}

// verifyAll checks the signatures of the candidates that passed so far, in
// parallel, recording failures in errs.
func (p *Pool) verifyAll(cands []*cand, errs []error) {
	workers := p.cfg.VerifyWorkers
	if workers > len(cands) {
		workers = len(cands)
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(cands) {
					return
				}
				if errs[i] == nil {
					errs[i] = p.verify(cands[i])
				}
			}
		}()
	}
	wg.Wait()
}

// admit is the final, authoritative check and insertion, under the lock.
func (p *Pool) admit(c *cand, fresh bool) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.clock()
	if fresh {
		if err := p.knownLocked(c); err != nil {
			return err
		}
	} else if _, ok := p.all[c.id]; ok {
		return nil
	}
	p.expireLocked(now, false)
	s := p.senders[c.sender]
	if s == nil {
		var acct consensus.Account
		if c.acct != nil && c.view == p.view {
			acct = *c.acct
		} else {
			// The tip moved since the account was read (rare): read it
			// again from the pool's view.
			a, err := p.view.snap.Account(c.sender)
			if err != nil {
				return err
			}
			acct = a
		}
		s = &sender{addr: c.sender, acct: acct, after: acct}
	}
	replace, queued, err := p.checkLocked(s, c)
	if err != nil {
		return err
	}
	needCount, needBytes := 1, c.size
	if replace != nil {
		needCount, needBytes = 0, c.size-replace.size
	}
	victims, err := p.planEvictionLocked(c, queued, replace, needCount, needBytes)
	if err != nil {
		return err
	}
	p.seq++
	e := &entry{tx: c.tx, id: c.id, sender: c.sender, size: c.size, rate: c.rate, added: now, seq: p.seq, heapIdx: -1}
	touched := map[*sender]struct{}{s: {}}
	for _, v := range victims {
		if vs := p.senders[v.sender]; vs != nil {
			touched[vs] = struct{}{}
		}
		p.dropLocked(v, TxStatus{Reason: ReasonEvicted, Time: now})
	}
	if replace != nil {
		p.dropLocked(replace, TxStatus{Reason: ReasonReplaced, ReplacedBy: c.id, Time: now})
	}
	p.insertLocked(s, e)
	for ts := range touched {
		p.revalidateLocked(ts)
	}
	return nil
}

// checkLocked applies the stateful rules to c against s (the sender's
// account at the tip and its transactions in the pool). It returns the
// entry c would replace, if any, and whether c would be queued.
func (p *Pool) checkLocked(s *sender, c *cand) (replace *entry, queued bool, err error) {
	tx := c.tx
	if tx.Nonce < s.acct.Nonce {
		_, err := consensus.DebitSender(s.acct, tx) // ErrBadNonce, as a block would say
		return nil, false, err
	}
	if i, ok := s.find(tx.Nonce); ok {
		old := s.txs[i]
		if !bumpOK(old.tx.Fee, tx.Fee, p.cfg.ReplaceBumpPercent) {
			return nil, false, policyError(ErrReplacementUnderpriced,
				"replacing %s (nonce %d, fee %d) needs a fee of at least %d%% more, got %d",
				old.id, tx.Nonce, old.tx.Fee, p.cfg.ReplaceBumpPercent, tx.Fee)
		}
		if i < s.nPending {
			return old, false, replaceChain(s, i, tx)
		}
		return old, true, checkQueued(s, tx)
	}
	if len(s.txs) >= p.cfg.MaxPerSender {
		return nil, false, policyError(ErrSenderLimit, "sender %s already has %d transactions in the pool", c.sender, len(s.txs))
	}
	if tx.Nonce == s.after.Nonce {
		_, err := consensus.DebitSender(s.after, tx)
		return nil, false, err
	}
	if gap := tx.Nonce - s.after.Nonce; gap > p.cfg.MaxNonceGap {
		return nil, false, policyError(ErrNonceGap, "nonce %d is %d beyond the sender's next nonce %d, at most %d allowed",
			tx.Nonce, gap, s.after.Nonce, p.cfg.MaxNonceGap)
	}
	return nil, true, checkQueued(s, tx)
}

// checkQueued checks a future transaction against the balance left after
// the sender's executable ones. The missing nonces can only lower it, so
// this is a necessary condition; the full check runs at promotion.
func checkQueued(s *sender, tx *types.Tx) error {
	_, err := consensus.DebitSender(consensus.Account{Balance: s.after.Balance, Nonce: tx.Nonce}, tx)
	return err
}

// replaceChain checks that the executable run still applies with tx in
// place of s.txs[i]. A replacement that leaves a later nonce unpaid is
// refused rather than accepted at the cost of that transaction.
func replaceChain(s *sender, i int, tx *types.Tx) error {
	cur := s.acct
	for j := 0; j < s.nPending; j++ {
		t := s.txs[j].tx
		if j == i {
			t = tx
		}
		next, err := consensus.DebitSender(cur, t)
		if err != nil {
			if j == i {
				return err
			}
			return &consensus.RuleError{Kind: consensus.ErrInsufficientBalance, Description: "replacing nonce " +
				uitoa(tx.Nonce) + " leaves the balance short for the sender's pending nonce " + uitoa(t.Nonce)}
		}
		cur = next
	}
	return nil
}

func uitoa(v uint64) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			return string(b[i:])
		}
	}
}

// planEvictionLocked chooses what to evict so that c fits, without
// changing anything. Queued transactions go first (lowest fee rate
// first), then executable ones; evicting an executable transaction also
// evicts its sender's higher nonces, which could not be mined without it,
// so the nonce order stays consistent. c is refused with ErrPoolFull if it
// would itself be the next to go: its class and fee rate do not beat the
// victim's, or the victim is an earlier nonce of its own sender.
func (p *Pool) planEvictionLocked(c *cand, queued bool, replace *entry, needCount, needBytes int) ([]*entry, error) {
	overCount := len(p.all) + needCount - p.cfg.MaxCount
	overBytes := p.bytes + needBytes - p.cfg.MaxBytes
	if overCount <= 0 && overBytes <= 0 {
		return nil, nil
	}
	if c.size > p.cfg.MaxBytes {
		return nil, policyError(ErrPoolFull, "transaction of %d bytes exceeds the pool's %d bytes", c.size, p.cfg.MaxBytes)
	}
	type popped struct {
		e      *entry
		queued bool
	}
	var (
		taken   []popped
		victims []*entry
		planned = map[*entry]bool{}
		refusal error
	)
	if replace != nil {
		planned[replace] = true
	}
	for (overCount > 0 || overBytes > 0) && refusal == nil {
		var v *entry
		switch {
		case p.queuedHeap.Len() > 0:
			v = heap.Pop(&p.queuedHeap).(*entry)
		case p.pendingHeap.Len() > 0:
			v = heap.Pop(&p.pendingHeap).(*entry)
		default:
			refusal = policyError(ErrPoolFull, "pool is full")
			continue
		}
		taken = append(taken, popped{v, v.queued})
		if planned[v] {
			continue
		}
		if lower := queued && !v.queued; lower || (queued == v.queued && c.rate.Cmp(v.rate) <= 0) {
			refusal = policyError(ErrPoolFull, "pool is full and fee rate %s does not beat the lowest %s", c.rate, v.rate)
			continue
		}
		if !v.queued && v.sender == c.sender && v.tx.Nonce < c.tx.Nonce {
			refusal = policyError(ErrPoolFull, "pool is full and the transaction depends on nonce %d, the next to be evicted", v.tx.Nonce)
			continue
		}
		group := []*entry{v}
		if !v.queued {
			s := p.senders[v.sender]
			i, _ := s.find(v.tx.Nonce)
			group = append(group, s.txs[i+1:]...)
		}
		for _, g := range group {
			if planned[g] {
				continue
			}
			planned[g] = true
			victims = append(victims, g)
			overCount--
			overBytes -= g.size
		}
	}
	// Put back what was popped; the caller removes the victims properly.
	for _, t := range taken {
		if t.queued {
			heap.Push(&p.queuedHeap, t.e)
		} else {
			heap.Push(&p.pendingHeap, t.e)
		}
	}
	if refusal != nil {
		return nil, refusal
	}
	return victims, nil
}

// noteRefusal remembers why a transaction was refused, for Status. Storage
// failures and "already known" are not the transaction's fate.
func (p *Pool) noteRefusal(c *cand, err error) {
	if c == nil || Kind(err) == "" || Kind(err) == string(ErrAlreadyKnown) || Kind(err) == string(ErrPoolClosed) {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	if _, ok := p.all[c.id]; ok {
		return
	}
	now := p.clock()
	if st, ok := p.recent.get(c.id, now); ok && st.State == StateRemoved && st.Reason == ReasonMined {
		return // resubmitting a mined transaction: "mined" stays the answer
	}
	p.recent.put(c.id, TxStatus{State: StateRefused, Err: err, Time: now})
}
