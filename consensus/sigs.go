package consensus

import (
	"sync"
	"sync/atomic"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"

	"github.com/ledger-node/ledger/chain/types"
)

// SigCache remembers transactions whose signatures verified, by id. The id
// covers every byte of the transaction, signature included, and the
// signature covers this network's genesis hash, so a remembered id is valid
// for as long as the node serves the one network. Implementations must be
// safe for concurrent use.
type SigCache interface {
	Contains(txid types.Hash) bool
	Add(txid types.Hash)
}

// KeyCache is optionally implemented by a SigCache: it parses public keys
// as types.ParsePubKey does, remembering the results, so that a sender's key
// is decompressed once rather than per transaction.
type KeyCache interface {
	ParsePubKey(raw *[types.PubKeySize]byte) (*secp256k1.PublicKey, error)
}

// VerifySignatures checks the signature of every transfer in txs (txids[i]
// is the id of txs[i]) on up to workers goroutines, skipping those the
// cache knows and adding those that verify. It returns the failure of the
// lowest-indexed failing transaction it found, or nil. cache may be nil.
func VerifySignatures(txs []*types.Tx, txids []types.Hash, p *Params, cache SigCache, workers int) error {
	if len(txs) == 0 {
		return nil
	}
	if workers < 1 {
		workers = 1
	}
	if workers > len(txs) {
		workers = len(txs)
	}
	parse := types.ParsePubKey
	if kc, ok := cache.(KeyCache); ok {
		parse = kc.ParsePubKey
	}
	var (
		next     atomic.Int64
		failed   atomic.Bool
		mu       sync.Mutex // guards firstAt and firstErr
		firstAt  = len(txs)
		firstErr error
		wg       sync.WaitGroup
	)
	work := func() {
		defer wg.Done()
		for !failed.Load() {
			i := int(next.Add(1) - 1)
			if i >= len(txs) {
				return
			}
			tx := txs[i]
			if tx.Kind == types.TxCoinbase || (cache != nil && cache.Contains(txids[i])) {
				continue
			}
			if err := checkTxSignature(tx, p, parse); err != nil {
				mu.Lock()
				if i < firstAt {
					firstAt, firstErr = i, err
				}
				mu.Unlock()
				failed.Store(true)
				return
			}
			if cache != nil {
				cache.Add(txids[i])
			}
		}
	}
	wg.Add(workers)
	for w := 1; w < workers; w++ {
		go work()
	}
	work()
	wg.Wait()
	return firstErr
}
