package rpc

import (
	"context"

	"github.com/creachadair/jrpc2"
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

// state_getTransactions (an address's history) needs an address index in
// the chain store, which does not exist yet.

func (s *Server) registerState() {
	s.methods["state_getAccount"] = method(s.getAccount)
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
