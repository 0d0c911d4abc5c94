package metrics

import (
	"github.com/ledger-node/ledger/chain"
	"github.com/ledger-node/ledger/consensus"
	"github.com/ledger-node/ledger/internal/reason"
	"github.com/ledger-node/ledger/mempool"
)

// reasonOther labels a refusal whose kind is not in knownKinds, or that
// has none (a storage failure).
const reasonOther = "other"

// knownKinds are the reasons a label may carry: every consensus rule and
// pool policy (a test checks these against their declarations), and the
// chain store's own refusals of a block. A kind missing here is counted
// as "other", never as a new series.
var knownKinds = func() map[string]bool {
	kinds := []error{
		// consensus: headers
		consensus.ErrBadVersion, consensus.ErrBadTarget, consensus.ErrHighHash, consensus.ErrUnexpectedBits,
		consensus.ErrBadHeight, consensus.ErrTimeTooOld, consensus.ErrTimeTooNew, consensus.ErrBadPrevBlock,
		// consensus: blocks
		consensus.ErrNoTxs, consensus.ErrFirstTxNotCoinbase, consensus.ErrMultipleCoinbases, consensus.ErrBadCoinbase,
		consensus.ErrCoinbaseTooHigh, consensus.ErrBadMerkleRoot, consensus.ErrDuplicateTx, consensus.ErrBlockTooBig,
		consensus.ErrTooManyTxs, consensus.ErrBadStateRoot,
		// consensus: transactions
		consensus.ErrWrongChainID, consensus.ErrZeroAmount, consensus.ErrBadRecipient, consensus.ErrMemoTooLong,
		consensus.ErrBadPubKey, consensus.ErrBadSignature, consensus.ErrHighS, consensus.ErrBadNonce,
		consensus.ErrInsufficientBalance, consensus.ErrAmountOverflow,
		// pool policy and persistence
		mempool.ErrAlreadyKnown, mempool.ErrCoinbase, mempool.ErrTxTooLarge, mempool.ErrFeeTooLow,
		mempool.ErrReplacementUnderpriced, mempool.ErrNonceGap, mempool.ErrSenderLimit, mempool.ErrPoolFull,
		mempool.ErrPoolClosed, mempool.ErrBadPoolFile, mempool.ErrPoolFileNetwork,
		// the chain store's refusals of a block
		chain.ErrDuplicateBlock, chain.ErrKnownInvalid, chain.ErrInsufficientWork, chain.ErrClosed,
		chain.ErrStorage, chain.ErrCorruptDB,
	}
	m := make(map[string]bool, len(kinds))
	for _, k := range kinds {
		m[k.Error()] = true
	}
	return m
}()

// reasonLabel is the label for a refusal: its kind's name (reason.Of, the
// string RPC reports as data.reason) if known, else "other".
func reasonLabel(err error) string {
	if k := reason.Of(err); knownKinds[k] {
		return k
	}
	return reasonOther
}
