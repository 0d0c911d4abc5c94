package rpc

import (
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/creachadair/jrpc2"

	"github.com/ledger-node/ledger/chain"
	"github.com/ledger-node/ledger/internal/reason"
)

// Application error codes: stable, part of the API.
const (
	// CodeTxRefused: tx_send's transaction was refused by the pool;
	// data.reason is the rule's error kind.
	CodeTxRefused jrpc2.Code = -32000
	// CodeNotFound: the block, transaction or peer is not known.
	CodeNotFound jrpc2.Code = -32001
	// CodeBlockRefused: miner_submitBlock's block was refused.
	CodeBlockRefused jrpc2.Code = -32002
	// CodeUnavailable: the part of the node the method needs is not
	// running (no miner, no network).
	CodeUnavailable jrpc2.Code = -32003
	// CodeRefused: an operator action or query failed for a stated
	// reason (data.reason).
	CodeRefused jrpc2.Code = -32004
)

// Reasons used when no pool or chain error kind applies.
const (
	ReasonNotFound    = "ErrNotFound"
	ReasonNoMiner     = "ErrNoMiner"
	ReasonNoNetwork   = "ErrNoNetwork"
	ReasonBadParams   = "ErrBadParams"
	ReasonOrphanBlock = "ErrOrphanBlock"
)

// ErrorData is the data member of an application error.
type ErrorData struct {
	Reason string `json:"reason"`
}

// Error is an application error as the API reports it.
type Error struct {
	Code    jrpc2.Code
	Message string
	Reason  string
}

func (e *Error) Error() string { return e.Message }

// ErrCode lets jrpc2 report the code.
func (e *Error) ErrCode() jrpc2.Code { return e.Code }

// toJRPC converts to the wire form with data.reason.
func (e *Error) toJRPC() *jrpc2.Error {
	data, _ := json.Marshal(ErrorData{Reason: e.Reason})
	return &jrpc2.Error{Code: e.Code, Message: e.Message, Data: data}
}

func appError(code jrpc2.Code, reason, format string, args ...any) error {
	return (&Error{Code: code, Message: fmt.Sprintf(format, args...), Reason: reason}).toJRPC()
}

// invalidParams is the -32602 answer.
func invalidParams(format string, args ...any) error {
	data, _ := json.Marshal(ErrorData{Reason: ReasonBadParams})
	return &jrpc2.Error{Code: jrpc2.InvalidParams, Message: fmt.Sprintf(format, args...), Data: data}
}

// fromErr maps err to an application error with code; errors without a
// kind are internal (-32603) and their text is not the caller's fault.
func fromErr(code jrpc2.Code, err error) error {
	k := reason.Of(err)
	if k == "" {
		// Internal detail (paths, database errors) is for the operator's
		// log, not for the caller.
		slog.Default().Warn("rpc: internal error", "err", err)
		return appError(jrpc2.InternalError, "ErrInternal", "internal error")
	}
	if k == string(chain.ErrUnknownBlock) {
		code = CodeNotFound
	}
	return appError(code, k, "%s", err.Error())
}
