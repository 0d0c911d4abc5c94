// Package metrics exports the node's figures for Prometheus: the chain's
// height, peers, the pool's size, sync progress, the miner's hash rate,
// counters of processed blocks and transactions by result and reason, a
// histogram of block validation time, and the Go runtime and process
// collectors. It serves them at /metrics on an address of its own, with
// /debug/pprof beside them only when asked.
//
// Names start with ledger_. Gauges are read from the parts when scraped
// (through the small interfaces in Sources, which this package owns);
// counters and the histogram are fed by the chain store's and the pool's
// observer hooks (chain.Observer, mempool.Observer), which *Metrics
// implements. The reason label is the error kind's name (internal/reason),
// the string RPC reports as data.reason, but only for the kinds this
// package knows (knownKinds: every consensus and pool kind, and the chain
// store's refusals of a block); anything else is "other", so no input can
// grow the number of series.
//
// Everything lives in a private prometheus.Registry: no global state. The
// pprof handlers are mounted on the server's own mux (importing
// net/http/pprof also registers them on http.DefaultServeMux, which the
// node never serves).
//
// What it does not do: no authentication (the server warns when bound to
// a non-loopback address; keep it on loopback or behind a firewall), no
// pushing, no per-peer or per-transaction series.
//
// Concurrency: BlockProcessed and TxProcessed are safe for concurrent use
// and cost a map lookup and an atomic add or two. Watch is called once,
// before the server starts; scrapes then read the sources concurrently
// with everything else. Server's methods are safe for concurrent use.
//
// Errors: Watch fails if called twice (the gauges are already
// registered); Listen returns the listener's error unchanged.
package metrics
