package consensus

import (
	"encoding/binary"
	"runtime"

	"github.com/ledger-node/ledger/chain/types"
	"github.com/ledger-node/ledger/consensus/lthash"
)

// AccountReader reads account state as of the parent of the block being
// applied. Absent accounts read as the zero Account. Errors are storage
// failures, passed through unchanged.
type AccountReader interface {
	Account(addr types.Address) (Account, error)
}

// AccountChange is one account touched by a block: its state before and
// after.
type AccountChange struct {
	Addr          types.Address
	Before, After Account
}

// StateDelta is the effect of a block on the state.
type StateDelta struct {
	// Changes lists every touched account once, in first-touch order.
	Changes []AccountChange
	// Fees is the sum of the block's transfer fees.
	Fees types.Amount
	// Commitment is the state commitment after the block; its Sum is the
	// header's StateRoot.
	Commitment lthash.Hash
}

// AccountLeafSize is the size of an account's leaf in the commitment.
const AccountLeafSize = types.AddressSize + 8 + 8

// AccountLeaf is an account's element of the state commitment: address,
// balance and nonce.
func AccountLeaf(addr types.Address, a Account) []byte {
	leaf := make([]byte, AccountLeafSize)
	copy(leaf, addr[:])
	binary.BigEndian.PutUint64(leaf[types.AddressSize:], uint64(a.Balance))
	binary.BigEndian.PutUint64(leaf[types.AddressSize+8:], a.Nonce)
	return leaf
}

// ApplyBlock runs a block's transactions in order over the state that view
// reads and parent commits to, and checks the result against the header:
// every transfer's nonce and balance, the coinbase paying at most subsidy
// plus fees, and the state root. The block must have passed
// CheckBlockSanity, and its signatures VerifySignatures: ApplyBlock does
// not verify signatures. Nothing is written; the caller stores the delta.
func ApplyBlock(view AccountReader, parent *lthash.Hash, b *types.Block, p *Params) (*StateDelta, error) {
	d, err := ApplyTransactions(view, parent, b, p)
	if err != nil {
		return nil, err
	}
	if root := types.Hash(d.Commitment.Sum()); root != b.Header.StateRoot {
		return nil, ruleError(ErrBadStateRoot, "state root %s does not match the header's %s", root, b.Header.StateRoot)
	}
	return d, nil
}

// ApplyTransactions is ApplyBlock without the state-root check: block
// producers call it to learn the root of the block they are building.
func ApplyTransactions(view AccountReader, parent *lthash.Hash, b *types.Block, p *Params) (*StateDelta, error) {
	d := &StateDelta{Changes: make([]AccountChange, 0, 2*len(b.Txs))}
	index := make(map[types.Address]int, 2*len(b.Txs))
	touch := func(addr types.Address) (int, error) {
		if i, ok := index[addr]; ok {
			return i, nil
		}
		acct, err := view.Account(addr)
		if err != nil {
			return 0, err
		}
		index[addr] = len(d.Changes)
		d.Changes = append(d.Changes, AccountChange{Addr: addr, Before: acct, After: acct})
		return len(d.Changes) - 1, nil
	}
	for _, tx := range b.Txs[1:] {
		si, err := touch(tx.Sender())
		if err != nil {
			return nil, err
		}
		if d.Changes[si].After, err = DebitSender(d.Changes[si].After, tx); err != nil {
			return nil, err
		}
		ri, err := touch(tx.To)
		if err != nil {
			return nil, err
		}
		if d.Changes[ri].After, err = Credit(d.Changes[ri].After, tx.Amount); err != nil {
			return nil, err
		}
		if d.Fees+tx.Fee < d.Fees {
			return nil, ruleError(ErrAmountOverflow, "block fees overflow")
		}
		d.Fees += tx.Fee
	}
	cb := b.Txs[0]
	subsidy := p.Subsidy(b.Header.Height)
	limit := subsidy + d.Fees
	if limit < subsidy {
		return nil, ruleError(ErrAmountOverflow, "subsidy %d plus fees %d overflows", subsidy, d.Fees)
	}
	if cb.Amount > limit {
		return nil, ruleError(ErrCoinbaseTooHigh, "coinbase pays %d, subsidy %d plus fees %d allow %d",
			cb.Amount, subsidy, d.Fees, limit)
	}
	if cb.Amount > 0 {
		mi, err := touch(cb.To)
		if err != nil {
			return nil, err
		}
		if d.Changes[mi].After, err = Credit(d.Changes[mi].After, cb.Amount); err != nil {
			return nil, err
		}
	}
	d.Commitment = UpdateCommitment(parent, d.Changes)
	return d, nil
}

// UpdateCommitment returns parent with each change's old leaf removed and
// new leaf added (empty accounts have no leaf), expanding the leaves on all
// cores.
func UpdateCommitment(parent *lthash.Hash, changes []AccountChange) lthash.Hash {
	var added, removed [][]byte
	for _, c := range changes {
		if c.Before == c.After {
			continue
		}
		if !c.Before.IsEmpty() {
			removed = append(removed, AccountLeaf(c.Addr, c.Before))
		}
		if !c.After.IsEmpty() {
			added = append(added, AccountLeaf(c.Addr, c.After))
		}
	}
	workers := runtime.GOMAXPROCS(0)
	out := *parent
	plus := lthash.AddAll(added, workers)
	minus := lthash.AddAll(removed, workers)
	out.Combine(&plus)
	out.Subtract(&minus)
	return out
}
