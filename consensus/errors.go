package consensus

import "fmt"

// ErrorKind identifies the rule a block, header or transaction broke. It
// implements error so that errors.Is(err, consensus.ErrHighHash) matches a
// *RuleError of that kind. The string is stable: RPC and p2p pass it on as
// the reason.
type ErrorKind string

// Error implements the error interface.
func (k ErrorKind) Error() string { return string(k) }

// Rule kinds: headers.
const (
	ErrBadVersion     = ErrorKind("ErrBadVersion")     // unknown header version
	ErrBadTarget      = ErrorKind("ErrBadTarget")      // bits decode to a target that is negative, zero, overflows or exceeds the limit
	ErrHighHash       = ErrorKind("ErrHighHash")       // header hash above the target: not enough proof of work
	ErrUnexpectedBits = ErrorKind("ErrUnexpectedBits") // bits differ from what the difficulty algorithm requires
	ErrBadHeight      = ErrorKind("ErrBadHeight")      // height is not the parent's plus one
	ErrTimeTooOld     = ErrorKind("ErrTimeTooOld")     // timestamp not after the median of the previous 11 blocks
	ErrTimeTooNew     = ErrorKind("ErrTimeTooNew")     // timestamp too far ahead of local time (may become valid later)
	ErrBadPrevBlock   = ErrorKind("ErrBadPrevBlock")   // previous hash does not name the parent given
)

// Rule kinds: block structure and contents.
const (
	ErrNoTxs              = ErrorKind("ErrNoTxs")              // block without transactions
	ErrFirstTxNotCoinbase = ErrorKind("ErrFirstTxNotCoinbase") // first transaction is not a coinbase
	ErrMultipleCoinbases  = ErrorKind("ErrMultipleCoinbases")  // a coinbase after the first position
	ErrBadCoinbase        = ErrorKind("ErrBadCoinbase")        // coinbase height, chain id or fee is wrong
	ErrCoinbaseTooHigh    = ErrorKind("ErrCoinbaseTooHigh")    // coinbase pays more than subsidy plus fees
	ErrBadMerkleRoot      = ErrorKind("ErrBadMerkleRoot")      // transaction root does not match the transactions
	ErrDuplicateTx        = ErrorKind("ErrDuplicateTx")        // the same transaction twice in one block
	ErrBlockTooBig        = ErrorKind("ErrBlockTooBig")        // encoded block larger than the limit
	ErrTooManyTxs         = ErrorKind("ErrTooManyTxs")         // more transactions than the limit
	ErrBadStateRoot       = ErrorKind("ErrBadStateRoot")       // state commitment does not match the state after the block
)

// Rule kinds: transactions.
const (
	ErrWrongChainID        = ErrorKind("ErrWrongChainID")        // transaction for another network
	ErrZeroAmount          = ErrorKind("ErrZeroAmount")          // transfer of nothing
	ErrBadRecipient        = ErrorKind("ErrBadRecipient")        // recipient is the all-zero address
	ErrMemoTooLong         = ErrorKind("ErrMemoTooLong")         // memo over the limit
	ErrBadPubKey           = ErrorKind("ErrBadPubKey")           // public key is not a compressed curve point
	ErrBadSignature        = ErrorKind("ErrBadSignature")        // signature malformed or does not verify
	ErrHighS               = ErrorKind("ErrHighS")               // non-canonical high-S signature
	ErrBadNonce            = ErrorKind("ErrBadNonce")            // nonce is not the sender's next nonce
	ErrInsufficientBalance = ErrorKind("ErrInsufficientBalance") // balance does not cover amount plus fee
	ErrAmountOverflow      = ErrorKind("ErrAmountOverflow")      // amount plus fee, a balance or the fee total overflows
)

// RuleError is a broken consensus rule: which rule, and what broke it.
type RuleError struct {
	Kind        ErrorKind
	Description string
}

// Error implements the error interface.
func (e *RuleError) Error() string { return e.Description }

// Unwrap lets errors.Is match the kind.
func (e *RuleError) Unwrap() error { return e.Kind }

func ruleError(kind ErrorKind, format string, args ...any) *RuleError {
	return &RuleError{Kind: kind, Description: fmt.Sprintf(format, args...)}
}
