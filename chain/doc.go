// Package chain is the node's chain store: block bodies, the block index
// with cumulative work, the main chain, the transaction index, the address
// index, account state and undo data, all in one LevelDB database (the key
// schema is in db.go); fork choice by most cumulative
// work with reorganisation; a bounded pool of orphan blocks; a signature
// cache; notifications of connected and disconnected blocks; and operator
// tools (Reindex, InvalidateBlock, ReconsiderBlock).
//
// The data formats live in chain/types, the network definition in
// chain/genesis, and the rules in package consensus; this package applies
// the rules in order and stores the result.
//
// Crash safety: connecting or disconnecting a block is one LevelDB batch
// holding the account changes, the transaction index, the address index
// and its marker, the undo data, the main-chain record and the tip marker,
// written with Sync. A kill at any instant leaves the database at the old
// tip or the new one. Open checks
// that the tip marker, the main chain, the commitment and (unless skipped)
// every stored account agree, fails with ErrCorruptDB if not, and finishes
// a reorganisation a crash interrupted. A reorganisation of depth d is d
// disconnect batches and then the connect batches, each durable on its own.
//
// Address index (addrindex.go): for every main-chain transaction, an entry
// under its sender (transfers) and its recipient (transfers and
// coinbases), once for a self-transfer, keyed by address, height and
// position. AddressTxs pages through an address's history newest first
// with an opaque cursor (ParseAddressCursor refuses a malformed one with
// ErrBadCursor), reading one snapshot so that an answer describes one tip.
// A call reads each block once and stops at a block boundary after 16 MiB
// of bodies, so a page may be short with a cursor to resume from. It is
// on by default; with Config.NoAddressIndex the store drops it at open and
// AddressTxs fails with ErrIndexUnavailable. A marker records the tip the
// index is complete up to, rewritten in every connect and disconnect
// batch: a store opened with the index whose marker is missing or names
// another tip than the tip marker (it ran without the index, under a
// binary that predates it, or crashed in the middle of building it)
// builds the index from the main chain's bodies before Open returns.
// Reindex rebuilds it with everything else.
//
// Validation: a block is checked in stages (see package consensus). The
// header's proof of work is checked before anything is stored, including
// orphans. Side-chain blocks are stored after their header and sanity
// checks and fully validated only when their branch gains the most work. A
// block that fails full validation is marked invalid with its descendants
// and the best valid chain is restored. A block refused only because its
// timestamp is too far ahead, or because its transactions do not match its
// header's Merkle root, is not marked invalid: the same header may yet be
// valid with the right body or later in time.
//
// Resource limits: the header's proof of work is checked before anything
// else; orphans wait in a pool bounded by count, bytes and age after their
// body matched their header; blocks refused for a permanent reason (and
// their descendants) are remembered in a bounded set; and a side-chain
// block from a stranger is stored only if its branch is within
// MaxForkDeficit blocks' worth of work of the tip and the block is not far
// easier than the tip (ProcessRequestedBlock, for sync, skips this).
//
// Storage failures: a failed read or write in the middle of a change
// leaves the database at its last complete batch; the store then refuses
// every change with ErrStorage until it is reopened.
//
// What it does not do: no networking, no mempool and no mining. It does
// not keep headers without bodies (headers-first sync keeps its own).
//
// Concurrency: all methods are safe for concurrent use. Changes
// (ProcessBlock, ProcessRequestedBlock, InvalidateBlock, ReconsiderBlock)
// are serialised by processMu; reads take mu (or the orphan pool's lock)
// briefly and are not blocked by validation or disk writes. Notifications are delivered in order on the changing
// goroutine after the change is durable (see Subscribe). Config.Observer,
// for metrics, hears each ProcessBlock and ProcessRequestedBlock outcome
// on the caller's goroutine after the lock is released and the
// notifications are delivered; it must be quick, as the caller waits.
//
// Errors: consensus failures are *consensus.RuleError values, unchanged;
// the store's own conditions are *Error values with an ErrorKind
// (ErrDuplicateBlock, ErrKnownInvalid, ErrUnknownBlock, ErrGenesisMismatch,
// ErrCorruptDB, ErrStorage, ErrInsufficientWork, ErrClosed,
// ErrInvalidateGenesis, ErrIndexUnavailable, ErrBadCursor, ErrBadLimit),
// matched with errors.Is.
package chain
