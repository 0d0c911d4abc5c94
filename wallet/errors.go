package wallet

import "fmt"

// ErrorKind identifies a class of wallet error. It implements error so that
// errors.Is(err, kind) matches any *Error of that kind.
type ErrorKind string

// Wallet error kinds.
const (
	// ErrBadMnemonic: a mnemonic has an unknown word, the wrong number of
	// words or a wrong checksum.
	ErrBadMnemonic = ErrorKind("ErrBadMnemonic")
	// ErrBadEntropy: entropy for a mnemonic has an unsupported length.
	ErrBadEntropy = ErrorKind("ErrBadEntropy")
	// ErrBadSeed: a seed has an unsupported length or gives an invalid
	// master key.
	ErrBadSeed = ErrorKind("ErrBadSeed")
	// ErrBadPath: a derivation path is malformed, or asks a public key for
	// a hardened child.
	ErrBadPath = ErrorKind("ErrBadPath")
	// ErrInvalidChild: a derivation step produced an invalid key (chance
	// below 2^-127); the caller skips to the next index.
	ErrInvalidChild = ErrorKind("ErrInvalidChild")
	// ErrBadExtendedKey: a serialised extended key is malformed.
	ErrBadExtendedKey = ErrorKind("ErrBadExtendedKey")
	// ErrWrongPassword: the password does not open the keystore.
	ErrWrongPassword = ErrorKind("ErrWrongPassword")
	// ErrCorruptKeystore: a keystore file is truncated, oversized,
	// malformed or has been tampered with.
	ErrCorruptKeystore = ErrorKind("ErrCorruptKeystore")
	// ErrWalletExists: a wallet of that name already exists; it is never
	// overwritten.
	ErrWalletExists = ErrorKind("ErrWalletExists")
	// ErrWalletNotFound: no wallet of that name exists.
	ErrWalletNotFound = ErrorKind("ErrWalletNotFound")
	// ErrBadName: a wallet name is not 1 to 64 letters, digits, '-' or '_'.
	ErrBadName = ErrorKind("ErrBadName")
	// ErrBadParams: KDF parameters or network parameters are out of range.
	ErrBadParams = ErrorKind("ErrBadParams")
	// ErrBadAddress: an address is malformed (wrong length, bad
	// characters, mixed case).
	ErrBadAddress = ErrorKind("ErrBadAddress")
	// ErrAddressChecksum: an address's bech32 checksum is wrong, most
	// likely a typing mistake.
	ErrAddressChecksum = ErrorKind("ErrAddressChecksum")
	// ErrWrongNetwork: an address or keystore belongs to another network.
	ErrWrongNetwork = ErrorKind("ErrWrongNetwork")
	// ErrZeroAmount: a transfer of nothing.
	ErrZeroAmount = ErrorKind("ErrZeroAmount")
	// ErrOverflow: amount plus fee (or a fee computation) overflows.
	ErrOverflow = ErrorKind("ErrOverflow")
	// ErrInsufficientFunds: amount plus fee exceeds the balance.
	ErrInsufficientFunds = ErrorKind("ErrInsufficientFunds")
	// ErrBadMemo: a memo is longer than the chain allows.
	ErrBadMemo = ErrorKind("ErrBadMemo")
	// ErrNode: the node client failed; the cause is wrapped.
	ErrNode = ErrorKind("ErrNode")
	// ErrFeeTooHigh: the fee a node suggests is above the request's
	// MaxFee (DefaultMaxFee if zero); nothing was signed.
	ErrFeeTooHigh = ErrorKind("ErrFeeTooHigh")
)

// Error implements the error interface.
func (k ErrorKind) Error() string { return string(k) }

// Error is a wallet error: a kind, a description and an optional cause.
type Error struct {
	Kind        ErrorKind
	Description string
	Cause       error
}

// Error implements the error interface.
func (e *Error) Error() string {
	if e.Cause != nil {
		return "wallet: " + e.Description + ": " + e.Cause.Error()
	}
	return "wallet: " + e.Description
}

// Unwrap lets errors.Is match the kind and the cause.
func (e *Error) Unwrap() []error {
	if e.Cause != nil {
		return []error{e.Kind, e.Cause}
	}
	return []error{e.Kind}
}

func errorf(kind ErrorKind, format string, args ...any) *Error {
	return &Error{Kind: kind, Description: fmt.Sprintf(format, args...)}
}

func wrapf(kind ErrorKind, cause error, format string, args ...any) *Error {
	return &Error{Kind: kind, Description: fmt.Sprintf(format, args...), Cause: cause}
}
