package rpc

import (
	"context"
	"errors"

	"github.com/creachadair/jrpc2"

	"github.com/ledger-node/ledger/chain"
)

// Account is state_getAccount's result.
type Account struct {
	Address string `json:"address"`
	Balance uint64 `json:"balance"`
	Nonce   uint64 `json:"nonce"`
	// PendingNonce is the nonce the next transaction should carry,
	// counting the sender's executable transactions in the pool.
	PendingNonce uint64 `json:"pendingNonce"`
}

// AddressHistory is state_getTransactions' result: an address's confirmed
// transactions, newest first, each with status "confirmed", blockHash,
// height and confirmations, and the cursor of the next page (absent on
// the last one).
type AddressHistory struct {
	Address      string     `json:"address"`
	Transactions []TxResult `json:"transactions"`
	NextCursor   string     `json:"nextCursor,omitempty"`
}

// state_getTransactions' page size.
const (
	DefaultHistoryLimit = 50
	MaxHistoryLimit     = chain.MaxAddressTxs
)

func (s *Server) registerState() {
	s.methods["state_getAccount"] = method(s.getAccount)
	s.methods["state_getTransactions"] = method(s.getTransactions)
}

func (s *Server) getAccount(_ context.Context, r *jrpc2.Request) (any, error) {
	var as string
	if err := bind(r, req("address", &as)); err != nil {
		return nil, err
	}
	a, err := s.parseAddress("address", as)
	if err != nil {
		return nil, err
	}
	acct, err := s.cfg.Chain.Account(a)
	if err != nil {
		return nil, fromErr(CodeRefused, err)
	}
	pn, err := s.cfg.Pool.PendingNonce(a)
	if err != nil {
		pn = acct.Nonce
	}
	return Account{Address: s.bech32(a), Balance: uint64(acct.Balance), Nonce: acct.Nonce, PendingNonce: pn}, nil
}

// getTransactions pages through an address's history with the chain
// store's address index. The cursor is the chain's opaque text form; a
// node running without the index answers CodeUnavailable with reason
// ErrIndexUnavailable.
func (s *Server) getTransactions(_ context.Context, r *jrpc2.Request) (any, error) {
	var (
		as, cs string
		limit  = DefaultHistoryLimit
	)
	if err := bind(r, req("address", &as), opt("limit", &limit), opt("cursor", &cs)); err != nil {
		return nil, err
	}
	a, err := s.parseAddress("address", as)
	if err != nil {
		return nil, err
	}
	if limit < 1 || limit > MaxHistoryLimit {
		return nil, invalidParams("parameter \"limit\" must be between 1 and %d", MaxHistoryLimit)
	}
	var cursor *chain.AddressCursor
	if cs != "" {
		c, err := chain.ParseAddressCursor(cs)
		if err != nil {
			return nil, invalidParams("parameter \"cursor\": %v (pass back a nextCursor unchanged)", err)
		}
		cursor = &c
	}
	txs, next, err := s.cfg.Chain.AddressTxs(a, limit, cursor)
	if err != nil {
		if errors.Is(err, chain.ErrIndexUnavailable) {
			return nil, fromErr(CodeUnavailable, err)
		}
		return nil, fromErr(CodeRefused, err)
	}
	out := AddressHistory{Address: s.bech32(a), Transactions: make([]TxResult, 0, len(txs))}
	for _, t := range txs {
		out.Transactions = append(out.Transactions, TxResult{Tx: s.txJSON(t.Tx), Status: "confirmed",
			BlockHash: t.Block.String(), Height: t.Height, Confirmations: t.Confirmations})
	}
	if next != nil {
		out.NextCursor = next.String()
	}
	return out, nil
}
