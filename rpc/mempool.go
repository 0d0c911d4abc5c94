package rpc

import (
	"context"

	"github.com/creachadair/jrpc2"
)

// MempoolInfo is mempool_info's result.
type MempoolInfo struct {
	Count int `json:"count"`
	Bytes int `json:"bytes"`
	// MinFeeRate is the admission rate in base units per byte (rounded
	// up); MinFeeRateExact gives it as fee over size.
	MinFeeRate      uint64    `json:"minFeeRate"`
	MinFeeRateExact [2]uint64 `json:"minFeeRateExact"`
}

// PoolTx is one entry of mempool_content.
type PoolTx struct {
	*Tx
	Queued  bool    `json:"queued"`
	Added   int64   `json:"added"`   // Unix seconds
	FeeRate float64 `json:"feeRate"` // base units per byte
}

// maxContent bounds mempool_content's limit: with the batch limit, it
// bounds what one HTTP request can make the node build (100 x 1,000
// transactions).
const maxContent = 1000

func (s *Server) registerMempool() {
	s.methods["mempool_info"] = method(s.mempoolInfo)
	s.methods["mempool_content"] = method(s.mempoolContent)
}

func (s *Server) mempoolInfo(_ context.Context, r *jrpc2.Request) (any, error) {
	if err := noParams(r); err != nil {
		return nil, err
	}
	min := s.cfg.Pool.MinFeeRate()
	return MempoolInfo{Count: s.cfg.Pool.Count(), Bytes: s.cfg.Pool.Bytes(), MinFeeRate: ceilRate(min),
		MinFeeRateExact: [2]uint64{uint64(min.Fee), min.Size}}, nil
}

func (s *Server) mempoolContent(_ context.Context, r *jrpc2.Request) (any, error) {
	limit := DefaultContentLimit
	if err := bind(r, opt("limit", &limit)); err != nil {
		return nil, err
	}
	if limit < 1 || limit > maxContent {
		return nil, invalidParams("parameter \"limit\" must be between 1 and %d", maxContent)
	}
	out := []PoolTx{}
	for _, c := range s.cfg.Pool.Content(limit) {
		out = append(out, PoolTx{Tx: s.txJSON(c.Tx), Queued: c.Queued, Added: c.Added.Unix(), FeeRate: c.Rate.PerByte()})
	}
	return out, nil
}
