package chain

import "fmt"

// ErrorKind identifies why the chain store refused a block or an operation.
// Consensus failures are returned as *consensus.RuleError unchanged; these
// kinds cover the store's own conditions. errors.Is(err, chain.ErrOrphan)
// matches an *Error of that kind.
type ErrorKind string

// Error implements the error interface.
func (k ErrorKind) Error() string { return string(k) }

const (
	// ErrDuplicateBlock: the block is already stored.
	ErrDuplicateBlock = ErrorKind("ErrDuplicateBlock")
	// ErrKnownInvalid: the block, or one of its ancestors, failed
	// validation before.
	ErrKnownInvalid = ErrorKind("ErrKnownInvalid")
	// ErrUnknownBlock: no block with that hash or height is known.
	ErrUnknownBlock = ErrorKind("ErrUnknownBlock")
	// ErrGenesisMismatch: the database belongs to another network.
	ErrGenesisMismatch = ErrorKind("ErrGenesisMismatch")
	// ErrCorruptDB: stored data is inconsistent or undecodable. Recover by
	// reindexing (rebuilding index and state from the stored blocks) or,
	// failing that, by deleting the data directory and resyncing.
	ErrCorruptDB = ErrorKind("ErrCorruptDB")
	// ErrStorage: a read or write of the database failed in the middle of
	// a change. The database itself is consistent (each batch is atomic),
	// but the store refuses further changes until it is reopened, since
	// memory may no longer match the disk.
	ErrStorage = ErrorKind("ErrStorage")
	// ErrInsufficientWork: a side-chain block whose branch is too far
	// behind the tip in work to be worth storing (see ProcessBlock).
	ErrInsufficientWork = ErrorKind("ErrInsufficientWork")
	// ErrClosed: the store has been closed.
	ErrClosed = ErrorKind("ErrClosed")
	// ErrInvalidateGenesis: the genesis block cannot be invalidated.
	ErrInvalidateGenesis = ErrorKind("ErrInvalidateGenesis")
	// ErrIndexUnavailable: the query needs the address index, and the
	// store runs without it (Config.NoAddressIndex).
	ErrIndexUnavailable = ErrorKind("ErrIndexUnavailable")
	// ErrBadCursor: an address-history cursor that does not decode.
	ErrBadCursor = ErrorKind("ErrBadCursor")
	// ErrBadLimit: a query's limit is out of its range.
	ErrBadLimit = ErrorKind("ErrBadLimit")
)

// Error is a chain store failure of a given kind.
type Error struct {
	Kind        ErrorKind
	Description string
}

// Error implements the error interface.
func (e *Error) Error() string { return e.Description }

// Unwrap lets errors.Is match the kind.
func (e *Error) Unwrap() error { return e.Kind }

func chainError(kind ErrorKind, format string, args ...any) *Error {
	return &Error{Kind: kind, Description: fmt.Sprintf(format, args...)}
}

func corrupt(format string, args ...any) *Error {
	return &Error{Kind: ErrCorruptDB, Description: "database is corrupt: " + fmt.Sprintf(format, args...) +
		" (rebuild it with reindex, or delete the data directory and resync)"}
}
