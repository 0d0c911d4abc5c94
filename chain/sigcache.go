package chain

import (
	"encoding/binary"
	"sync"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"

	"github.com/ledger-node/ledger/chain/types"
)

// DefaultSigCacheSize is the default number of remembered signatures,
// about 5 MB (btcd keeps 100,000 too).
const DefaultSigCacheSize = 100_000

const sigCacheShards = 16

// DefaultKeyCacheSize is how many decompressed public keys the cache keeps
// (about 10 MB).
const DefaultKeyCacheSize = 50_000

// SigCache is a bounded set of transaction ids whose signatures verified,
// sharded to keep lock contention low when all cores verify at once. When
// a shard is full an arbitrary entry is evicted: an attacker cannot predict
// which, so cannot flush chosen entries. It also remembers decompressed
// public keys (consensus.KeyCache): decompression is a tenth of the cost of
// a verification, and in an account model senders sign again and again.
// Safe for concurrent use.
type SigCache struct {
	shards [sigCacheShards]sigShard
	keys   [sigCacheShards]keyShard
}

type keyShard struct {
	mu sync.RWMutex
	// keys is guarded by mu.
	keys map[[types.PubKeySize]byte]*secp256k1.PublicKey
	max  int
}

type sigShard struct {
	mu sync.RWMutex
	// ids is guarded by mu.
	ids map[types.Hash]struct{}
	max int
}

// NewSigCache makes a cache of about size entries.
func NewSigCache(size int) *SigCache {
	per := size / sigCacheShards
	if per < 1 {
		per = 1
	}
	c := &SigCache{}
	for i := range c.shards {
		c.shards[i].ids = make(map[types.Hash]struct{}, per)
		c.shards[i].max = per
		c.keys[i].keys = make(map[[types.PubKeySize]byte]*secp256k1.PublicKey)
		c.keys[i].max = max(DefaultKeyCacheSize/sigCacheShards, 1)
	}
	return c
}

// ParsePubKey implements consensus.KeyCache: types.ParsePubKey, remembering
// keys that parse. Parsed keys are never modified, so sharing them is safe.
func (c *SigCache) ParsePubKey(raw *[types.PubKeySize]byte) (*secp256k1.PublicKey, error) {
	s := &c.keys[raw[1]%sigCacheShards] // x-coordinate bytes are uniform
	s.mu.RLock()
	pub, ok := s.keys[*raw]
	s.mu.RUnlock()
	if ok {
		return pub, nil
	}
	pub, err := types.ParsePubKey(raw)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	if len(s.keys) >= s.max {
		for k := range s.keys {
			delete(s.keys, k)
			break
		}
	}
	s.keys[*raw] = pub
	s.mu.Unlock()
	return pub, nil
}

func (c *SigCache) shard(id types.Hash) *sigShard {
	// Transaction ids are uniform hashes: any bytes pick a shard evenly.
	return &c.shards[binary.LittleEndian.Uint32(id[:4])%sigCacheShards]
}

// Contains reports whether id is remembered.
func (c *SigCache) Contains(id types.Hash) bool {
	s := c.shard(id)
	s.mu.RLock()
	_, ok := s.ids[id]
	s.mu.RUnlock()
	return ok
}

// Add remembers id.
func (c *SigCache) Add(id types.Hash) {
	s := c.shard(id)
	s.mu.Lock()
	if _, ok := s.ids[id]; !ok {
		if len(s.ids) >= s.max {
			for k := range s.ids {
				delete(s.ids, k)
				break
			}
		}
		s.ids[id] = struct{}{}
	}
	s.mu.Unlock()
}

// Len returns the number of remembered ids.
func (c *SigCache) Len() int {
	n := 0
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.RLock()
		n += len(s.ids)
		s.mu.RUnlock()
	}
	return n
}
