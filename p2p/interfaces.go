package p2p

import (
	"github.com/ledger-node/ledger/chain"
	"github.com/ledger-node/ledger/chain/types"
	"github.com/ledger-node/ledger/consensus"
	"github.com/ledger-node/ledger/mempool"
)

// Chain is what the network layer needs of the chain store. *chain.Chain
// implements it; tests may substitute their own.
type Chain interface {
	GenesisHash() types.Hash
	Params() *consensus.Params
	Tip() chain.Tip
	ProcessBlock(*types.Block) (chain.ProcessResult, error)
	// ProcessRequestedBlock is for blocks sync fetched because their
	// header chain has more work than the tip.
	ProcessRequestedBlock(*types.Block) (chain.ProcessResult, error)
	SigCache() consensus.SigCache
	HaveBlock(types.Hash) bool
	IsKnownInvalid(types.Hash) bool
	BlockByHash(types.Hash) (*types.Block, error)
	HeaderByHash(types.Hash) (types.Header, error)
	HashAtHeight(uint32) (types.Hash, error)
	IsMainChain(types.Hash) bool
	Locator() []types.Hash
	Subscribe(func(chain.Notification))
}

// Mempool is what the network layer needs of the transaction pool.
// *mempool.Pool implements it.
type Mempool interface {
	Add(*types.Tx) error
	Get(types.Hash) (*types.Tx, bool)
	Subscribe(func(mempool.Accepted))
}
