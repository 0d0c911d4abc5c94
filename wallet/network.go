package wallet

import (
	"crypto/sha256"
	"encoding/binary"
	"strings"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"

	"github.com/ledger-node/ledger/chain/types"
	"github.com/ledger-node/ledger/consensus"
)

// Network is what the wallet needs to know of a chain: the chain id signed
// into every transaction, the bech32 address prefix, and the genesis hash
// that every signature and keystore is bound to.
type Network struct {
	ChainID     uint32
	Prefix      string
	GenesisHash types.Hash
}

// NetworkFromParams takes the wallet's view of a network from consensus
// parameters (genesis.Genesis.Params).
func NetworkFromParams(p *consensus.Params) Network {
	return Network{ChainID: p.ChainID, Prefix: p.AddressPrefix, GenesisHash: p.GenesisHash}
}

// Validate checks that the network can be used: a non-zero chain id, a
// valid prefix and a genesis hash.
func (n Network) Validate() error {
	if n.ChainID == 0 {
		return errorf(ErrBadParams, "network chain id is zero")
	}
	if !types.ValidHRP(n.Prefix) {
		return errorf(ErrBadParams, "network address prefix %q is not valid", n.Prefix)
	}
	if n.GenesisHash.IsZero() {
		return errorf(ErrBadParams, "network genesis hash is zero")
	}
	return nil
}

// coinTypeTag separates the coin-type hash from any other use.
const coinTypeTag = "ledger/wallet/coin-type/v1"

// CoinType is the BIP-44 coin type of a chain id: the first four bytes
// (big-endian) of SHA-256("ledger/wallet/coin-type/v1" || chainID as 4
// big-endian bytes), with the top two bits replaced by 01. It therefore
// lies in [2^30, 2^31): a valid hardened index, deterministic, and clear of
// the small numbers that SLIP-44 hands out in order. Networks with
// different chain ids get unrelated key trees.
func CoinType(chainID uint32) uint32 {
	var b [len(coinTypeTag) + 4]byte
	copy(b[:], coinTypeTag)
	binary.BigEndian.PutUint32(b[len(coinTypeTag):], chainID)
	sum := sha256.Sum256(b[:])
	return binary.BigEndian.Uint32(sum[:4])&0x3fffffff | 0x40000000
}

// AddressPath is the BIP-44 path of address index i on a chain:
// m/44'/CoinType(chainID)'/0'/0/i.
func AddressPath(chainID uint32, i uint32) []uint32 {
	return []uint32{44 + HardenedOffset, CoinType(chainID) + HardenedOffset, HardenedOffset, 0, i}
}

// MaxAddressIndex is the largest address index (normal derivation).
const MaxAddressIndex = HardenedOffset - 1

// DeriveKey derives the private key of address index i from a BIP-39 seed.
// In the negligible case that the index gives an invalid key,
// ErrInvalidChild is returned and the wallet skips that index.
func DeriveKey(seed []byte, chainID uint32, i uint32) (*secp256k1.PrivateKey, error) {
	if i > MaxAddressIndex {
		return nil, errorf(ErrBadPath, "address index %d is not below 2^31", i)
	}
	m, err := MasterKey(seed)
	if err != nil {
		return nil, err
	}
	k, err := m.Derive(AddressPath(chainID, i))
	if err != nil {
		return nil, err
	}
	return k.PrivateKey(), nil
}

// AddressOf returns the address of a private key.
func AddressOf(k *secp256k1.PrivateKey) types.Address {
	var pub [types.PubKeySize]byte
	copy(pub[:], k.PubKey().SerializeCompressed())
	return types.AddressFromPubKey(&pub)
}

// ParseAddress reads a bech32 address of network n. The error kind says
// what is wrong: ErrWrongNetwork (a valid address of another prefix),
// ErrAddressChecksum (mistyped), or ErrBadAddress (malformed); the message
// names the prefixes involved.
func (n Network) ParseAddress(s string) (types.Address, error) {
	return ParseAddress(s, n.Prefix)
}

// ParseAddress is Network.ParseAddress for a bare prefix.
func ParseAddress(s, prefix string) (types.Address, error) {
	a, err := types.ParseAddress(s, prefix)
	if err == nil {
		return a, nil
	}
	// Is it a well-formed address of another network?
	if sep := strings.LastIndexByte(s, '1'); sep > 0 {
		other := strings.ToLower(s[:sep])
		if other != prefix {
			if _, err2 := types.ParseAddress(s, other); err2 == nil {
				return types.Address{}, wrapf(ErrWrongNetwork, err,
					"address %q is for network prefix %q, not this network's %q", s, other, prefix)
			}
		}
	}
	if strings.Contains(err.Error(), "checksum") {
		return types.Address{}, wrapf(ErrAddressChecksum, err, "address %q has a wrong checksum (mistyped?)", s)
	}
	return types.Address{}, wrapf(ErrBadAddress, err, "address %q is malformed", s)
}
