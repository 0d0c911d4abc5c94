package chain

import (
	"encoding/binary"

	"github.com/ledger-node/ledger/chain/types"
	"github.com/ledger-node/ledger/consensus"
	"github.com/ledger-node/ledger/consensus/lthash"
)

// Key schema. Every key starts with a one-byte prefix naming its table.
//
//	'G'                 -> genesis hash (32) || schema version (4)
//	'S'                 -> tip hash (32) || state commitment (lthash.Size)
//	'B' || block hash   -> encoded block
//	'I' || block hash   -> encoded header (118) || status (1)
//	'H' || height (4)   -> main-chain block hash
//	'T' || tx id        -> height (4) || index in block (4), main chain only
//	'A' || address      -> balance (8) || nonce (8); absent when empty
//	'U' || block hash   -> undo: count (4) || count x (address || balance || nonce) before the block
//	'X' || address || height (4) || index in block (4) -> nothing: the address index, main chain only (addrindex.go)
//	'Y'                 -> address index version (1) || tip hash (32): the index is complete up to that tip (addrindex.go)
//
// The tip marker 'S' is written in the same batch as the state it describes,
// so the database is always at exactly one tip; with the address index on,
// 'Y' is rewritten in that batch too, naming the same tip.
const (
	prefixGenesis = 'G'
	prefixTip     = 'S'
	prefixBlock   = 'B'
	prefixIndex   = 'I'
	prefixHeight  = 'H'
	prefixTx      = 'T'
	prefixAccount = 'A'
	prefixUndo    = 'U'
	prefixAddrTx  = 'X'
	// addrIndexReadyKey is a key of one byte, not a prefix.
	addrIndexReadyKey = 'Y'
)

// schemaVersion changes when the layout above changes incompatibly.
const schemaVersion = 1

func hashKey(prefix byte, h types.Hash) []byte {
	k := make([]byte, 1+types.HashSize)
	k[0] = prefix
	copy(k[1:], h[:])
	return k
}

func heightKey(height uint32) []byte {
	k := make([]byte, 5)
	k[0] = prefixHeight
	binary.BigEndian.PutUint32(k[1:], height)
	return k
}

func accountKey(a types.Address) []byte {
	k := make([]byte, 1+types.AddressSize)
	k[0] = prefixAccount
	copy(k[1:], a[:])
	return k
}

const accountValueSize = 16

func encodeAccount(a consensus.Account) []byte {
	v := make([]byte, accountValueSize)
	binary.BigEndian.PutUint64(v, uint64(a.Balance))
	binary.BigEndian.PutUint64(v[8:], a.Nonce)
	return v
}

func decodeAccount(v []byte) (consensus.Account, error) {
	if len(v) != accountValueSize {
		return consensus.Account{}, corrupt("account record of %d bytes", len(v))
	}
	a := consensus.Account{
		Balance: types.Amount(binary.BigEndian.Uint64(v)),
		Nonce:   binary.BigEndian.Uint64(v[8:]),
	}
	if a.IsEmpty() {
		return a, corrupt("empty account stored")
	}
	return a, nil
}

const txLocSize = 8

// TxLocation is where a main-chain transaction sits.
type TxLocation struct {
	Height uint32
	Index  uint32
}

func encodeTxLoc(l TxLocation) []byte {
	v := make([]byte, txLocSize)
	binary.BigEndian.PutUint32(v, l.Height)
	binary.BigEndian.PutUint32(v[4:], l.Index)
	return v
}

func decodeTxLoc(v []byte) (TxLocation, error) {
	if len(v) != txLocSize {
		return TxLocation{}, corrupt("transaction location of %d bytes", len(v))
	}
	return TxLocation{Height: binary.BigEndian.Uint32(v), Index: binary.BigEndian.Uint32(v[4:])}, nil
}

const undoEntrySize = types.AddressSize + accountValueSize

// undoEntry is an account as it was before a block.
type undoEntry struct {
	Addr   types.Address
	Before consensus.Account
}

func encodeUndo(changes []consensus.AccountChange) []byte {
	v := make([]byte, 4, 4+len(changes)*undoEntrySize)
	binary.BigEndian.PutUint32(v, uint32(len(changes)))
	for _, c := range changes {
		v = append(v, c.Addr[:]...)
		v = binary.BigEndian.AppendUint64(v, uint64(c.Before.Balance))
		v = binary.BigEndian.AppendUint64(v, c.Before.Nonce)
	}
	return v
}

func decodeUndo(v []byte) ([]undoEntry, error) {
	if len(v) < 4 {
		return nil, corrupt("undo record of %d bytes", len(v))
	}
	n := binary.BigEndian.Uint32(v)
	if uint64(len(v)-4) != uint64(n)*undoEntrySize {
		return nil, corrupt("undo record announces %d entries in %d bytes", n, len(v))
	}
	out := make([]undoEntry, n)
	for i := range out {
		e := v[4+i*undoEntrySize:]
		copy(out[i].Addr[:], e)
		out[i].Before.Balance = types.Amount(binary.BigEndian.Uint64(e[types.AddressSize:]))
		out[i].Before.Nonce = binary.BigEndian.Uint64(e[types.AddressSize+8:])
	}
	return out, nil
}

const tipValueSize = types.HashSize + lthash.Size

func encodeTip(h types.Hash, c *lthash.Hash) []byte {
	v := make([]byte, 0, tipValueSize)
	v = append(v, h[:]...)
	b := c.Bytes()
	return append(v, b[:]...)
}

func decodeTip(v []byte) (types.Hash, lthash.Hash, error) {
	var h types.Hash
	if len(v) != tipValueSize {
		return h, lthash.Hash{}, corrupt("tip record of %d bytes", len(v))
	}
	copy(h[:], v)
	c, err := lthash.FromBytes(v[types.HashSize:])
	if err != nil {
		return h, c, corrupt("tip commitment: %v", err)
	}
	return h, c, nil
}

const indexValueSize = types.HeaderSize + 1

func encodeIndex(n *blockNode) []byte {
	v := make([]byte, indexValueSize)
	n.header.Put((*[types.HeaderSize]byte)(v))
	v[types.HeaderSize] = byte(n.status & statusPersisted)
	return v
}
