package miner

import (
	"encoding/binary"
	"time"

	"github.com/ledger-node/ledger/chain/types"
	"github.com/ledger-node/ledger/consensus"
	"github.com/ledger-node/ledger/mempool"
)

// extraNonceSize is the extra nonce's share of the coinbase memo.
const extraNonceSize = 8

// Template is a block ready for proof of work: every field is final but
// the header's nonce and time, and the coinbase memo (extra nonce).
// Changing the memo changes the coinbase id: recompute the transaction
// root with types.MerkleRootFromBranch(coinbase.Hash(), CoinbaseBranch).
// Templates are shared read-only; copy before editing.
type Template struct {
	// Block holds the header (Nonce 0, Time at build) and the transactions,
	// Txs[0] being the coinbase with Memo = CoinbaseTag.
	Block *types.Block
	// TxIDs are the ids of Block.Txs, in order.
	TxIDs []types.Hash
	// CoinbaseBranch recomputes the root for another coinbase.
	CoinbaseBranch []types.Hash
	// Tip is the parent block, Height the new block's height.
	Tip    types.Hash
	Height uint32
	// Target is the proof-of-work target of Block.Header.Bits, big-endian.
	Target [32]byte
	// MinTime is the earliest valid header time: median time past + 1.
	MinTime uint64
	// Fees is the sum of the transactions' fees; the coinbase pays
	// Subsidy + Fees.
	Fees    types.Amount
	Subsidy types.Amount
	// Skipped lists pool transactions that did not apply to the state and
	// were left out (and reported to the pool).
	Skipped []types.Hash
	// Built is when the template was built (Config.Clock).
	Built time.Time
}

// memoReader reads accounts from the snapshot once each: the filter pass
// and ApplyTransactions read the same addresses.
type memoReader struct {
	r consensus.AccountReader
	m map[types.Address]consensus.Account
}

func (m *memoReader) Account(a types.Address) (consensus.Account, error) {
	if acct, ok := m.m[a]; ok {
		return acct, nil
	}
	acct, err := m.r.Account(a)
	if err != nil {
		return acct, err
	}
	m.m[a] = acct
	return acct, nil
}

// coinbaseMemo returns tag followed by the extra nonce.
func coinbaseMemo(tag []byte, extra uint64) []byte {
	memo := make([]byte, len(tag)+extraNonceSize)
	copy(memo, tag)
	binary.BigEndian.PutUint64(memo[len(tag):], extra)
	return memo
}

// buildTemplate builds a template paying addr on the current tip: the pool's
// best transactions that fit, filtered against a consistent snapshot so
// that any that fail to apply are skipped (a sender's later nonces with
// them), a coinbase paying subsidy plus fees, and the state root from
// consensus.ApplyTransactions over the same snapshot.
func (m *Miner) buildTemplate(addr types.Address) (*Template, error) {
	snap, err := m.cfg.Chain.StateSnapshot()
	if err != nil {
		return nil, err
	}
	defer snap.Release()
	p := m.params
	mtp, err := m.medianTimePast(snap.Header)
	if err != nil {
		return nil, err
	}
	t := &Template{Tip: snap.Tip, Height: snap.Height + 1, MinTime: mtp + 1, Built: m.cfg.Clock()}
	t.Subsidy = p.Subsidy(t.Height)
	bits, err := m.cfg.Chain.NextRequiredBitsAfter(snap.Tip)
	if err != nil {
		return nil, err
	}
	hdr := types.Header{
		Version:   consensus.HeaderVersion,
		Height:    t.Height,
		PrevBlock: snap.Tip,
		Time:      m.headerTime(t.MinTime),
		Bits:      bits,
	}
	target, err := consensus.DecodeTarget(hdr.Bits, p.PowLimit)
	if err != nil {
		return nil, err
	}
	target.FillBytes(t.Target[:])

	cb := &types.Tx{Kind: types.TxCoinbase, ChainID: p.ChainID, Nonce: uint64(t.Height), To: addr,
		Memo: coinbaseMemo(m.cfg.CoinbaseTag, 0)}
	blockBytes, blockTxs := int(p.MaxBlockSize), int(p.MaxBlockTxs)
	if m.cfg.MaxBlockBytes > 0 {
		blockBytes = min(blockBytes, m.cfg.MaxBlockBytes)
	}
	if m.cfg.MaxBlockTxs > 0 {
		blockTxs = min(blockTxs, m.cfg.MaxBlockTxs)
	}
	// What is left after the header, the transaction count (4 bytes) and
	// the coinbase, whose size the extra nonce does not change.
	maxBytes := blockBytes - types.HeaderSize - 4 - cb.EncodedSize()
	maxTxs := blockTxs - 1
	var cands []mempool.Candidate
	if m.cfg.Pool != nil && maxBytes > 0 && maxTxs > 0 {
		cands = m.cfg.Pool.Pending(maxBytes, maxTxs)
	}

	view := &memoReader{r: snap, m: make(map[types.Address]consensus.Account, 2*len(cands)+1)}
	after := make(map[types.Address]consensus.Account, len(cands))
	failed := map[types.Address]bool{}
	read := func(a types.Address) (consensus.Account, error) {
		if acct, ok := after[a]; ok {
			return acct, nil
		}
		return view.Account(a)
	}
	txs := make([]*types.Tx, 1, len(cands)+1)
	ids := make([]types.Hash, 1, len(cands)+1)
	for _, c := range cands {
		if failed[c.Sender] {
			t.Skipped = append(t.Skipped, c.ID)
			continue
		}
		sa, err := read(c.Sender)
		if err != nil {
			return nil, err
		}
		sNext, err := consensus.DebitSender(sa, c.Tx)
		if err == nil && t.Fees+c.Tx.Fee < t.Fees {
			err = minerError(ErrTemplate, "fee total overflows")
		}
		var rNext consensus.Account
		if err == nil {
			after[c.Sender] = sNext
			ra, rerr := read(c.Tx.To)
			if rerr != nil {
				return nil, rerr
			}
			if rNext, err = consensus.Credit(ra, c.Tx.Amount); err != nil {
				after[c.Sender] = sa
			}
		}
		if err != nil {
			failed[c.Sender] = true
			t.Skipped = append(t.Skipped, c.ID)
			continue
		}
		after[c.Tx.To] = rNext
		t.Fees += c.Tx.Fee
		txs = append(txs, c.Tx)
		ids = append(ids, c.ID)
	}
	cb.Amount = t.Subsidy + t.Fees
	if cb.Amount < t.Subsidy {
		return nil, minerError(ErrTemplate, "subsidy plus fees overflows")
	}
	txs[0] = cb
	blk := &types.Block{Header: hdr, Txs: txs}
	delta, err := consensus.ApplyTransactions(view, &snap.Commitment, blk, p)
	if err != nil {
		return nil, minerError(ErrTemplate, "selected transactions do not apply: %v", err)
	}
	blk.Header.StateRoot = delta.Commitment.Sum()
	ids[0] = cb.Hash()
	blk.Header.TxRoot = types.MerkleRoot(ids)
	t.Block, t.TxIDs, t.CoinbaseBranch = blk, ids, types.CoinbaseBranch(ids)
	if len(t.Skipped) > 0 && m.cfg.Pool != nil {
		m.log.Debug("miner: skipped transactions that do not apply", "count", len(t.Skipped))
		if err := m.cfg.Pool.Recheck(t.Skipped); err != nil {
			m.log.Warn("miner: pool recheck failed", "err", err)
		}
	}
	return t, nil
}

// medianTimePast is the median time of tip and its ancestors, up to
// consensus.MedianTimeBlocks, read through the chain's header index.
func (m *Miner) medianTimePast(tip types.Header) (uint64, error) {
	ts := make([]uint64, 0, consensus.MedianTimeBlocks)
	h := tip
	for {
		ts = append(ts, h.Time)
		if len(ts) == consensus.MedianTimeBlocks || h.Height == 0 {
			break
		}
		parent, err := m.cfg.Chain.HeaderByHash(h.PrevBlock)
		if err != nil {
			return 0, err
		}
		h = parent
	}
	return consensus.MedianTime(ts), nil
}

// headerTime is max(now, minTime): never before the median-time rule
// allows, never ahead of local time unless that rule demands it.
func (m *Miner) headerTime(minTime uint64) uint64 {
	now := m.cfg.Clock().Unix()
	if now < 0 || uint64(now) < minTime {
		return minTime
	}
	return uint64(now)
}
