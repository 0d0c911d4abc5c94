// Package client is a JSON-RPC 2.0 client for the node's HTTP API (see
// docs/rpc.md): the transport, typed errors and one typed method per call
// the command-line wallet makes, plus an adapter that satisfies
// wallet.NodeClient.
//
// What it does: each call is one POST of a single JSON-RPC 2.0 request to
// the configured URL with "Authorization: Bearer <token>"; the answer is
// size-checked (MaxResponse) before it is decoded, its id must match the
// request's, and its result is decoded into the caller's value. Result
// types are the server's own (package rpc), so the two cannot drift apart.
//
// What it does not do: no batches, no WebSocket subscriptions, no retries
// (a caller that polls decides when to call again), and no validation of
// addresses or amounts beyond what decoding needs: the node is the
// authority on what it accepts. It uses no proxy (HTTP_PROXY and
// HTTPS_PROXY are ignored, so the token goes to the node's address and
// nowhere else) and follows no redirect: a 3xx answer is an ErrHTTP
// naming the Location, since a followed POST can turn into a GET and the
// token would be sent on to wherever the node points.
//
// Concurrency: a Client is safe for concurrent use; it holds no mutable
// state but an atomic request counter and the http.Client, which is
// itself safe for concurrent use.
//
// Errors: every error this package makes is an *Error whose Kind is an
// ErrorKind, tested with errors.Is (client.ErrUnreachable,
// client.ErrUnauthorized, client.ErrRPC, ...). An error the node answered
// (ErrRPC) carries the JSON-RPC code, message and data.reason, the stable
// error kind of the rule that refused the call; HasReason tests it.
// Transport errors wrap the cause.
package client
