package testnet

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/ledger-node/ledger/chain/genesis"
	"github.com/ledger-node/ledger/chain/types"
	"github.com/ledger-node/ledger/miner"
	"github.com/ledger-node/ledger/p2p"
	"github.com/ledger-node/ledger/rpc"
	"github.com/ledger-node/ledger/wallet"
)

// Parameters of every new testnet's genesis.
const (
	// AddressPrefix is the bech32 prefix of testnet addresses.
	AddressPrefix = "ltest"
	// FaucetCoins is the genesis allocation of the faucet's first address.
	FaucetCoins = 1_000_000
	// halfLifeBlocks: ASERT's half-life is this many block times, so the
	// difficulty settles within a minute or two of a mis-measured start
	// rather than the devnet's quarter of an hour.
	halfLifeBlocks = 20
	// devnetChainID is the default network's, never reused.
	devnetChainID = 1001
	// calibration is how long the hash rate is measured for a new network.
	calibration = 200 * time.Millisecond
)

// FaucetKDF is the scrypt cost of the faucet wallet: N=2^15, r=8 (32 MiB,
// a few tens of milliseconds) instead of wallet.DefaultKDF's 256 MiB and a
// second. The password file lies next to the wallet file, so anyone who
// can read one can read the other and a costly KDF would protect nothing;
// it would only make every `ledger send --from faucet` a second slower.
var FaucetKDF = wallet.KDFParams{LogN: 15, R: 8, P: 1}

// Env is what creating a network takes from its surroundings.
type Env struct {
	// Clock gives the genesis timestamp; time.Now if nil.
	Clock func() time.Time
	// HashRate is one mining thread's hashes per second, for the initial
	// difficulty; when 0 it is measured (miner.MeasureHashRate, 200 ms).
	HashRate float64
	// Cores bounds the miner threads that run in parallel;
	// runtime.NumCPU() when 0.
	Cores int
	// KDF is the faucet wallet's scrypt cost; FaucetKDF when zero.
	KDF wallet.KDFParams
}

// Network is a testnet directory ready to run: its manifest, genesis and
// settings.
type Network struct {
	Dir      string
	Manifest *Manifest
	Genesis  *genesis.Genesis
	// Options are the network's own settings (on a restart, those it was
	// created with, whatever was asked).
	Options Options
	// Created is set when this call made the network, clear on a restart.
	Created bool
	// HashRate is the per-thread rate the difficulty was chosen for
	// (only when Created).
	HashRate float64
}

// Prepare validates opts and returns the network in opts.Dir: the one
// already there (testnet.json present; flags named in changed must agree
// with it, ErrConflict otherwise) or a new one, written to a fresh
// temporary directory when opts.Dir is empty, to an empty or missing
// directory otherwise. A directory with files but no testnet.json is
// refused (ErrDirNotEmpty). A failed creation removes what it wrote.
func Prepare(opts Options, changed []string, env Env) (*Network, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if opts.Dir == "" {
		dir, err := os.MkdirTemp("", "ledger-testnet-")
		if err != nil {
			return nil, err
		}
		opts.Dir = dir
		n, err := create(opts, env)
		if err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		return n, nil
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, err
	}
	opts.Dir = dir
	if _, err := ReadManifest(dir); err == nil {
		n, err := Open(dir)
		if err != nil {
			return nil, err
		}
		if err := Conflicts(n.Options, opts, changed); err != nil {
			return nil, err
		}
		return n, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, err
		}
	case err != nil:
		return nil, err
	case len(entries) > 0:
		return nil, errorf(ErrDirNotEmpty, "%s is not empty and has no %s: not a testnet directory; "+
			"give an empty or new directory", dir, ManifestFile)
	}
	n, err := create(opts, env)
	if err != nil {
		// The directory was empty: everything in it is ours.
		if entries, rerr := os.ReadDir(dir); rerr == nil {
			for _, e := range entries {
				os.RemoveAll(filepath.Join(dir, e.Name()))
			}
		}
		return nil, err
	}
	return n, nil
}

// create writes a new network to the empty directory opts.Dir: genesis,
// faucet wallet, each node's key and config, and testnet.json last, so a
// directory with a manifest is always complete.
func create(opts Options, env Env) (*Network, error) {
	if env.Clock == nil {
		env.Clock = time.Now
	}
	if env.HashRate <= 0 {
		env.HashRate = miner.MeasureHashRate(calibration, nil)
	}
	if env.Cores <= 0 {
		env.Cores = runtime.NumCPU()
	}
	if env.KDF == (wallet.KDFParams{}) {
		env.KDF = FaucetKDF
	}
	dir := opts.Dir
	chainID, err := newChainID()
	if err != nil {
		return nil, err
	}
	seed, faucetAddr, err := newFaucetSeed(chainID)
	if err != nil {
		return nil, err
	}
	bits, limit := InitialBits(env.HashRate, opts.Miners, env.Cores, uint64(opts.BlockTime))
	f := genesis.File{
		Network:         fmt.Sprintf("testnet-%08x", chainID),
		ChainID:         chainID,
		AddressPrefix:   AddressPrefix,
		Timestamp:       uint64(env.Clock().Unix()),
		Bits:            fmt.Sprintf("%08x", bits),
		PowLimitBits:    fmt.Sprintf("%08x", limit),
		TargetSpacing:   uint64(opts.BlockTime),
		ASERTHalfLife:   halfLifeBlocks * uint64(opts.BlockTime),
		Subsidy:         uint64(50 * types.Coin),
		HalvingInterval: 210_000,
		MaxBlockSize:    1_000_000,
		MaxBlockTxs:     6_000,
		MaxFutureDrift:  7_200,
		Alloc:           map[string]uint64{faucetAddr.Bech32(AddressPrefix): uint64(FaucetCoins * types.Coin)},
	}
	g, err := genesis.Build(f)
	if err != nil {
		return nil, fmt.Errorf("building the genesis: %w", err)
	}
	gdata, err := f.Marshal()
	if err != nil {
		return nil, err
	}
	m := &Manifest{Genesis: filepath.Join(dir, GenesisFile), ChainID: chainID, Host: opts.Host}
	if err := os.WriteFile(m.Genesis, append(gdata, '\n'), 0o644); err != nil {
		return nil, err
	}
	if m.Faucet, err = createFaucet(dir, g, seed, faucetAddr, env.KDF); err != nil {
		return nil, err
	}
	for i := 0; i < opts.Nodes; i++ {
		rec, err := createNode(opts, i, m.Genesis, m.Nodes)
		if err != nil {
			return nil, err
		}
		m.Nodes = append(m.Nodes, rec)
	}
	if err := m.validate(dir); err != nil {
		return nil, fmt.Errorf("the manifest written does not validate (a bug): %w", err)
	}
	if err := WriteManifest(dir, m); err != nil {
		return nil, err
	}
	return &Network{Dir: dir, Manifest: m, Genesis: g, Options: opts, Created: true, HashRate: env.HashRate}, nil
}

// newChainID draws a random non-zero chain id other than the devnet's.
func newChainID() (uint32, error) {
	var b [4]byte
	for {
		if _, err := rand.Read(b[:]); err != nil {
			return 0, err
		}
		if id := binary.BigEndian.Uint32(b[:]); id != 0 && id != devnetChainID {
			return id, nil
		}
	}
}

// newFaucetSeed makes a BIP-39 seed and the address of its first key on
// chainID: the genesis needs the address before the wallet (which is bound
// to the genesis hash) can be written.
func newFaucetSeed(chainID uint32) ([]byte, types.Address, error) {
	for {
		mnemonic, err := wallet.NewMnemonic()
		if err != nil {
			return nil, types.Address{}, err
		}
		seed, err := wallet.MnemonicToSeed(mnemonic, "")
		if err != nil {
			return nil, types.Address{}, err
		}
		k, err := wallet.DeriveKey(seed, chainID, 0)
		if errors.Is(err, wallet.ErrInvalidChild) {
			continue // one seed in about 2^127: draw another
		}
		if err != nil {
			return nil, types.Address{}, err
		}
		return seed, wallet.AddressOf(k), nil
	}
}

// createFaucet writes the faucet wallet, encrypted under a random password
// kept in a 0600 file beside it, and hands out its first address (index
// 0, the funded one) so the wallet lists it.
func createFaucet(dir string, g *genesis.Genesis, seed []byte, addr types.Address, kdf wallet.KDFParams) (FaucetInfo, error) {
	info := FaucetInfo{
		Address:      addr.Bech32(AddressPrefix),
		WalletDir:    filepath.Join(dir, FaucetDir),
		Wallet:       FaucetWallet,
		PasswordFile: filepath.Join(dir, FaucetDir, PasswordFile),
	}
	store, err := wallet.NewStore(info.WalletDir)
	if err != nil {
		return info, err
	}
	var pw [32]byte
	if _, err := rand.Read(pw[:]); err != nil {
		return info, err
	}
	password := hex.EncodeToString(pw[:])
	if err := os.WriteFile(info.PasswordFile, []byte(password+"\n"), 0o600); err != nil {
		return info, err
	}
	w, err := store.Create(FaucetWallet, []byte(password), wallet.NetworkFromParams(g.Params), seed, kdf)
	if err != nil {
		return info, err
	}
	defer w.Close()
	i, first, err := w.NextAddress()
	if err != nil {
		return info, err
	}
	if i != 0 || first != addr {
		return info, fmt.Errorf("faucet wallet's first address is %s (index %d), not the funded %s", first.Bech32(AddressPrefix), i, info.Address)
	}
	return info, nil
}

// createNode makes node i's directory, identity and config. Node 0 is the
// bootnode of every other.
func createNode(opts Options, i int, genesisPath string, earlier []NodeRecord) (NodeRecord, error) {
	rec := NodeRecord{
		Name:    nodeName(i),
		DataDir: filepath.Join(opts.Dir, nodeName(i)),
		RPC:     "http://" + opts.rpcAddr(i),
		Mining:  i < opts.Miners,
	}
	rec.Cookie = rpc.CookiePath(rec.DataDir)
	if err := os.Mkdir(rec.DataDir, 0o700); err != nil {
		return rec, err
	}
	// The key is made now, not by the node, so every peer id (and so the
	// bootnode's address) is known before any node starts.
	key, err := p2p.LoadOrCreateIdentity(filepath.Join(rec.DataDir, keyFile))
	if err != nil {
		return rec, err
	}
	id, err := peer.IDFromPrivateKey(key)
	if err != nil {
		return rec, err
	}
	rec.PeerID = id.String()
	rec.P2P = []string{opts.dialAddr(i) + "/p2p/" + rec.PeerID}
	var boot []string
	if i > 0 {
		boot = earlier[0].P2P
	}
	cfg := nodeConfig(opts, i, rec, genesisPath, boot)
	if err := os.WriteFile(filepath.Join(rec.DataDir, ConfigFile), cfg, 0o600); err != nil {
		return rec, err
	}
	return rec, nil
}
