package rpc

import (
	"context"
	"encoding/hex"
	"errors"

	"github.com/creachadair/jrpc2"

	"github.com/ledger-node/ledger/chain"
	"github.com/ledger-node/ledger/chain/types"
)

// Head is chain_head's result.
type Head struct {
	Height    uint32 `json:"height"`
	Hash      string `json:"hash"`
	Timestamp uint64 `json:"timestamp"`
	Bits      string `json:"bits"`      // compact target, 8 hex digits
	TotalWork string `json:"totalWork"` // decimal: may exceed 64 bits
}

// Block is chain_getBlockBy*'s result. Txs holds hashes (strings) or, with
// fullTx, Tx objects.
type Block struct {
	Hash      string `json:"hash"`
	Height    uint32 `json:"height"`
	Parent    string `json:"parent"`
	Timestamp uint64 `json:"timestamp"`
	Bits      string `json:"bits"`
	Nonce     uint32 `json:"nonce"`
	StateRoot string `json:"stateRoot"`
	TxRoot    string `json:"txRoot"`
	Size      int    `json:"size"`
	Txs       []any  `json:"txs"`
}

func (s *Server) registerChain() {
	s.methods["chain_head"] = method(s.chainHead)
	s.methods["chain_getBlockByHeight"] = method(s.getBlockByHeight)
	s.methods["chain_getBlockByHash"] = method(s.getBlockByHash)
	s.methods["chain_invalidateBlock"] = method(func(_ context.Context, r *jrpc2.Request) (any, error) {
		return s.blockAdmin(r, s.cfg.Chain.InvalidateBlock)
	})
	s.methods["chain_reconsiderBlock"] = method(func(_ context.Context, r *jrpc2.Request) (any, error) {
		return s.blockAdmin(r, s.cfg.Chain.ReconsiderBlock)
	})
}

func bitsHex(b uint32) string {
	return hex.EncodeToString([]byte{byte(b >> 24), byte(b >> 16), byte(b >> 8), byte(b)})
}

func (s *Server) chainHead(_ context.Context, r *jrpc2.Request) (any, error) {
	if err := noParams(r); err != nil {
		return nil, err
	}
	return s.head(), nil
}

func (s *Server) head() Head {
	t := s.cfg.Chain.Tip()
	return Head{Height: t.Height, Hash: t.Hash.String(), Timestamp: t.Header.Time,
		Bits: bitsHex(t.Header.Bits), TotalWork: t.TotalWork.String()}
}

func (s *Server) getBlockByHeight(_ context.Context, r *jrpc2.Request) (any, error) {
	var (
		height int64
		full   bool
	)
	if err := bind(r, req("height", &height), opt("fullTx", &full)); err != nil {
		return nil, err
	}
	if height < 0 || height > 1<<32-1 {
		return nil, invalidParams("parameter \"height\" out of range")
	}
	b, err := s.cfg.Chain.BlockByHeight(uint32(height))
	if err != nil {
		return nil, s.blockErr(err, "no block at height %d", height)
	}
	return s.blockJSON(b, full), nil
}

func (s *Server) getBlockByHash(_ context.Context, r *jrpc2.Request) (any, error) {
	var (
		hs   string
		full bool
	)
	if err := bind(r, req("hash", &hs), opt("fullTx", &full)); err != nil {
		return nil, err
	}
	h, err := parseHash("hash", hs)
	if err != nil {
		return nil, err
	}
	b, err := s.cfg.Chain.BlockByHash(h)
	if err != nil {
		return nil, s.blockErr(err, "unknown block %s", h)
	}
	return s.blockJSON(b, full), nil
}

// blockErr reports unknown blocks as CodeNotFound.
func (s *Server) blockErr(err error, format string, args ...any) error {
	if errors.Is(err, chain.ErrUnknownBlock) {
		return appError(CodeNotFound, string(chain.ErrUnknownBlock), format, args...)
	}
	return fromErr(CodeRefused, err)
}

func (s *Server) blockJSON(b *types.Block, full bool) Block {
	h := &b.Header
	out := Block{Hash: b.Hash().String(), Height: h.Height, Parent: h.PrevBlock.String(),
		Timestamp: h.Time, Bits: bitsHex(h.Bits), Nonce: h.Nonce, StateRoot: h.StateRoot.String(),
		TxRoot: h.TxRoot.String(), Size: b.EncodedSize(), Txs: make([]any, 0, len(b.Txs))}
	for _, tx := range b.Txs {
		if full {
			out.Txs = append(out.Txs, s.txJSON(tx))
		} else {
			out.Txs = append(out.Txs, tx.Hash().String())
		}
	}
	return out
}

func (s *Server) blockAdmin(r *jrpc2.Request, fn func(types.Hash) error) (any, error) {
	h, err := hashParam(r)
	if err != nil {
		return nil, err
	}
	if err := fn(h); err != nil {
		return nil, fromErr(CodeRefused, err)
	}
	return s.head(), nil
}
