// Package reason names the kind of an error from the node's parts: the
// stable string, such as "ErrBadNonce" or "ErrDuplicateBlock", that RPC
// reports as an application error's data.reason and that the metrics use
// as a label. Of is the one place that knows which parts' error types
// carry a kind: consensus rules and pool policy (through mempool.Kind),
// the chain store and the miner.
//
// It sits between the parts it names and their consumers: it imports
// chain, mempool and miner (which import nothing above mempool), and is
// imported by rpc and internal/metrics, so imports still flow one way
// (types -> consensus -> chain -> mempool -> miner and p2p -> rpc -> cmd;
// internal/metrics is imported by node only).
//
// What it does not do: it does not decide what a caller shows. RPC
// reports any kind; the metrics keep a fixed set of kinds and count the
// rest as "other", so that no input can add series.
//
// Concurrency: Of is a pure function, safe for concurrent use.
//
// Errors: none; an error without a kind (a storage failure, a wrapped
// system error, nil) has the empty reason.
package reason
