package mempool

// Observer hears the outcome of every transaction offered to the pool
// through Add, AddBatch and Load (which goes through AddBatch), for
// metrics. The pool defines it (it calls it); whoever counts implements
// it. Config.Observer nil means no one listens. Transactions the pool puts
// back itself after a reorganisation are not offers and are not reported.
//
// TxProcessed is called once per transaction, on the caller's goroutine,
// with no pool lock held, in the order of the batch: err is nil for an
// admitted transaction and otherwise exactly the error the caller gets
// (render it with Kind; a repeat is ErrAlreadyKnown). It must be quick:
// admission waits for it.
type Observer interface {
	TxProcessed(err error)
}
