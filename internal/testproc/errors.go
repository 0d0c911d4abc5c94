package testproc

import "fmt"

// ErrorKind identifies a failure of this package. It implements error so
// that errors.Is(err, testproc.ErrTimeout) matches an *Error of that kind.
type ErrorKind string

// Error implements the error interface.
func (k ErrorKind) Error() string { return string(k) }

const (
	// ErrBuild: go build failed; the description holds its output.
	ErrBuild = ErrorKind("ErrBuild")
	// ErrStart: the process could not be started (or its log file
	// could not be opened).
	ErrStart = ErrorKind("ErrStart")
	// ErrTimeout: what was waited for did not happen in time.
	ErrTimeout = ErrorKind("ErrTimeout")
	// ErrExited: the process exited while something was still expected
	// of it (a log line).
	ErrExited = ErrorKind("ErrExited")
	// ErrNoPorts: no free range of loopback ports was found.
	ErrNoPorts = ErrorKind("ErrNoPorts")
)

// Error is a failure of a given kind with a description and, when there is
// one, its cause.
type Error struct {
	Kind        ErrorKind
	Description string
	Cause       error
}

func (e *Error) Error() string {
	if e.Cause != nil {
		return fmt.Sprintf("testproc: %s: %v", e.Description, e.Cause)
	}
	return "testproc: " + e.Description
}

// Unwrap gives errors.Is the kind and the cause.
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
