// Package mempool holds the transactions waiting for a block: it admits
// them under the consensus rules against the tip state plus each sender's
// pending transactions, orders them by fee rate for block templates, bounds
// what it keeps, follows the main chain (connected blocks, reorganisations)
// and remembers, for a while, why a transaction left or was refused.
//
// Admission, in order: no coinbase (ErrCoinbase); consensus.CheckTxSanity;
// the size limit (ErrTxTooLarge); the minimum relay fee rate (ErrFeeTooLow);
// not already in the pool (ErrAlreadyKnown); then the stateful rules,
// checked once cheaply before the signature and again authoritatively
// under the lock after it: a used nonce is consensus.ErrBadNonce, an
// unaffordable transfer consensus.ErrInsufficientBalance (both exactly as a
// block would fail), a nonce more than MaxNonceGap beyond the sender's next
// executable one ErrNonceGap, a sender at MaxPerSender ErrSenderLimit
// unless the nonce is below its highest (which it then evicts: a lower
// nonce is worth more, and this is how transactions put back after a
// reorganisation fit in again), a same-nonce replacement that does not pay
// ReplaceBumpPercent more and, on top of the old fee, the minimum relay fee
// for its own size ErrReplacementUnderpriced, and a full pool that would
// evict the newcomer first ErrPoolFull. Every rule the pool's state decides
// is checked before the signature, so a refusal costs no verification
// (AddBatch and Load too). The signature is verified outside every lock,
// skipped if the chain's signature cache knows the id, and recorded there
// once the transaction is admitted (a refused one takes no place in it),
// so the block carrying it connects without verifying it again.
//
// Per sender the pool keeps a run of executable transactions (consecutive
// nonces from the account's, each paid for by the balance the earlier ones
// leave) and, apart, queued ones beyond a nonce gap. A queued transaction
// must fit in the balance left by the executable run; it is promoted (and
// fully checked) when the gap closes. One function (revalidate) derives
// this split, after every admission, replacement, removal and tip change.
//
// Ordering: Pending selects by fee rate (fee / encoded size, compared
// exactly) across senders with a heap over each sender's next executable
// transaction, so every sender's nonce order holds.
//
// Limits and eviction: MaxCount and MaxBytes bound the pool. To make room,
// queued transactions go first, lowest fee rate first, then executable
// ones, lowest fee rate first; evicting an executable transaction also
// evicts its sender's higher nonces, which could not be mined without it.
// A newcomer that would itself be next in that order is refused. A
// transaction older than MaxAge expires (swept as transactions arrive and
// blocks connect, and by the pool's goroutine at least once a minute); its
// sender's later nonces are then queued behind the gap rather than dropped.
//
// Following the chain: notifications from chain.Subscribe are only queued
// by the handler (the chain calls it synchronously and it must return
// quickly); the pool's goroutine applies them in order, and Sync, Pending
// and Recheck apply any still waiting before they answer. Measured: the
// handler takes about 5 µs; applying a connected block of 5,000 transfers
// whose senders have more in the pool takes about 30 ms, against 60 ms for
// the chain's own ProcessBlock of that block, so doing it inline would
// stretch every block's critical section by half. A connected
// block's transactions leave as mined; the accounts it touched are re-read
// from a fresh snapshot and their senders re-validated (used nonces and
// unpaid transfers leave as invalidated, with the consensus error). The
// transactions of disconnected blocks that the new branch does not carry
// are offered again through admission; those that no longer apply are
// recorded as invalidated with the reason, those the pool's limits keep
// out as evicted. Nothing valid is lost without a record.
//
// What it does not do: no networking (p2p and RPC call Add and pass the
// error kind on), no fee estimation beyond exposing FeeRates, and no block
// building (package miner asks Pending).
//
// Concurrency: every method is safe for concurrent use. Pool.mu guards all
// pool state and is held only for map and heap work and the occasional
// account read; signature checks run outside it on the caller's goroutine
// (or on VerifyWorkers goroutines in AddBatch and Load). Subscribers are
// called after the lock is released. Config.Observer, for metrics, hears
// the outcome of each transaction offered through Add, AddBatch or Load on
// the caller's goroutine with no lock held; it must be quick.
//
// Errors: a refusal is either a *consensus.RuleError whose kind passes
// through unchanged, or a *PolicyError with an ErrorKind of this package;
// test with errors.Is(err, mempool.ErrFeeTooLow) and render with Kind(err).
// Any other error is a storage failure from the chain. Status(id) returns
// the refusal or removal reason of recently seen transactions; a refusal
// never overwrites a removal (a resubmitted mined transaction stays
// "mined"), and refusals decided before the signature check, which anyone
// can cause for free, are kept in a small history of their own. Pool files
// that cannot be loaded fail with ErrBadPoolFile (also when larger than
// the pool could hold) or ErrPoolFileNetwork.
package mempool
