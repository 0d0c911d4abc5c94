package testnet

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/ledger-node/ledger/internal/atomicfile"
	"github.com/ledger-node/ledger/rpc"
)

// Names of the files and directories of a testnet directory.
const (
	ManifestFile = "testnet.json"
	GenesisFile  = "genesis.json"
	FaucetDir    = "faucet"
	FaucetWallet = "faucet"
	PasswordFile = "password"
	// ConfigFile and LogFile are in each node's data directory.
	ConfigFile = "ledgerd.toml"
	LogFile    = "ledgerd.log"
	// keyFile is the node identity's name in its data directory, as
	// p2p.New reads it.
	keyFile = "p2p.key"
)

// MaxManifestSize bounds testnet.json. The largest real one, 32 nodes
// with long paths, is a few tens of kilobytes.
const MaxManifestSize = 256 << 10

// Manifest is testnet.json: where everything of the network is, for
// scripts and for restarting it. Paths are absolute.
type Manifest struct {
	Genesis string `json:"genesis"`
	ChainID uint32 `json:"chainId"`
	// Host is the --host the nodes listen on.
	Host   string       `json:"host"`
	Faucet FaucetInfo   `json:"faucet"`
	Nodes  []NodeRecord `json:"nodes"`
}

// FaucetInfo locates the wallet holding the genesis allocation: its first
// address has every coin.
type FaucetInfo struct {
	Address      string `json:"address"`
	WalletDir    string `json:"walletDir"`
	Wallet       string `json:"wallet"`
	PasswordFile string `json:"passwordFile"`
}

// NodeRecord is one node: its data directory (with its config, log, key
// and the RPC cookie), RPC URL, peer id and p2p addresses with /p2p/.
type NodeRecord struct {
	Name    string   `json:"name"`
	DataDir string   `json:"datadir"`
	RPC     string   `json:"rpc"`
	Cookie  string   `json:"cookie"`
	PeerID  string   `json:"peerId"`
	P2P     []string `json:"p2p"`
	Mining  bool     `json:"mining"`
}

// nodeName is node i's name and the name of its directory.
func nodeName(i int) string { return "node" + strconv.Itoa(i) }

// Marshal renders the manifest as indented JSON.
func (m *Manifest) Marshal() ([]byte, error) {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// ParseManifest decodes testnet.json read from dir and checks it against
// the layout this package writes there: every path must be the one it
// would write, every node named node0, node1... in order with an RPC URL
// on loopback and addresses carrying its peer id. The file is hostile (a
// user or another program may have edited it): it is size-checked first,
// unknown fields and trailing data are refused, and every failure is an
// *Error of kind ErrBadManifest.
func ParseManifest(data []byte, dir string) (*Manifest, error) {
	if len(data) > MaxManifestSize {
		return nil, errorf(ErrBadManifest, "%s is larger than %d bytes", ManifestFile, MaxManifestSize)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var m Manifest
	if err := dec.Decode(&m); err != nil {
		return nil, wrapf(ErrBadManifest, err, "%s is not a testnet manifest", ManifestFile)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errorf(ErrBadManifest, "%s has data after its JSON object", ManifestFile)
	}
	if err := m.validate(dir); err != nil {
		return nil, err
	}
	return &m, nil
}

func badField(field, format string, args ...any) *Error {
	return errorf(ErrBadManifest, "%s: %s %s", ManifestFile, field, fmt.Sprintf(format, args...))
}

// validate checks m as it should be for directory dir.
func (m *Manifest) validate(dir string) error {
	expect := func(field, got, want string) error {
		if got != want {
			return badField(field, "is %q, want %q (was the directory moved or the file edited?)", got, want)
		}
		return nil
	}
	if err := expect("genesis", m.Genesis, filepath.Join(dir, GenesisFile)); err != nil {
		return err
	}
	if m.ChainID == 0 {
		return badField("chainId", "is missing or zero")
	}
	if _, err := hostIP(m.Host); err != nil {
		return badField("host", "%q is not an IP address", m.Host)
	}
	fdir := filepath.Join(dir, FaucetDir)
	if err := expect("faucet.walletDir", m.Faucet.WalletDir, fdir); err != nil {
		return err
	}
	if err := expect("faucet.wallet", m.Faucet.Wallet, FaucetWallet); err != nil {
		return err
	}
	if err := expect("faucet.passwordFile", m.Faucet.PasswordFile, filepath.Join(fdir, PasswordFile)); err != nil {
		return err
	}
	// The address's prefix is the genesis file's; Open checks it there.
	if m.Faucet.Address == "" || len(m.Faucet.Address) > 90 {
		return badField("faucet.address", "is not an address")
	}
	if len(m.Nodes) < 1 || len(m.Nodes) > MaxNodes {
		return badField("nodes", "has %d entries, want 1 to %d", len(m.Nodes), MaxNodes)
	}
	for i := range m.Nodes {
		if err := m.Nodes[i].validate(dir, i); err != nil {
			return err
		}
	}
	// Ports follow from the first node's: node i uses base+2i and base+2i+1.
	base := m.Nodes[0].rpcPort() - 1
	for i := range m.Nodes {
		if got, want := m.Nodes[i].rpcPort(), base+2*i+1; got != want {
			return badField(fmt.Sprintf("nodes[%d].rpc", i), "is on port %d, want %d (base port %d)", got, want, base)
		}
	}
	if base < minBasePort || base+2*len(m.Nodes)-1 > 65535 {
		return badField("nodes[0].rpc", "implies base port %d, want %d to %d", base, minBasePort, 65535-2*len(m.Nodes)+1)
	}
	o := Options{Host: m.Host, BasePort: base}
	for i := range m.Nodes {
		if want := o.dialAddr(i) + "/p2p/" + m.Nodes[i].PeerID; m.Nodes[i].P2P[0] != want {
			return badField(fmt.Sprintf("nodes[%d].p2p[0]", i), "is %q, want %q (host %s, base port %d)", m.Nodes[i].P2P[0], want, m.Host, base)
		}
	}
	return nil
}

func (n *NodeRecord) validate(dir string, i int) error {
	field := func(name string) string { return fmt.Sprintf("nodes[%d].%s", i, name) }
	if n.Name != nodeName(i) {
		return badField(field("name"), "is %q, want %q", n.Name, nodeName(i))
	}
	datadir := filepath.Join(dir, n.Name)
	if n.DataDir != datadir {
		return badField(field("datadir"), "is %q, want %q (was the directory moved or the file edited?)", n.DataDir, datadir)
	}
	if n.Cookie != rpc.CookiePath(datadir) {
		return badField(field("cookie"), "is %q, want %q", n.Cookie, rpc.CookiePath(datadir))
	}
	if n.rpcPort() == 0 {
		return badField(field("rpc"), "%q is not http://127.0.0.1:PORT", n.RPC)
	}
	id, err := peer.Decode(n.PeerID)
	if err != nil {
		return badField(field("peerId"), "%q is not a peer id", n.PeerID)
	}
	if len(n.P2P) == 0 || len(n.P2P) > 8 {
		return badField(field("p2p"), "has %d addresses, want 1 to 8", len(n.P2P))
	}
	for j, a := range n.P2P {
		info, err := peer.AddrInfoFromString(a)
		if err != nil || info.ID != id || len(info.Addrs) != 1 {
			return badField(fmt.Sprintf("%s[%d]", field("p2p"), j), "%q is not a multiaddr ending in /p2p/%s", a, n.PeerID)
		}
	}
	return nil
}

// rpcPort is the port of a valid RPC URL (http://127.0.0.1:PORT), 0 if
// the URL is not one.
func (n *NodeRecord) rpcPort() int {
	u, err := url.Parse(n.RPC)
	if err != nil || u.Scheme != "http" || u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return 0
	}
	host, port, err := net.SplitHostPort(u.Host)
	if err != nil || host != "127.0.0.1" {
		return 0
	}
	p, err := strconv.Atoi(port)
	if err != nil || p < 1 || p > 65535 || strconv.Itoa(p) != port {
		return 0
	}
	return p
}

// ReadManifest reads dir/testnet.json with ParseManifest. A missing file
// is returned as the fs.ErrNotExist it is.
func ReadManifest(dir string) (*Manifest, error) {
	path := filepath.Join(dir, ManifestFile)
	data, err := readLimited(path, MaxManifestSize)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		return nil, wrapf(ErrBadManifest, err, "reading %s", path)
	}
	return ParseManifest(data, dir)
}

// WriteManifest writes dir/testnet.json atomically.
func WriteManifest(dir string, m *Manifest) error {
	data, err := m.Marshal()
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(filepath.Join(dir, ManifestFile), data, 0o644)
}

// readLimited reads a regular file of at most limit bytes; anything else
// (a directory, a FIFO, a larger file) is refused before it is read.
func readLimited(path string, limit int64) ([]byte, error) {
	st, err := os.Lstat(path)
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	if st.Size() > limit {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, limit)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, limit)
	}
	return data, nil
}
