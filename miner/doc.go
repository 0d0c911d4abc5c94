// Package miner builds block templates from the transaction pool and
// searches proof of work on CPU threads; it also serves templates to, and
// accepts blocks from, external miners (RPC).
//
// Templates: the pool's highest fee-rate executable transactions that fit
// the block's size and count limits, in each sender's nonce order (the
// pool's selection: a heap over senders' next transactions), checked
// against one consistent chain.StateSnapshot. A transaction that does not
// apply there is skipped with its sender's later nonces and reported to
// the pool (Pool.Recheck). The coinbase pays subsidy plus fees to the
// miner's address; the state root is consensus.ApplyTransactions over the
// same snapshot, so the block is valid on exactly that tip. The header
// time is max(now, median time past + 1) by Config.Clock, and the bits
// are those the chain requires after the tip.
//
// Rebuilds: at once when the tip changes (the chain's notification bumps
// a generation counter and wakes the controller; a solved block the chain
// refuses or puts on a side chain does the same, once), and when the pool
// has gained Config.MinFeeGain in fees, at most once per RebuildInterval
// on Config.Clock. Templates served to external miners (Template) are
// cached per address, the templateCacheSize most recently used, until the
// tip changes or RebuildInterval passes.
//
// Hashing: Threads goroutines each take their own extra nonces (thread
// i uses i, i+Threads, ...; the extra nonce is the last 8 bytes of the
// coinbase memo) and search the full 32-bit nonce range for each, updating
// the time as the clock moves. The transaction root is recomputed from the
// coinbase id and the template's coinbase branch (types.CoinbaseBranch /
// MerkleRootFromBranch), and each nonce costs two SHA-256 compressions from
// the midstate of the header's first 64 bytes (see hash.go for the options
// measured). Threads look at the generation counter every 2048 nonces, so
// new work reaches them within a fraction of a millisecond.
//
// What it does not do: no networking or RPC (the RPC layer calls Template
// and SubmitBlock), no transaction selection rules of its own beyond
// re-checking the pool's choice, and no GPU or stratum work.
//
// Concurrency: all methods are safe for concurrent use. The chain's
// notification handler only bumps an atomic counter and signals a
// channel. One controller goroutine builds and publishes work through an
// atomic pointer; threads never share mutable state (each has its own
// hasher and coinbase copy) and count hashes in one atomic counter. mu
// guards the current run (Start..Stop; a Start while a Stop is still
// waiting for the threads fails with ErrRunning, so runs never overlap)
// and the cache of external templates.
//
// Errors: a submitted block's failure is the chain's, unchanged
// (*consensus.RuleError or *chain.Error); the miner's own conditions are
// *Error values with an ErrorKind (ErrNilBlock, ErrRunning, ErrTemplate,
// ErrBadConfig, ErrBadAddress), matched with errors.Is. A zero coinbase
// address is refused up front (New: ErrBadConfig, Template:
// ErrBadAddress): consensus refuses every block paying it.
package miner
