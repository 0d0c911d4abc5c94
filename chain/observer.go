package chain

import "time"

// Observer hears the outcome of every ProcessBlock and
// ProcessRequestedBlock call, for metrics. The chain store defines it (it
// calls it); whoever counts implements it. Config.Observer nil means no
// one listens.
//
// BlockProcessed is called once per call, on the caller's goroutine,
// after the store's lock is released and the call's notifications are
// delivered: it may read the store, but it should be quick, since the
// caller (a gossip validator, the sync connector, the miner) waits for it.
// err is what the call returns: nil for a block stored (res says whether
// it is on the main chain or an orphan), a *consensus.RuleError for a
// broken rule, an *Error for the store's own refusals (duplicate, known
// invalid, too little work, closed, storage failure). Orphans connected
// as a side effect are not reported apart. elapsed is how long the call
// held the store (validation, connection and writes; waiting for the lock
// excluded), measured on the monotonic clock: it is a measurement, not a
// rule input, so Config.Clock (local time for the rules, fixed in tests)
// does not apply.
type Observer interface {
	BlockProcessed(res ProcessResult, err error, elapsed time.Duration)
}
