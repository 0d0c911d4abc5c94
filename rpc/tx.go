package rpc

import (
	"context"
	"encoding/hex"
	"sort"

	"github.com/creachadair/jrpc2"

	"github.com/ledger-node/ledger/chain/types"
	"github.com/ledger-node/ledger/mempool"
)

// Tx is a transaction as the API shows it.
type Tx struct {
	Hash     string `json:"hash"`
	Coinbase bool   `json:"coinbase,omitempty"`
	From     string `json:"from,omitempty"` // empty for a coinbase
	To       string `json:"to"`
	Amount   uint64 `json:"amount"`
	Fee      uint64 `json:"fee"`
	Nonce    uint64 `json:"nonce"`
	Memo     string `json:"memo"` // hex
	Size     int    `json:"size"`
}

// TxResult is chain_getTransaction's result: the transaction (absent if
// unknown) and where it stands.
type TxResult struct {
	*Tx
	// Status is "confirmed", "pending" (in the pool, pending or queued)
	// or "unknown".
	Status string `json:"status"`
	// PoolState (pending) is the pool's "pending" or "queued".
	PoolState     string `json:"poolState,omitempty"`
	BlockHash     string `json:"blockHash,omitempty"`
	Height        uint32 `json:"height,omitempty"`
	Confirmations uint32 `json:"confirmations,omitempty"`
}

// SendResult is tx_send's result.
type SendResult struct {
	Hash string `json:"hash"`
	// Published says the transaction was handed to the network.
	Published bool `json:"published"`
}

// TxStatus is tx_status's result.
type TxStatus struct {
	Hash string `json:"hash"`
	// State: "pending", "queued", "removed", "refused", "confirmed"
	// (on the main chain, and no longer remembered by the pool) or
	// "unknown".
	State string `json:"state"`
	// Position (pending): 1 + the executable transactions ranked above.
	Position int `json:"position,omitempty"`
	// MissingNonce (queued): the sender's nonce the pool lacks.
	MissingNonce *uint64 `json:"missingNonce,omitempty"`
	// RemovedReason (removed): mined, replaced, evicted, expired or
	// invalidated.
	RemovedReason string `json:"removedReason,omitempty"`
	// Reason (refused, some removals) is the rule's error kind, Error its
	// description.
	Reason     string `json:"reason,omitempty"`
	Error      string `json:"error,omitempty"`
	BlockHash  string `json:"blockHash,omitempty"`
	Height     uint32 `json:"height,omitempty"`
	ReplacedBy string `json:"replacedBy,omitempty"`
	Time       int64  `json:"time,omitempty"` // Unix seconds
}

// FeeEstimate is tx_estimateFee's result.
type FeeEstimate struct {
	// FeeRate is the suggested rate in base units per byte (rounded up).
	FeeRate uint64 `json:"feeRate"`
	// Blocks is the target: mined within this many blocks.
	Blocks int `json:"blocks"`
	// TransferFee is FeeRate times the size of a transfer without memo.
	TransferFee uint64 `json:"transferFee"`
	// MinFeeRate is the pool's current admission rate (rounded up).
	MinFeeRate uint64 `json:"minFeeRate"`
	// PoolFeeRate is the rate needed to be within Blocks blocks of the
	// pool's best transactions; RecentFeeRate the median lowest rate of
	// recent nearly full blocks (0 when none were).
	PoolFeeRate   uint64 `json:"poolFeeRate"`
	RecentFeeRate uint64 `json:"recentFeeRate"`
}

const (
	defaultFeeBlocks = 3
	maxFeeBlocks     = 100
	// recentBlocks is how many blocks tx_estimateFee looks back.
	recentBlocks = 10
)

func (s *Server) registerTx() {
	s.methods["chain_getTransaction"] = method(s.getTransaction)
	s.methods["tx_send"] = method(s.txSend)
	s.methods["tx_status"] = method(s.txStatus)
	s.methods["tx_estimateFee"] = method(s.txEstimateFee)
}

func (s *Server) txJSON(tx *types.Tx) *Tx { return s.txJSONWith(tx, tx.Hash(), tx.Sender()) }

// txJSONWith is txJSON given the transaction's hash and sender, for
// callers that have them already (the pool computed them on admission).
func (s *Server) txJSONWith(tx *types.Tx, id types.Hash, sender types.Address) *Tx {
	out := &Tx{Hash: id.String(), Coinbase: tx.IsCoinbase(), To: s.bech32(tx.To),
		Amount: uint64(tx.Amount), Fee: uint64(tx.Fee), Nonce: tx.Nonce,
		Memo: hex.EncodeToString(tx.Memo), Size: tx.EncodedSize()}
	if !tx.IsCoinbase() {
		out.From = s.bech32(sender)
	}
	return out
}

func (s *Server) getTransaction(_ context.Context, r *jrpc2.Request) (any, error) {
	h, err := hashParam(r)
	if err != nil {
		return nil, err
	}
	tx, loc, block, ok, err := s.cfg.Chain.Transaction(h)
	if err != nil {
		return nil, fromErr(CodeRefused, err)
	}
	if ok {
		tip := s.cfg.Chain.Tip().Height
		conf := uint32(0)
		if tip >= loc.Height {
			conf = tip - loc.Height + 1
		}
		return TxResult{Tx: s.txJSON(tx), Status: "confirmed", BlockHash: block.String(),
			Height: loc.Height, Confirmations: conf}, nil
	}
	if tx, ok := s.cfg.Pool.Get(h); ok {
		st := s.cfg.Pool.Status(h)
		return TxResult{Tx: s.txJSON(tx), Status: "pending", PoolState: st.State.String()}, nil
	}
	return TxResult{Tx: &Tx{Hash: h.String()}, Status: "unknown"}, nil
}

func (s *Server) txSend(_ context.Context, r *jrpc2.Request) (any, error) {
	b, err := hexParam(r, "rawTx")
	if err != nil {
		return nil, err
	}
	tx, err := types.DecodeTx(b)
	if err != nil {
		return nil, appError(CodeTxRefused, reasonOr(err, "ErrDecode"), "cannot decode the transaction: %v", err)
	}
	if err := s.cfg.Pool.Add(tx); err != nil {
		k := mempool.Kind(err)
		if k == "" {
			return nil, fromErr(CodeTxRefused, err)
		}
		return nil, appError(CodeTxRefused, k, "transaction refused: %v", err)
	}
	res := SendResult{Hash: tx.Hash().String()}
	if s.cfg.Network != nil {
		if err := s.cfg.Network.PublishTx(tx); err != nil {
			s.log.Warn("rpc: could not publish a transaction", "hash", res.Hash, "err", err)
		} else {
			res.Published = true
		}
	}
	return res, nil
}

func (s *Server) txStatus(_ context.Context, r *jrpc2.Request) (any, error) {
	h, err := hashParam(r)
	if err != nil {
		return nil, err
	}
	st := s.cfg.Pool.Status(h)
	out := TxStatus{Hash: h.String(), State: st.State.String()}
	switch st.State {
	case mempool.StatePending:
		out.Position = st.Position
	case mempool.StateQueued:
		n := st.MissingNonce
		out.MissingNonce = &n
	case mempool.StateRemoved:
		out.RemovedReason = string(st.Reason)
		if !st.Block.IsZero() {
			out.BlockHash, out.Height = st.Block.String(), st.Height
		}
		if !st.ReplacedBy.IsZero() {
			out.ReplacedBy = st.ReplacedBy.String()
		}
	case mempool.StateUnknown:
		if _, loc, block, ok, err := s.cfg.Chain.Transaction(h); err == nil && ok {
			out.State, out.BlockHash, out.Height = "confirmed", block.String(), loc.Height
		}
	}
	if st.Err != nil {
		out.Reason, out.Error = mempool.Kind(st.Err), st.Err.Error()
	}
	if !st.Time.IsZero() {
		out.Time = st.Time.Unix()
	}
	return out, nil
}

// ceilRate is a fee rate in whole base units per byte, rounded up.
func ceilRate(r mempool.FeeRate) uint64 {
	if r.Size == 0 {
		return 0
	}
	return (uint64(r.Fee) + r.Size - 1) / r.Size
}

// transferSize is the encoded size of a transfer without memo.
func transferSize() int { return (&types.Tx{Kind: types.TxTransfer}).EncodedSize() }

// txEstimateFee suggests a rate likely to be mined within blocks blocks:
// the highest of the pool's admission rate, the rate needed to be within
// blocks blocks' worth of the pool's best transactions, and the median of
// the lowest rates in recent nearly full blocks.
func (s *Server) txEstimateFee(_ context.Context, r *jrpc2.Request) (any, error) {
	blocks := defaultFeeBlocks
	if err := bind(r, opt("blocks", &blocks)); err != nil {
		return nil, err
	}
	if blocks < 1 || blocks > maxFeeBlocks {
		return nil, invalidParams("parameter \"blocks\" must be between 1 and %d", maxFeeBlocks)
	}
	maxBlock := int(s.cfg.Chain.Params().MaxBlockSize)
	est := FeeEstimate{Blocks: blocks, MinFeeRate: ceilRate(s.cfg.Pool.MinFeeRate())}

	// The pool: walk the best rates until blocks blocks are full.
	room := blocks * maxBlock
	for _, rs := range s.cfg.Pool.FeeRates() {
		room -= rs.Size
		if room < 0 {
			est.PoolFeeRate = ceilRate(rs.Rate) + 1
			break
		}
	}

	// Recent blocks: the lowest rate each nearly full block took.
	var lows []uint64
	tip := s.cfg.Chain.Tip().Height
	for h := tip; h > 0 && tip-h < recentBlocks; h-- {
		b, err := s.cfg.Chain.BlockByHeight(h)
		if err != nil {
			break
		}
		if b.EncodedSize() < maxBlock/2 || len(b.Txs) < 2 {
			continue
		}
		low := uint64(0)
		for _, tx := range b.Txs[1:] {
			rate := ceilRate(mempool.FeeRate{Fee: tx.Fee, Size: uint64(tx.EncodedSize())})
			if low == 0 || rate < low {
				low = rate
			}
		}
		lows = append(lows, low)
	}
	if len(lows) > 0 {
		sort.Slice(lows, func(i, j int) bool { return lows[i] < lows[j] })
		est.RecentFeeRate = lows[len(lows)/2]
	}
	est.FeeRate = max(est.MinFeeRate, est.PoolFeeRate, est.RecentFeeRate, 1)
	est.TransferFee = est.FeeRate * uint64(transferSize())
	return est, nil
}
