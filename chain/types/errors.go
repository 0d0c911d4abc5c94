package types

import "fmt"

// ErrorKind identifies a class of format error. It implements error so that
// errors.Is(err, kind) matches any *Error of that kind.
type ErrorKind string

// Format error kinds.
const (
	// ErrShortInput: the input ends before the value it announces.
	ErrShortInput = ErrorKind("ErrShortInput")
	// ErrTrailingBytes: bytes remain after a complete value.
	ErrTrailingBytes = ErrorKind("ErrTrailingBytes")
	// ErrOverLimit: a length or count exceeds its limit.
	ErrOverLimit = ErrorKind("ErrOverLimit")
	// ErrNonCanonical: the bytes are not the canonical encoding of any value.
	ErrNonCanonical = ErrorKind("ErrNonCanonical")
	// ErrUnknownTxKind: the transaction kind byte is not one we know.
	ErrUnknownTxKind = ErrorKind("ErrUnknownTxKind")
	// ErrBadPubKey: the public key is not a valid compressed secp256k1 point.
	ErrBadPubKey = ErrorKind("ErrBadPubKey")
	// ErrBadSignature: the signature is malformed or does not verify.
	ErrBadSignature = ErrorKind("ErrBadSignature")
	// ErrHighS: the signature's S value is in the upper half of the order.
	ErrHighS = ErrorKind("ErrHighS")
	// ErrBadAddress: an address string is malformed, has a bad checksum or
	// belongs to another network.
	ErrBadAddress = ErrorKind("ErrBadAddress")
	// ErrBadAmount: an amount string is malformed or out of range.
	ErrBadAmount = ErrorKind("ErrBadAmount")
)

// Error implements the error interface.
func (k ErrorKind) Error() string { return string(k) }

// Error is a format error: a kind and a description of the instance.
type Error struct {
	Kind        ErrorKind
	Description string
}

// Error implements the error interface.
func (e *Error) Error() string { return e.Description }

// Unwrap lets errors.Is match the kind.
func (e *Error) Unwrap() error { return e.Kind }

func errorf(kind ErrorKind, format string, args ...any) *Error {
	return &Error{Kind: kind, Description: fmt.Sprintf(format, args...)}
}
