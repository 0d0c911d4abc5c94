package wallet

import (
	"bytes"
	"sync"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"

	"github.com/ledger-node/ledger/chain/types"
)

// Wallet is an open (decrypted) wallet: the seed of one BIP-39 backup and
// the next address index. Its methods are safe for concurrent use.
type Wallet struct {
	store  *Store
	name   string
	net    Network
	mu     sync.Mutex
	seed   []byte
	encKey []byte
	ks     *keystore
}

// Name is the wallet's name in its store.
func (w *Wallet) Name() string { return w.name }

// Network is the network the wallet is bound to.
func (w *Wallet) Network() Network { return w.net }

// NextIndex is the index NextAddress will hand out (as last read or
// written by this Wallet).
func (w *Wallet) NextIndex() uint32 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.ks.nextIndex
}

// Key derives the private key of address index i.
func (w *Wallet) Key(i uint32) (*secp256k1.PrivateKey, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.seed == nil {
		return nil, errorf(ErrBadSeed, "wallet is closed")
	}
	return DeriveKey(w.seed, w.net.ChainID, i)
}

// Address returns the address of index i.
func (w *Wallet) Address(i uint32) (types.Address, error) {
	k, err := w.Key(i)
	if err != nil {
		return types.Address{}, err
	}
	return AddressOf(k), nil
}

// Addresses returns the addresses of indexes 0 to NextIndex()-1: the
// ones handed out so far (an index whose key is invalid is skipped).
func (w *Wallet) Addresses() ([]types.Address, error) {
	n := w.NextIndex()
	out := make([]types.Address, 0, n)
	for i := uint32(0); i < n; i++ {
		a, err := w.Address(i)
		if err == nil {
			out = append(out, a)
		} else if !isKind(err, ErrInvalidChild) {
			return nil, err
		}
	}
	return out, nil
}

// NextAddress hands out a fresh address: it derives the key at the next
// index and durably records index+1 in the wallet file before returning,
// so that no two calls, in this process or another, return the same
// index.
func (w *Wallet) NextAddress() (index uint32, addr types.Address, err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.seed == nil {
		return 0, types.Address{}, errorf(ErrBadSeed, "wallet is closed")
	}
	unlock, err := lockDir(w.store.dir)
	if err != nil {
		return 0, types.Address{}, err
	}
	defer unlock()
	// Another writer may have moved the index on: start from the file's.
	disk, err := w.store.readKeystore(w.name)
	if err != nil {
		return 0, types.Address{}, err
	}
	if !bytes.Equal(disk.salt, w.ks.salt) || !bytes.Equal(disk.check, w.ks.check) || disk.net != w.ks.net {
		return 0, types.Address{}, corrupt("wallet file %s was replaced by another wallet", w.store.Path(w.name))
	}
	// The index read back must be authenticated like the rest: an edited
	// file could otherwise skip indexes or exhaust them.
	if err := disk.authenticate(w.encKey); err != nil {
		return 0, types.Address{}, err
	}
	next := max(disk.nextIndex, w.ks.nextIndex)
	for {
		if next > MaxAddressIndex {
			return 0, types.Address{}, errorf(ErrBadPath, "wallet %q has used every address index", w.name)
		}
		k, err := DeriveKey(w.seed, w.net.ChainID, next)
		if err == nil {
			addr = AddressOf(k)
			break
		}
		if !isKind(err, ErrInvalidChild) {
			return 0, types.Address{}, err
		}
		next++
	}
	nks := *w.ks
	nks.nextIndex = next + 1
	if err := nks.seal(w.encKey, w.seed); err != nil {
		return 0, types.Address{}, err
	}
	if err := replaceFile(w.store.dir, w.store.Path(w.name), nks.encode()); err != nil {
		return 0, types.Address{}, err
	}
	w.ks = &nks
	return next, addr, nil
}

// Close forgets the seed and the cipher key (overwriting them in memory);
// the Wallet cannot derive keys afterwards.
func (w *Wallet) Close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	clear(w.seed)
	clear(w.encKey)
	w.seed, w.encKey = nil, nil
}

func isKind(err error, k ErrorKind) bool {
	e, ok := err.(*Error)
	return ok && e.Kind == k
}
