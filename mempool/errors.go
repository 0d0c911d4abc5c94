package mempool

import (
	"errors"
	"fmt"

	"github.com/ledger-node/ledger/consensus"
)

// ErrorKind identifies a pool policy that refused a transaction, or a
// failure of the pool itself. It implements error so that
// errors.Is(err, mempool.ErrFeeTooLow) matches a *PolicyError of that kind.
// The string is stable: RPC and p2p pass it on as the reason, exactly as
// they pass consensus.ErrorKind values from consensus failures.
type ErrorKind string

// Error implements the error interface.
func (k ErrorKind) Error() string { return string(k) }

// Policy kinds: why the pool refused a transaction that may be valid by
// consensus.
const (
	// ErrAlreadyKnown: the transaction is already in the pool.
	ErrAlreadyKnown = ErrorKind("ErrAlreadyKnown")
	// ErrCoinbase: a coinbase is only valid inside a block.
	ErrCoinbase = ErrorKind("ErrCoinbase")
	// ErrTxTooLarge: the encoded transaction exceeds Config.MaxTxSize.
	ErrTxTooLarge = ErrorKind("ErrTxTooLarge")
	// ErrFeeTooLow: the fee rate is below the minimum relay fee rate.
	ErrFeeTooLow = ErrorKind("ErrFeeTooLow")
	// ErrReplacementUnderpriced: a transaction with the same sender and
	// nonce is pending and the new fee is not at least ReplaceBumpPercent
	// higher.
	ErrReplacementUnderpriced = ErrorKind("ErrReplacementUnderpriced")
	// ErrNonceGap: the nonce is more than Config.MaxNonceGap beyond the
	// sender's next executable nonce.
	ErrNonceGap = ErrorKind("ErrNonceGap")
	// ErrSenderLimit: the sender already has Config.MaxPerSender
	// transactions in the pool.
	ErrSenderLimit = ErrorKind("ErrSenderLimit")
	// ErrPoolFull: the pool is at its count or byte limit and the
	// transaction would be the first to be evicted (its fee rate does not
	// beat what it would displace, or it depends on what it would
	// displace).
	ErrPoolFull = ErrorKind("ErrPoolFull")
	// ErrPoolClosed: the pool has been closed.
	ErrPoolClosed = ErrorKind("ErrPoolClosed")
)

// Persistence kinds: a pool file that cannot be loaded.
const (
	// ErrBadPoolFile: the file is truncated, corrupt or not a pool file.
	ErrBadPoolFile = ErrorKind("ErrBadPoolFile")
	// ErrPoolFileNetwork: the file was saved by a node of another network.
	ErrPoolFileNetwork = ErrorKind("ErrPoolFileNetwork")
)

// PolicyError is a refusal by pool policy (or a pool failure): which kind,
// and a description of the instance. Consensus failures are returned as
// *consensus.RuleError values, unchanged.
type PolicyError struct {
	Kind        ErrorKind
	Description string
}

// Error implements the error interface.
func (e *PolicyError) Error() string { return e.Description }

// Unwrap lets errors.Is match the kind.
func (e *PolicyError) Unwrap() error { return e.Kind }

func policyError(kind ErrorKind, format string, args ...any) *PolicyError {
	return &PolicyError{Kind: kind, Description: fmt.Sprintf(format, args...)}
}

// Kind returns the stable reason string of an error returned by the pool:
// the consensus.ErrorKind of a consensus failure or the ErrorKind of a
// policy refusal. It returns "" for other errors (storage failures), which
// callers report as internal errors rather than as the sender's fault.
func Kind(err error) string {
	var re *consensus.RuleError
	if errors.As(err, &re) {
		return string(re.Kind)
	}
	var pe *PolicyError
	if errors.As(err, &pe) {
		return string(pe.Kind)
	}
	var ck consensus.ErrorKind
	if errors.As(err, &ck) {
		return string(ck)
	}
	var pk ErrorKind
	if errors.As(err, &pk) {
		return string(pk)
	}
	return ""
}

// permanent reports whether a refusal can never turn into acceptance for
// the same transaction id: the signature covers every byte, so a bad
// signature stays bad. The pool remembers these and refuses repeats without
// verifying again.
func permanent(err error) bool {
	return errors.Is(err, consensus.ErrBadSignature) || errors.Is(err, consensus.ErrHighS) ||
		errors.Is(err, consensus.ErrBadPubKey) || errors.Is(err, consensus.ErrWrongChainID) ||
		errors.Is(err, consensus.ErrZeroAmount) || errors.Is(err, consensus.ErrBadRecipient) ||
		errors.Is(err, consensus.ErrMemoTooLong) || errors.Is(err, consensus.ErrAmountOverflow) ||
		errors.Is(err, ErrCoinbase) || errors.Is(err, ErrTxTooLarge)
}
