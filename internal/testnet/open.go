package testnet

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/ledger-node/ledger/chain/genesis"
	"github.com/ledger-node/ledger/wallet"
)

// maxKeyFile bounds a node identity read back (an Ed25519 key is 68
// bytes in libp2p's encoding; p2p reads at most 4096).
const maxKeyFile = 4096

// Open reopens the testnet in dir for a restart: testnet.json (validated
// with ParseManifest), then every file it relies on: the genesis (its
// chain id and the faucet's allocation), the faucet wallet and password
// files, each node's config file and key, whose peer id must be the one
// recorded, since the other nodes' bootnode addresses carry it. Failures
// of the manifest are ErrBadManifest, of the other files ErrBadLayout.
// The node data (chain, pool, bans) is the nodes' own to check.
func Open(dir string) (*Network, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	m, err := ReadManifest(dir)
	if err != nil {
		return nil, err
	}
	g, err := genesis.Load(m.Genesis)
	if err != nil {
		return nil, wrapf(ErrBadLayout, err, "genesis %s", m.Genesis)
	}
	if g.Params.ChainID != m.ChainID {
		return nil, errorf(ErrBadLayout, "genesis %s has chain id %d, %s says %d", m.Genesis, g.Params.ChainID, ManifestFile, m.ChainID)
	}
	addr, err := wallet.ParseAddress(m.Faucet.Address, g.Params.AddressPrefix)
	if err != nil {
		return nil, wrapf(ErrBadManifest, err, "%s: faucet.address %q", ManifestFile, m.Faucet.Address)
	}
	funded := false
	for _, a := range g.Alloc {
		funded = funded || a.Addr == addr
	}
	if !funded {
		return nil, errorf(ErrBadLayout, "genesis %s allocates nothing to the faucet address %s", m.Genesis, m.Faucet.Address)
	}
	store, err := wallet.NewStore(m.Faucet.WalletDir)
	if err != nil {
		return nil, wrapf(ErrBadLayout, err, "faucet wallet directory")
	}
	for _, f := range []string{store.Path(m.Faucet.Wallet), m.Faucet.PasswordFile} {
		if err := regularFile(f); err != nil {
			return nil, err
		}
	}
	opts := Options{Nodes: len(m.Nodes), Dir: dir, BlockTime: int(g.Params.TargetSpacing),
		BasePort: m.Nodes[0].rpcPort() - 1, Host: m.Host}
	for i := range m.Nodes {
		rec := &m.Nodes[i]
		if rec.Mining {
			opts.Miners++
		}
		if err := regularFile(filepath.Join(rec.DataDir, ConfigFile)); err != nil {
			return nil, err
		}
		if err := checkIdentity(rec); err != nil {
			return nil, err
		}
	}
	return &Network{Dir: dir, Manifest: m, Genesis: g, Options: opts}, nil
}

// checkIdentity reads a node's key and compares its peer id with the
// manifest's. The node would make a new key if the file were gone, and
// the others' bootnode address would then name a peer that no longer
// exists, so a missing key is an error here.
func checkIdentity(rec *NodeRecord) error {
	path := filepath.Join(rec.DataDir, keyFile)
	data, err := readLimited(path, maxKeyFile)
	if err != nil {
		return wrapf(ErrBadLayout, err, "%s's identity", rec.Name)
	}
	key, err := crypto.UnmarshalPrivateKey(data)
	if err != nil {
		return wrapf(ErrBadLayout, err, "%s's identity %s", rec.Name, path)
	}
	id, err := peer.IDFromPrivateKey(key)
	if err != nil {
		return wrapf(ErrBadLayout, err, "%s's identity %s", rec.Name, path)
	}
	if id.String() != rec.PeerID {
		return errorf(ErrBadLayout, "%s's identity %s is peer %s, %s says %s", rec.Name, path, id, ManifestFile, rec.PeerID)
	}
	return nil
}

func regularFile(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return wrapf(ErrBadLayout, err, "testnet file missing")
	}
	if !st.Mode().IsRegular() {
		return errorf(ErrBadLayout, "%s is not a regular file", path)
	}
	return nil
}

// String describes the network in one line.
func (n *Network) String() string {
	return fmt.Sprintf("%s (chain id %d, genesis %s) in %s", n.Genesis.Params.Name, n.Genesis.Params.ChainID, n.Genesis.Hash, n.Dir)
}
