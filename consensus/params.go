package consensus

import (
	"math/big"

	"github.com/ledger-node/ledger/chain/types"
)

// Params are the consensus parameters of one network. They come from the
// network's genesis file (package chain/genesis builds and validates them)
// and never change for the life of the chain.
type Params struct {
	// Name is the network's human name, e.g. "devnet".
	Name string
	// ChainID is carried and signed in every transaction.
	ChainID uint32
	// AddressPrefix is the bech32 human-readable part of addresses.
	AddressPrefix string
	// GenesisHash identifies the network; every signature covers it.
	GenesisHash types.Hash

	// GenesisTime and GenesisBits anchor the difficulty schedule: ASERT
	// measures every block against the genesis block.
	GenesisTime uint64
	GenesisBits uint32
	// PowLimit is the easiest target allowed; PowLimitBits its compact form.
	PowLimit     *big.Int
	PowLimitBits uint32
	// TargetSpacing is the intended time between blocks, in seconds.
	TargetSpacing uint64
	// ASERTHalfLife is the time, in seconds, by which the chain must run
	// ahead of (behind) schedule for the target to double (halve).
	ASERTHalfLife uint64

	// InitialSubsidy is the block reward at height 1; it halves every
	// HalvingInterval blocks.
	InitialSubsidy  types.Amount
	HalvingInterval uint32

	// MaxBlockSize bounds a block's encoded size in bytes, MaxBlockTxs its
	// transaction count (coinbase included).
	MaxBlockSize uint32
	MaxBlockTxs  uint32

	// MaxFutureDrift is how far, in seconds, a block's timestamp may be
	// ahead of local time.
	MaxFutureDrift uint64
}

// MedianTimeBlocks is how many previous blocks the median-time rule spans.
const MedianTimeBlocks = 11

// HeaderVersion is the only header version this node accepts.
const HeaderVersion = 1

// Subsidy is the block reward at height.
func (p *Params) Subsidy(height uint32) types.Amount {
	if height == 0 || p.HalvingInterval == 0 {
		return 0
	}
	halvings := (height - 1) / p.HalvingInterval
	if halvings >= 64 {
		return 0
	}
	return p.InitialSubsidy >> halvings
}
