package testnet

import "fmt"

// ErrorKind identifies a testnet failure. It implements error so that
// errors.Is(err, testnet.ErrBadManifest) matches an *Error of that kind.
type ErrorKind string

// Error implements the error interface.
func (k ErrorKind) Error() string { return string(k) }

const (
	// ErrBadOptions: a flag value is out of range (node count, miners,
	// block time, ports, host).
	ErrBadOptions = ErrorKind("ErrBadOptions")
	// ErrConflict: flags given on a restart disagree with the network
	// the directory already holds.
	ErrConflict = ErrorKind("ErrConflict")
	// ErrDirNotEmpty: the directory has files but no testnet.json, so it
	// is not a testnet this command made; nothing is written to it.
	ErrDirNotEmpty = ErrorKind("ErrDirNotEmpty")
	// ErrBadManifest: testnet.json is unreadable, too large, not the
	// expected JSON or describes another layout than its directory's.
	ErrBadManifest = ErrorKind("ErrBadManifest")
	// ErrBadLayout: a file the manifest relies on (genesis, node key,
	// node config, faucet wallet) is missing or disagrees with it.
	ErrBadLayout = ErrorKind("ErrBadLayout")
	// ErrPortInUse: a port a node needs cannot be listened on (checked
	// before any node starts).
	ErrPortInUse = ErrorKind("ErrPortInUse")
	// ErrNodeFailed: a node process did not start, did not become ready,
	// exited on its own or did not stop cleanly.
	ErrNodeFailed = ErrorKind("ErrNodeFailed")
)

// Error is a testnet failure of a given kind, with the cause when there is
// one (an operating-system or decoding error).
type Error struct {
	Kind        ErrorKind
	Description string
	Err         error
}

// Error implements the error interface.
func (e *Error) Error() string {
	if e.Err != nil {
		return e.Description + ": " + e.Err.Error()
	}
	return e.Description
}

// Unwrap lets errors.Is match both the kind and the cause.
func (e *Error) Unwrap() []error {
	if e.Err != nil {
		return []error{e.Kind, e.Err}
	}
	return []error{e.Kind}
}

func errorf(kind ErrorKind, format string, args ...any) *Error {
	return &Error{Kind: kind, Description: fmt.Sprintf(format, args...)}
}

func wrapf(kind ErrorKind, err error, format string, args ...any) *Error {
	return &Error{Kind: kind, Description: fmt.Sprintf(format, args...), Err: err}
}
