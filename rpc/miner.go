package rpc

import (
	"context"
	"encoding/hex"
	"errors"

	"github.com/creachadair/jrpc2"

	"github.com/ledger-node/ledger/chain/types"
	"github.com/ledger-node/ledger/miner"
)

// MinerStatus is miner_status's result (and miner_start's, miner_stop's).
type MinerStatus struct {
	// Available is false when the node has no miner.
	Available bool    `json:"available"`
	Running   bool    `json:"running"`
	Threads   int     `json:"threads"`  // hashing threads, 0 when stopped
	HashRate  float64 `json:"hashRate"` // hashes per second
	Hashes    uint64  `json:"hashes"`
	Found     uint64  `json:"found"`
}

// Template is miner_getTemplate's result: everything an external miner
// needs. Block is the encoded block with nonce 0; a miner varies the
// header's nonce and time (>= minTime) and, for more space, the
// coinbase memo's last 8 bytes, recomputing the tx root with
// coinbaseBranch.
type Template struct {
	Height         uint32   `json:"height"`
	Parent         string   `json:"parent"`
	Bits           string   `json:"bits"`
	Target         string   `json:"target"` // 64 hex digits, big-endian
	MinTime        uint64   `json:"minTime"`
	Timestamp      uint64   `json:"timestamp"`
	Fees           uint64   `json:"fees"`
	Subsidy        uint64   `json:"subsidy"`
	TxIDs          []string `json:"txIds"`
	CoinbaseBranch []string `json:"coinbaseBranch"`
	Block          string   `json:"block"`
}

// SubmitResult is miner_submitBlock's result.
type SubmitResult struct {
	Hash      string `json:"hash"`
	MainChain bool   `json:"mainChain"`
	Reorg     bool   `json:"reorg"`
}

func (s *Server) registerMiner() {
	s.methods["miner_status"] = method(func(_ context.Context, r *jrpc2.Request) (any, error) {
		if err := noParams(r); err != nil {
			return nil, err
		}
		return s.minerStatus(), nil
	})
	s.methods["miner_start"] = method(s.minerStart)
	s.methods["miner_stop"] = method(s.minerStop)
	s.methods["miner_getTemplate"] = method(s.minerTemplate)
	s.methods["miner_submitBlock"] = method(s.minerSubmit)
}

func (s *Server) miner() (Miner, error) {
	if s.cfg.Miner == nil {
		return nil, appError(CodeUnavailable, ReasonNoMiner, "the node has no miner")
	}
	return s.cfg.Miner, nil
}

func (s *Server) minerStatus() MinerStatus {
	m := s.cfg.Miner
	if m == nil {
		return MinerStatus{}
	}
	threads := m.Threads() // read once: Running and Threads agree
	return MinerStatus{Available: true, Running: threads > 0, Threads: threads,
		HashRate: m.HashRate(), Hashes: m.Hashes(), Found: m.Found()}
}

func (s *Server) minerStart(_ context.Context, r *jrpc2.Request) (any, error) {
	threads := 0
	if err := bind(r, opt("threads", &threads)); err != nil {
		return nil, err
	}
	if threads < 0 || threads > miner.MaxThreads {
		return nil, invalidParams("parameter \"threads\" must be between 0 and %d", miner.MaxThreads)
	}
	m, err := s.miner()
	if err != nil {
		return nil, err
	}
	if threads > 0 {
		// A running miner with another thread count is restarted with
		// the count asked for.
		if running := m.Threads(); running != 0 && running != threads {
			m.Stop()
		}
		err = m.StartThreads(threads)
	} else {
		err = m.Start()
	}
	// Already running is success: the caller wants it running.
	if err != nil && !errors.Is(err, miner.ErrRunning) {
		return nil, fromErr(CodeRefused, err)
	}
	return s.minerStatus(), nil
}

func (s *Server) minerStop(_ context.Context, r *jrpc2.Request) (any, error) {
	if err := noParams(r); err != nil {
		return nil, err
	}
	m, err := s.miner()
	if err != nil {
		return nil, err
	}
	m.Stop()
	return s.minerStatus(), nil
}

func (s *Server) minerTemplate(_ context.Context, r *jrpc2.Request) (any, error) {
	var as string
	if err := bind(r, req("address", &as)); err != nil {
		return nil, err
	}
	a, err := s.parseAddress("address", as)
	if err != nil {
		return nil, err
	}
	m, err := s.miner()
	if err != nil {
		return nil, err
	}
	t, err := m.Template(a)
	if err != nil {
		return nil, fromErr(CodeRefused, err)
	}
	out := Template{Height: t.Height, Parent: t.Tip.String(), Bits: bitsHex(t.Block.Header.Bits),
		Target: hex.EncodeToString(t.Target[:]), MinTime: t.MinTime, Timestamp: t.Block.Header.Time,
		Fees: uint64(t.Fees), Subsidy: uint64(t.Subsidy), TxIDs: hashes(t.TxIDs),
		CoinbaseBranch: hashes(t.CoinbaseBranch), Block: hex.EncodeToString(t.Block.Encode())}
	return out, nil
}

func hashes(hs []types.Hash) []string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = h.String()
	}
	return out
}

func (s *Server) minerSubmit(_ context.Context, r *jrpc2.Request) (any, error) {
	b, err := hexParam(r, "rawBlock")
	if err != nil {
		return nil, err
	}
	blk, err := types.DecodeBlock(b)
	if err != nil {
		return nil, appError(CodeBlockRefused, reasonOr(err, "ErrDecode"), "cannot decode the block: %v", err)
	}
	m, err := s.miner()
	if err != nil {
		return nil, err
	}
	res, err := m.SubmitBlock(blk)
	if err != nil {
		return nil, fromErr(CodeBlockRefused, err)
	}
	if res.Orphan {
		return nil, appError(CodeBlockRefused, ReasonOrphanBlock, "unknown parent: missing %s", res.MissingParent)
	}
	return SubmitResult{Hash: res.Hash.String(), MainChain: res.MainChain, Reorg: res.Reorg}, nil
}
