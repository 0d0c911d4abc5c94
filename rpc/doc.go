// Package rpc serves the node's JSON-RPC 2.0 API over HTTP, and over
// WebSocket with subscriptions.
//
// Requests are POSTed to "/" (single calls or batches); every request needs
// "Authorization: Bearer <token>", compared in constant time, where the
// token is configured or, by default, a random one written at each start to
// <datadir>/rpc.cookie (mode 0600; see WriteCookie and ReadCookie). "GET
// /health" needs no token. The server binds 127.0.0.1 by default, sends no
// CORS headers unless origins are configured, limits the body (413 past
// it) and the batch size, and gives each request a deadline.
//
// Protocol handling (parsing, dispatch, batches, standard error codes) is
// github.com/creachadair/jrpc2; this package adds the HTTP layer (auth,
// limits, CORS, health) and the methods, one file per namespace: node.go,
// chain.go, state.go, tx.go, mempool.go, miner.go.
//
// WebSocket (ws.go, subscriptions.go; github.com/coder/websocket): "GET
// /ws" upgrades after the same token check (401) and, with CORS origins
// configured, an origin check against them (403; without any, the
// library refuses cross-origin browsers); at most MaxWSConns connections
// (503 past it). Each message is one call, notification or batch under the
// HTTP limits (MaxBody as the read limit: the library closes with 1009
// past it; MaxBatch; Timeout per call), served by the connection's own
// jrpc2 server (the same method map, the connection in each call's
// context) one message at a time, the next message read only once the
// previous answer is written: a client cannot queue unbounded work, and
// one that sends without reading makes the server hold one answer for it,
// not one per message, until a write outlasts Timeout and ends the
// connection. chain_subscribeHeads and mempool_subscribeTxs (at most
// MaxSubscriptions per connection) answer ErrNotWebSocket over HTTP.
//
// Notifications: New subscribes once to the chain and once to the pool
// (neither can unsubscribe: a closed server ignores their events). The
// callbacks run on the chain's or the admitting goroutine and never
// block: they append the event to each subscribed connection's queue
// (under its lock, never waiting on the connection), and a connection
// whose notifications would pass WSQueue messages or WSQueueBytes
// estimated bytes is dropped at once (a disconnected client knows it
// missed events; one left behind would not); the drop is logged once the
// locks are released. Each connection's
// writer goroutine encodes and writes its queue (answers and
// notifications, in the order queued), skipping subscriptions ended
// meanwhile. A subscription becomes active in the same step (under
// wsConn.mu) that queues the answer giving its id, so no notification
// precedes the id and none is missed after it; an unsubscribe ends it
// before its answer is queued, so none is written after that answer.
// Heads: one notification per block that becomes the tip; the first
// after disconnections has reorg set and lists the removed blocks, from
// the old tip down. A client undoes the removed blocks, then applies the
// head: its parent is the fork point after a switch of branch, but after
// blocks were only disconnected (chain_invalidateBlock) the head is the
// fork point itself. Transactions: one notification per transaction
// accepted, unsequenced: the pool calls back after releasing its lock,
// on each admitting goroutine, so one sender's transactions may arrive
// out of nonce order, and a transaction after the block that mined it.
//
// Conventions: amounts are integers in base units, hashes and raw data are
// hex strings (no 0x prefix), addresses are bech32. Parameters may be given
// by position (an array, trailing optional ones omitted) or by name (an
// object). Application errors carry a stable code (see the Code constants)
// and data.reason, the error kind of the rule that refused the request
// (for example "ErrFeeTooLow" or "ErrBadNonce").
//
// Concurrency: Server.mu guards the listener; hub.mu guards the set of
// WebSocket connections, the closed flag and the reorg bookkeeping; each
// wsConn.mu guards that connection's subscription tables, its queue and
// the queue's counts. Lock order: hub.mu, then wsConn.mu; nothing logs
// while holding either. Close closes the WebSocket connections (code
// 1001, waiting a bounded time for their close handshakes) before the
// HTTP server.
//
// The parts of the node are reached through small interfaces defined here
// (Chain, Pool, Miner, Network), satisfied by *chain.Chain, *mempool.Pool,
// *miner.Miner and *p2p.Node; Miner and Network may be nil.
package rpc
