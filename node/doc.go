// Package node wires the node's parts together in one place: it opens the
// chain store for a network in a data directory and starts the services
// configured (the miner today; the mempool, peer-to-peer layer and RPC as
// they are built), and stops them in order.
//
// Metrics: with Config.MetricsAddr, the node builds internal/metrics
// before the chain store, hands it to the store and the pool as their
// observer, points its gauges at the parts once they exist, and serves it
// from Run (first, so that sync is covered from its start) until closeAll.
//
// What it does not do: it parses no flags or files (cmd/ledgerd does) and
// holds no rules or state of its own; every part keeps its own.
//
// Data directory layout:
//
//	<datadir>/chaindata/   LevelDB chain store
//	<datadir>/miner.key    key receiving block rewards when no address is configured (mode 0600)
//
// Concurrency: New and Run are called once, from one goroutine
// (MetricsAddr may be called from any); Run returns after every service
// it started has stopped and the store is closed.
//
// Errors: configuration errors name the setting; store errors (for example
// chain.ErrGenesisMismatch, chain.ErrCorruptDB) pass through unchanged.
package node
