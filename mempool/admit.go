package mempool

import (
	"container/heap"
	"strconv"
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
	// sigDone: the signature check ran (or the chain's cache vouched for
	// the id). A refusal before that cost the sender nothing and is
	// remembered apart (see noteRefusal).
	sigDone bool
	// verified: the signature was verified here rather than found in the
	// cache; the id goes into the cache once the transaction is admitted.
	verified bool
}

// admission is what admitting a candidate would change: the entry it
// replaces (same sender and nonce), the sender's highest nonce it
// displaces to stay within MaxPerSender, whether it would be queued, and
// the entries evicted to make room.
type admission struct {
	replace  *entry
	displace *entry
	queued   bool
	victims  []*entry
}

// Add validates tx against the tip state plus its sender's transactions in
// the pool and admits it. A refusal is a *consensus.RuleError (kinds
// unchanged) or a *PolicyError; other errors are storage failures. The pool
// keeps tx: the caller must not modify it afterwards.
//
// Every rule that the pool's state can decide is checked before the
// signature, so a refusal costs no verification. The signature is verified
// outside any lock, and only if the chain's signature cache does not
// already know the id; the id is added to that cache once the transaction
// is admitted, so that the block carrying it later connects without
// checking it again.
func (p *Pool) Add(tx *types.Tx) error {
	c, err := p.prepare(tx)
	if err == nil {
		err = p.precheck(c, true)
	}
	if err == nil {
		err = p.verify(c)
	}
	if err == nil {
		err = p.admit(c, true)
	}
	if obs := p.cfg.Observer; obs != nil {
		obs.TxProcessed(err)
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
//
// The cheap checks run before any verification, so that what the pool
// would refuse anyway (a saved pool file's transactions mined meanwhile,
// say) costs nothing. A sender's first candidate gets them all; its later
// ones only those that the earlier ones, once admitted, cannot change
// (known, stale nonce): the earlier ones are not in the pool yet, and the
// nonce gap, for one, counts from them.
func (p *Pool) AddBatch(txs []*types.Tx) []error {
	errs := make([]error, len(txs))
	cands := make([]*cand, len(txs))
	ahead := make(map[types.Address]bool)
	for i, tx := range txs {
		c, err := p.prepare(tx)
		if err == nil {
			err = p.precheck(c, !ahead[c.sender])
		}
		if err == nil {
			ahead[c.sender] = true
		}
		cands[i], errs[i] = c, err
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
		if obs := p.cfg.Observer; obs != nil {
			obs.TxProcessed(errs[i])
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

// precheck refuses, before the expensive signature check, what the pool
// already condemns. With all set, every stateful rule: a known id, a
// repeated permanent failure, a used nonce, a gap too large, a full
// sender, an underpriced replacement, an unaffordable transfer, and a
// full pool that would evict the newcomer at once. Without, only the first
// three, which no admission in between can change. The account of a
// sender new to the pool is read outside the lock.
func (p *Pool) precheck(c *cand, all bool) error {
	p.mu.Lock()
	if err := p.knownLocked(c); err != nil {
		p.mu.Unlock()
		return err
	}
	if s := p.senders[c.sender]; s != nil {
		var err error
		if all {
			_, err = p.planLocked(s, c)
		} else {
			err = staleNonce(s.acct, c.tx)
		}
		p.mu.Unlock()
		return err
	}
	full := len(p.all) >= p.cfg.MaxCount || p.bytes+c.size > p.cfg.MaxBytes
	v := p.view
	v.refs.Add(1)
	p.mu.Unlock()
	acct, err := v.snap.Account(c.sender)
	v.release()
	if err != nil {
		return err
	}
	c.acct, c.view = &acct, v
	if !all {
		return staleNonce(acct, c.tx)
	}
	fresh := &sender{addr: c.sender, acct: acct, after: acct}
	if !full {
		// checkLocked reads only fresh, which is ours, and the
		// configuration: no lock needed.
		_, err = p.checkLocked(fresh, c)
		return err
	}
	// The pool looked full: whether c would be the first to go depends
	// on the rest of the pool.
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.senders[c.sender]
	if s == nil {
		s = fresh
	}
	_, err = p.planLocked(s, c)
	return err
}

// staleNonce refuses a nonce the account has used, with the error a block
// would get (ErrBadNonce).
func staleNonce(acct consensus.Account, tx *types.Tx) error {
	if tx.Nonce >= acct.Nonce {
		return nil
	}
	_, err := consensus.DebitSender(acct, tx)
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

// verify checks c's signature unless the chain's cache knows the id.
func (p *Pool) verify(c *cand) error {
	c.sigDone = true
	if p.sigs.Contains(c.id) {
		return nil
	}
	p.sigChecks.Add(1)
	if err := consensus.CheckTxSignature(c.tx, p.params); err != nil {
		return err
	}
	c.verified = true
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

// admit is the final, authoritative check and insertion. fresh is false
// for transactions put back after a reorganisation, which may already be
// in the pool (nothing to do then).
func (p *Pool) admit(c *cand, fresh bool) error {
	p.mu.Lock()
	err := p.admitLocked(c, fresh)
	p.mu.Unlock()
	if err == nil && c.verified {
		// Only now: a transaction the pool refuses must not take a place
		// in the chain's cache, or anyone could flush it for free.
		p.sigs.Add(c.id)
	}
	return err
}

func (p *Pool) admitLocked(c *cand, fresh bool) error {
	now := p.clock()
	if fresh {
		if err := p.knownLocked(c); err != nil {
			return err
		}
	} else if p.closed {
		return policyError(ErrPoolClosed, "the transaction pool is closed")
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
	a, err := p.planLocked(s, c)
	if err != nil {
		return err
	}
	p.seq++
	e := &entry{tx: c.tx, id: c.id, sender: c.sender, size: c.size, rate: c.rate, added: now, seq: p.seq, heapIdx: -1, rankIdx: -1}
	touched := map[*sender]struct{}{s: {}}
	for _, v := range a.victims {
		if vs := p.senders[v.sender]; vs != nil {
			touched[vs] = struct{}{}
		}
		p.dropLocked(v, TxStatus{Reason: ReasonEvicted, Time: now})
	}
	if a.replace != nil {
		p.dropLocked(a.replace, TxStatus{Reason: ReasonReplaced, ReplacedBy: c.id, Time: now})
	}
	if a.displace != nil {
		p.dropLocked(a.displace, TxStatus{Reason: ReasonEvicted, Time: now, Err: policyError(ErrSenderLimit,
			"sender %s is at its limit of %d transactions and nonce %d took the place of its highest, %d",
			c.sender, p.cfg.MaxPerSender, c.tx.Nonce, a.displace.tx.Nonce)})
	}
	p.insertLocked(s, e)
	for ts := range touched {
		p.revalidateLocked(ts)
	}
	return nil
}

// planLocked applies the stateful rules to c against s (the sender's
// account at the tip and its transactions in the pool) and chooses what
// would be evicted to make room. It changes nothing.
func (p *Pool) planLocked(s *sender, c *cand) (admission, error) {
	a, err := p.checkLocked(s, c)
	if err != nil {
		return a, err
	}
	needCount, needBytes := 1, c.size
	var freed []*entry
	for _, e := range [...]*entry{a.replace, a.displace} {
		if e != nil {
			needCount--
			needBytes -= e.size
			freed = append(freed, e)
		}
	}
	a.victims, err = p.planEvictionLocked(c, a.queued, freed, needCount, needBytes)
	return a, err
}

// checkLocked applies the stateful rules to c against s, except the pool
// limits (planEvictionLocked). It reads s and the configuration only.
func (p *Pool) checkLocked(s *sender, c *cand) (a admission, err error) {
	tx := c.tx
	if tx.Nonce < s.acct.Nonce {
		return a, staleNonce(s.acct, tx) // ErrBadNonce, as a block would say
	}
	if i, ok := s.find(tx.Nonce); ok {
		old := s.txs[i]
		if err := p.replacementFeeOK(old, c); err != nil {
			return a, err
		}
		a.replace = old
		if i < s.nPending {
			return a, replaceChain(s, i, tx)
		}
		a.queued = true
		return a, checkQueued(s, tx)
	}
	if len(s.txs) >= p.cfg.MaxPerSender {
		last := s.txs[len(s.txs)-1]
		if tx.Nonce > last.tx.Nonce {
			return a, policyError(ErrSenderLimit, "sender %s already has %d transactions in the pool", c.sender, len(s.txs))
		}
		// A lower nonce is worth more than the sender's highest, which
		// cannot be mined before it: it takes that one's place. This is
		// also how transactions put back after a reorganisation fit in
		// again when the sender's later nonces filled its share.
		a.displace = last
	}
	if tx.Nonce == s.after.Nonce {
		_, err := consensus.DebitSender(s.after, tx)
		return a, err
	}
	if gap := tx.Nonce - s.after.Nonce; gap > p.cfg.MaxNonceGap {
		return a, policyError(ErrNonceGap, "nonce %d is %d beyond the sender's next nonce %d, at most %d allowed",
			tx.Nonce, gap, s.after.Nonce, p.cfg.MaxNonceGap)
	}
	a.queued = true
	return a, checkQueued(s, tx)
}

// replacementFeeOK refuses a replacement that does not pay both
// ReplaceBumpPercent more than the fee it replaces and, on top of that
// fee, the minimum relay fee for its own size: each replacement is
// relayed again, and without the second rule a queued transaction could
// be replaced, and relayed, over and over for a few base units each
// (BIP 125's rule 4 for the same reason).
func (p *Pool) replacementFeeOK(old *entry, c *cand) error {
	oldFee, newFee := old.tx.Fee, c.tx.Fee
	if !bumpOK(oldFee, newFee, p.cfg.ReplaceBumpPercent) {
		return policyError(ErrReplacementUnderpriced,
			"replacing %s (nonce %d, fee %d) needs a fee at least %d%% higher, got %d",
			old.id, c.tx.Nonce, oldFee, p.cfg.ReplaceBumpPercent, newFee)
	}
	if !paysRelay(oldFee, newFee, p.cfg.MinFeePerByte, c.size) {
		return policyError(ErrReplacementUnderpriced,
			"replacing %s (nonce %d, fee %d) needs that fee plus the minimum relay fee (%d per byte) for its own %d bytes, got %d",
			old.id, c.tx.Nonce, oldFee, p.cfg.MinFeePerByte, c.size, newFee)
	}
	return nil
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
				strconv.FormatUint(tx.Nonce, 10) + " leaves the balance short for the sender's pending nonce " +
				strconv.FormatUint(t.Nonce, 10)}
		}
		cur = next
	}
	return nil
}

// planEvictionLocked chooses what to evict so that c fits, without
// changing anything. Queued transactions go first (lowest fee rate
// first), then executable ones; evicting an executable transaction also
// evicts its sender's higher nonces, which could not be mined without it,
// so the nonce order stays consistent. c is refused with ErrPoolFull if it
// would itself be the next to go: its class and fee rate do not beat the
// victim's, or the victim is an earlier nonce of its own sender. freed are
// the entries c's admission removes anyway (replaced, displaced). The
// heaps are popped and pushed back: their order changes, their contents
// do not.
func (p *Pool) planEvictionLocked(c *cand, queued bool, freed []*entry, needCount, needBytes int) ([]*entry, error) {
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
	for _, e := range freed {
		planned[e] = true
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
// failures and "already known" are not the transaction's fate. A refusal
// never replaces the record of how a transaction left the pool (mined,
// replaced, ...): resubmitting it must not hide that. Refusals decided
// before the signature check go to a small history of their own, since
// anyone can produce them for free.
func (p *Pool) noteRefusal(c *cand, err error) {
	if k := Kind(err); c == nil || k == "" || k == string(ErrAlreadyKnown) || k == string(ErrPoolClosed) {
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
	rec := TxStatus{State: StateRefused, Err: err, Time: now}
	switch st, ok := p.recent.get(c.id, now); {
	case ok && st.State == StateRemoved:
		// How it left stays the answer.
	case ok || c.sigDone:
		p.recent.put(c.id, rec) // an update takes no new place
	default:
		p.cheap.put(c.id, rec)
	}
}
