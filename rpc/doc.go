// Package rpc serves the node's JSON-RPC 2.0 API over HTTP.
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
// Conventions: amounts are integers in base units, hashes and raw data are
// hex strings (no 0x prefix), addresses are bech32. Parameters may be given
// by position (an array, trailing optional ones omitted) or by name (an
// object). Application errors carry a stable code (see the Code constants)
// and data.reason, the error kind of the rule that refused the request
// (for example "ErrFeeTooLow" or "ErrBadNonce").
//
// The parts of the node are reached through small interfaces defined here
// (Chain, Pool, Miner, Network), satisfied by *chain.Chain, *mempool.Pool,
// *miner.Miner and *p2p.Node; Miner and Network may be nil.
package rpc
