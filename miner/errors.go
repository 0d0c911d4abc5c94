package miner

import "fmt"

// ErrorKind identifies a miner failure. It implements error so that
// errors.Is(err, miner.ErrNilBlock) matches an *Error of that kind.
// Consensus and chain failures of a submitted block are returned unchanged
// (*consensus.RuleError, *chain.Error).
type ErrorKind string

// Error implements the error interface.
func (k ErrorKind) Error() string { return string(k) }

const (
	// ErrNilBlock: SubmitBlock was given no block.
	ErrNilBlock = ErrorKind("ErrNilBlock")
	// ErrRunning: Start was called on a running miner, or on one whose
	// Stop has not finished.
	ErrRunning = ErrorKind("ErrRunning")
	// ErrTemplate: the selected transactions did not apply to the state
	// they were checked against; a bug, never the sender's fault.
	ErrTemplate = ErrorKind("ErrTemplate")
	// ErrBadConfig: a required Config field is missing or unusable (no
	// chain, a zero coinbase address, a tag too long).
	ErrBadConfig = ErrorKind("ErrBadConfig")
	// ErrBadAddress: a template was asked for the zero address, which no
	// coinbase may pay (consensus.ErrBadRecipient).
	ErrBadAddress = ErrorKind("ErrBadAddress")
	// ErrBadThreads: StartThreads was asked for fewer than 1 or more than
	// MaxThreads threads.
	ErrBadThreads = ErrorKind("ErrBadThreads")
)

// Error is a miner failure of a given kind.
type Error struct {
	Kind        ErrorKind
	Description string
}

// Error implements the error interface.
func (e *Error) Error() string { return e.Description }

// Unwrap lets errors.Is match the kind.
func (e *Error) Unwrap() error { return e.Kind }

func minerError(kind ErrorKind, format string, args ...any) *Error {
	return &Error{Kind: kind, Description: fmt.Sprintf(format, args...)}
}
