package testnet

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/spf13/viper"

	"github.com/ledger-node/ledger/chain/genesis"
	"github.com/ledger-node/ledger/chain/types"
	"github.com/ledger-node/ledger/consensus"
	"github.com/ledger-node/ledger/p2p"
	"github.com/ledger-node/ledger/wallet"
)

// TestCreateLayout: a new network has every file where the manifest says,
// with the genesis, faucet, keys and configs agreeing with each other.
func TestCreateLayout(t *testing.T) {
	n := newTestNetwork(t, 3, 2)
	m := n.Manifest
	if !n.Created {
		t.Fatal("Created not set on a new network")
	}
	if n.Options.Nodes != 3 || n.Options.Miners != 2 || n.Options.BlockTime != 2 {
		t.Fatalf("options %+v", n.Options)
	}

	g, err := genesis.Load(m.Genesis)
	if err != nil {
		t.Fatal(err)
	}
	p := g.Params
	if g.Hash != n.Genesis.Hash || p.ChainID != m.ChainID || p.ChainID == 0 || p.ChainID == devnetChainID {
		t.Fatalf("genesis %s chain id %d; network %s, manifest chain id %d", g.Hash, p.ChainID, n.Genesis.Hash, m.ChainID)
	}
	if !strings.HasPrefix(p.Name, "testnet-") || p.AddressPrefix != AddressPrefix {
		t.Fatalf("network %q prefix %q", p.Name, p.AddressPrefix)
	}
	if p.TargetSpacing != 2 || p.ASERTHalfLife != 40 || p.GenesisTime != 1_800_000_000 {
		t.Fatalf("spacing %d, half-life %d, time %d", p.TargetSpacing, p.ASERTHalfLife, p.GenesisTime)
	}
	// 1e6 H/s, two miners on two cores, 2 s: 4e6 hashes a block.
	wantBits, wantLimit := InitialBits(1e6, 2, 2, 2)
	if p.GenesisBits != wantBits || p.PowLimitBits != wantLimit {
		t.Fatalf("bits %08x limit %08x, want %08x %08x", p.GenesisBits, p.PowLimitBits, wantBits, wantLimit)
	}
	faucet, err := types.ParseAddress(m.Faucet.Address, AddressPrefix)
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Alloc) != 1 || g.Alloc[0].Addr != faucet || g.Alloc[0].Balance != FaucetCoins*types.Coin {
		t.Fatalf("allocations %+v, want %d coins to %s", g.Alloc, FaucetCoins, m.Faucet.Address)
	}

	// The faucet opens with its password file, for this network, and its
	// first address, already handed out, is the funded one.
	pw, err := os.ReadFile(m.Faucet.PasswordFile)
	if err != nil {
		t.Fatal(err)
	}
	assertMode(t, m.Faucet.PasswordFile, 0o600)
	store, err := wallet.NewStore(m.Faucet.WalletDir)
	if err != nil {
		t.Fatal(err)
	}
	w, err := store.Open(m.Faucet.Wallet, []byte(strings.TrimSpace(string(pw))), wallet.NetworkFromParams(p))
	if err != nil {
		t.Fatalf("opening the faucet with its password file: %v", err)
	}
	defer w.Close()
	addrs, err := w.Addresses()
	if err != nil || len(addrs) != 1 || addrs[0] != faucet {
		t.Fatalf("faucet addresses %v (%v), want [%s]", addrs, err, m.Faucet.Address)
	}

	for i, rec := range m.Nodes {
		assertMode(t, rec.DataDir, 0o700|os.ModeDir)
		key, err := p2p.LoadOrCreateIdentity(filepath.Join(rec.DataDir, keyFile))
		if err != nil {
			t.Fatal(err)
		}
		id, _ := peer.IDFromPrivateKey(key)
		if id.String() != rec.PeerID {
			t.Fatalf("%s: key is %s, manifest says %s", rec.Name, id, rec.PeerID)
		}
		if rec.Mining != (i < 2) {
			t.Fatalf("%s mining %v", rec.Name, rec.Mining)
		}
		// The config, read as ledgerd reads it (viper, TOML).
		v := viper.New()
		v.SetConfigFile(filepath.Join(rec.DataDir, ConfigFile))
		if err := v.ReadInConfig(); err != nil {
			t.Fatalf("%s config: %v", rec.Name, err)
		}
		var boot []string
		if i > 0 {
			boot = m.Nodes[0].P2P
		}
		checks := map[string]any{
			"datadir": rec.DataDir, "genesis": m.Genesis, "mine": rec.Mining, "miner.threads": 1,
			"p2p.listen": []string{n.Options.listenAddr(i)}, "p2p.bootnodes": boot,
			"rpc.addr": strings.TrimPrefix(rec.RPC, "http://"),
		}
		for key, want := range checks {
			var got any
			switch want.(type) {
			case []string:
				got = v.GetStringSlice(key)
				if len(got.([]string)) == 0 && want.([]string) == nil {
					continue
				}
			default:
				got = v.Get(key)
			}
			if gj, _ := json.Marshal(got); string(gj) != mustJSON(want) {
				t.Errorf("%s config %s = %s, want %s", rec.Name, key, gj, mustJSON(want))
			}
		}
		if len(v.AllKeys()) != 7-boolInt(i == 0) {
			t.Errorf("%s config has keys %v", rec.Name, v.AllKeys())
		}
	}

	// The manifest read back is the one returned.
	back, err := ReadManifest(n.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if mustJSON(back) != mustJSON(m) {
		t.Fatalf("manifest read back differs:\n%s\n%s", mustJSON(back), mustJSON(m))
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func assertMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode() != want {
		t.Fatalf("%s mode %v, want %v", path, st.Mode(), want)
	}
}

// TestPrepareRestart: Prepare on a testnet directory reopens the same
// network, takes its settings where flags were not given and refuses
// flags that disagree.
func TestPrepareRestart(t *testing.T) {
	n := newTestNetwork(t, 2, 1)
	again, err := Prepare(optionsIn(n.Dir), nil, testEnv())
	if err != nil {
		t.Fatal(err)
	}
	if again.Created || again.Genesis.Hash != n.Genesis.Hash || again.Options != n.Options {
		t.Fatalf("restart: created %v, genesis %s (was %s), options %+v (were %+v)",
			again.Created, again.Genesis.Hash, n.Genesis.Hash, again.Options, n.Options)
	}
	if mustJSON(again.Manifest) != mustJSON(n.Manifest) {
		t.Fatal("restart changed the manifest")
	}
	same := n.Options
	if _, err := Prepare(same, []string{FlagNodes, FlagMiners, FlagBasePort, FlagBlockTime, FlagHost}, testEnv()); err != nil {
		t.Fatalf("restart with the same values given: %v", err)
	}
	other := n.Options
	other.Nodes = 3
	if _, err := Prepare(other, []string{FlagNodes}, testEnv()); !errors.Is(err, ErrConflict) {
		t.Fatalf("restart with --nodes 3: %v, want ErrConflict", err)
	}
	// A relative --dir names the same network.
	t.Chdir(filepath.Dir(n.Dir))
	rel := optionsIn(filepath.Base(n.Dir))
	if r, err := Prepare(rel, nil, testEnv()); err != nil || r.Genesis.Hash != n.Genesis.Hash {
		t.Fatalf("restart by relative path: %v", err)
	}
}

// optionsIn is DefaultOptions in dir: what the command passes when no
// flag but --dir is given.
func optionsIn(dir string) Options {
	o := DefaultOptions()
	o.Dir = dir
	return o
}

// TestPrepareRefusesForeignDir: a non-empty directory without a manifest
// is left alone; an empty or missing one gets a network.
func TestPrepareRefusesForeignDir(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Prepare(optionsIn(dir), nil, testEnv()); !errors.Is(err, ErrDirNotEmpty) {
		t.Fatalf("non-empty directory: %v, want ErrDirNotEmpty", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("refused directory now holds %d entries", len(entries))
	}
	missing := filepath.Join(t.TempDir(), "a", "b")
	if n, err := Prepare(optionsIn(missing), nil, testEnv()); err != nil || !n.Created {
		t.Fatalf("missing directory: %v", err)
	}
	if _, err := Prepare(Options{Nodes: 0, Dir: t.TempDir()}, nil, testEnv()); !errors.Is(err, ErrBadOptions) {
		t.Fatalf("bad options: %v, want ErrBadOptions", err)
	}
}

// TestPrepareTempDir: no --dir means a new temporary directory.
func TestPrepareTempDir(t *testing.T) {
	o := DefaultOptions()
	o.Nodes, o.Miners = 1, 1
	n, err := Prepare(o, nil, testEnv())
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(n.Dir)
	if !n.Created || !strings.HasPrefix(filepath.Base(n.Dir), "ledger-testnet-") {
		t.Fatalf("dir %s", n.Dir)
	}
	if _, err := os.Stat(filepath.Join(n.Dir, ManifestFile)); err != nil {
		t.Fatal(err)
	}
}

// TestOpenChecksLayout: a restart refuses files that disagree with the
// manifest, naming what is wrong.
func TestOpenChecksLayout(t *testing.T) {
	tests := []struct {
		name  string
		spoil func(t *testing.T, n *Network)
		kind  error
	}{
		{"node key missing", func(t *testing.T, n *Network) {
			os.Remove(filepath.Join(n.Manifest.Nodes[1].DataDir, keyFile))
		}, ErrBadLayout},
		{"node key replaced", func(t *testing.T, n *Network) {
			key, _, _ := crypto.GenerateEd25519Key(nil)
			raw, _ := crypto.MarshalPrivateKey(key)
			os.WriteFile(filepath.Join(n.Manifest.Nodes[0].DataDir, keyFile), raw, 0o600)
		}, ErrBadLayout},
		{"node key garbage", func(t *testing.T, n *Network) {
			os.WriteFile(filepath.Join(n.Manifest.Nodes[0].DataDir, keyFile), []byte("junk"), 0o600)
		}, ErrBadLayout},
		{"config missing", func(t *testing.T, n *Network) {
			os.Remove(filepath.Join(n.Manifest.Nodes[1].DataDir, ConfigFile))
		}, ErrBadLayout},
		{"genesis missing", func(t *testing.T, n *Network) { os.Remove(n.Manifest.Genesis) }, ErrBadLayout},
		{"genesis of another chain", func(t *testing.T, n *Network) {
			f := n.Genesis.File
			f.ChainID++
			data, _ := f.Marshal()
			os.WriteFile(n.Manifest.Genesis, data, 0o644)
		}, ErrBadLayout},
		{"faucet unfunded", func(t *testing.T, n *Network) {
			f := n.Genesis.File
			f.Alloc = nil
			data, _ := f.Marshal()
			os.WriteFile(n.Manifest.Genesis, data, 0o644)
		}, ErrBadLayout},
		{"wallet missing", func(t *testing.T, n *Network) {
			os.Remove(filepath.Join(n.Manifest.Faucet.WalletDir, FaucetWallet+wallet.KeystoreExt))
		}, ErrBadLayout},
		{"password missing", func(t *testing.T, n *Network) { os.Remove(n.Manifest.Faucet.PasswordFile) }, ErrBadLayout},
		{"manifest edited", func(t *testing.T, n *Network) {
			m := *n.Manifest
			m.Faucet.Address = "ldev1dzs242gqssgy96t86qkj5rdsclmmguz4zmley3"
			WriteManifest(n.Dir, &m)
		}, ErrBadManifest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := newTestNetwork(t, 2, 2)
			if _, err := Open(n.Dir); err != nil {
				t.Fatalf("intact network: %v", err)
			}
			tc.spoil(t, n)
			_, err := Open(n.Dir)
			if !errors.Is(err, tc.kind) {
				t.Fatalf("Open: %v, want %v", err, tc.kind)
			}
			// Prepare refuses it too rather than making a new network.
			if _, err := Prepare(optionsIn(n.Dir), nil, testEnv()); !errors.Is(err, tc.kind) {
				t.Fatalf("Prepare: %v, want %v", err, tc.kind)
			}
		})
	}
}

// TestGenesisParamsValid: whatever the options, the genesis written
// validates and its bits are those InitialBits chose.
func TestGenesisParamsValid(t *testing.T) {
	for _, blockTime := range []int{1, 5, 600, MaxBlockTime} {
		for _, rate := range []float64{1, 1e6, 1e12} {
			o := DefaultOptions()
			o.Nodes, o.Miners, o.Dir, o.BlockTime = 1, 1, t.TempDir(), blockTime
			env := testEnv()
			env.HashRate = rate
			n, err := Prepare(o, nil, env)
			if err != nil {
				t.Fatalf("block time %d, rate %g: %v", blockTime, rate, err)
			}
			p := n.Genesis.Params
			bits, limit := InitialBits(rate, 1, 2, uint64(blockTime))
			if p.GenesisBits != bits || p.PowLimitBits != limit || p.ASERTHalfLife != 20*uint64(blockTime) {
				t.Fatalf("block time %d, rate %g: params %+v", blockTime, rate, p)
			}
			if _, err := consensus.DecodeTarget(p.GenesisBits, p.PowLimit); err != nil {
				t.Fatal(err)
			}
		}
	}
}
