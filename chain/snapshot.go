package chain

import (
	"errors"

	"github.com/syndtr/goleveldb/leveldb"

	"github.com/ledger-node/ledger/chain/types"
	"github.com/ledger-node/ledger/consensus"
	"github.com/ledger-node/ledger/consensus/lthash"
)

// StateSnapshot is a consistent view of the state at one tip: the tip, its
// commitment and every account as of that tip, however the chain moves on
// meanwhile. Block producers and the mempool read through it. Release it
// when done; it is safe for concurrent reads.
type StateSnapshot struct {
	snap *leveldb.Snapshot
	// Tip is the block the state is at.
	Tip    types.Hash
	Height uint32
	Header types.Header
	// Commitment is the state commitment at Tip.
	Commitment lthash.Hash
}

// StateSnapshot takes a snapshot of the state at the current tip. The tip
// is read from the snapshot itself, so tip and accounts always agree.
func (c *Chain) StateSnapshot() (*StateSnapshot, error) {
	if c.isClosed() {
		return nil, chainError(ErrClosed, "chain store is closed")
	}
	snap, err := c.db.GetSnapshot()
	if err != nil {
		return nil, err
	}
	v, err := snap.Get([]byte{prefixTip}, nil)
	if err != nil {
		snap.Release()
		return nil, c.readErr(err)
	}
	tip, commitment, err := decodeTip(v)
	if err != nil {
		snap.Release()
		return nil, err
	}
	hdr, err := c.snapshotTipHeader(snap, tip)
	if err != nil {
		snap.Release()
		return nil, err
	}
	return &StateSnapshot{snap: snap, Tip: tip, Height: hdr.Height, Header: hdr, Commitment: commitment}, nil
}

// Account implements consensus.AccountReader at the snapshot's tip.
func (s *StateSnapshot) Account(addr types.Address) (consensus.Account, error) {
	val, err := s.snap.Get(accountKey(addr), nil)
	if errors.Is(err, leveldb.ErrNotFound) {
		return consensus.Account{}, nil
	}
	if err != nil {
		return consensus.Account{}, err
	}
	return decodeAccount(val)
}

// Release frees the snapshot.
func (s *StateSnapshot) Release() { s.snap.Release() }
