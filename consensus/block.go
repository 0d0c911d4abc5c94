package consensus

import (
	"errors"

	"github.com/ledger-node/ledger/chain/types"
)

// CheckBlockSanity applies the rules a block must meet without state: the
// Merkle root first, then the limits, the coinbase's shape, each transfer's
// sanity and no duplicate transaction. txids must be b.TxHashes(); callers
// compute them once.
//
// The Merkle root is checked before anything else on purpose: until it
// matches, the transactions are not the ones the header commits to, and a
// failure says nothing about the block the header names. Every later
// failure does condemn the header. See IsBodyMismatch.
func CheckBlockSanity(b *types.Block, txids []types.Hash, p *Params) error {
	if root := types.MerkleRoot(txids); root != b.Header.TxRoot {
		return ruleError(ErrBadMerkleRoot, "transaction root %s does not match the header's %s", root, b.Header.TxRoot)
	}
	if len(b.Txs) == 0 {
		return ruleError(ErrNoTxs, "block has no transactions")
	}
	if uint64(len(b.Txs)) > uint64(p.MaxBlockTxs) {
		return ruleError(ErrTooManyTxs, "block has %d transactions, at most %d allowed", len(b.Txs), p.MaxBlockTxs)
	}
	if size := b.EncodedSize(); uint64(size) > uint64(p.MaxBlockSize) {
		return ruleError(ErrBlockTooBig, "block is %d bytes, at most %d allowed", size, p.MaxBlockSize)
	}
	if err := checkCoinbaseShape(b.Txs[0], b.Header.Height, p); err != nil {
		return err
	}
	for _, tx := range b.Txs[1:] {
		if err := CheckTxSanity(tx, p); err != nil {
			return err
		}
	}
	seen := make(map[types.Hash]struct{}, len(txids))
	for _, id := range txids {
		if _, dup := seen[id]; dup {
			return ruleError(ErrDuplicateTx, "transaction %s appears twice", id)
		}
		seen[id] = struct{}{}
	}
	return nil
}

// IsBodyMismatch reports whether err only shows that a block's transactions
// are not the ones its header commits to. Such a block must be dropped
// without marking its hash invalid: the honest block with the same header
// may still arrive.
func IsBodyMismatch(err error) bool { return errors.Is(err, ErrBadMerkleRoot) }

func checkCoinbaseShape(cb *types.Tx, height uint32, p *Params) error {
	if cb.Kind != types.TxCoinbase {
		return ruleError(ErrFirstTxNotCoinbase, "first transaction is not a coinbase")
	}
	if cb.Nonce != uint64(height) {
		return ruleError(ErrBadCoinbase, "coinbase carries height %d in a block at height %d", cb.Nonce, height)
	}
	if cb.ChainID != p.ChainID {
		return ruleError(ErrBadCoinbase, "coinbase for chain id %d, this network is %d", cb.ChainID, p.ChainID)
	}
	if cb.Fee != 0 {
		return ruleError(ErrBadCoinbase, "coinbase has a fee of %d", cb.Fee)
	}
	if cb.To == (types.Address{}) {
		return ruleError(ErrBadRecipient, "coinbase pays the all-zero address")
	}
	if len(cb.Memo) > types.MaxMemoSize {
		return ruleError(ErrMemoTooLong, "coinbase memo of %d bytes exceeds %d", len(cb.Memo), types.MaxMemoSize)
	}
	return nil
}
