package testnet

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sampleManifest is a valid manifest for dir (two nodes, base port 17400).
func sampleManifest(dir string) *Manifest {
	const id0 = "12D3KooWP5z3Np4cM5yFwNxyNSmeZinLSuru3MHYmAEo71vdUDhS"
	const id1 = "12D3KooWDJ3CYidBMvmtsJB6AHp3y9z5zgX9YvJbmXwFpk4HGsPD"
	node := func(i int, id string) NodeRecord {
		d := filepath.Join(dir, nodeName(i))
		return NodeRecord{Name: nodeName(i), DataDir: d, RPC: fmt.Sprintf("http://127.0.0.1:%d", 17401+2*i),
			Cookie: filepath.Join(d, "rpc.cookie"), PeerID: id,
			P2P: []string{fmt.Sprintf("/ip4/127.0.0.1/tcp/%d/p2p/%s", 17400+2*i, id)}, Mining: i == 0}
	}
	return &Manifest{
		Genesis: filepath.Join(dir, GenesisFile),
		ChainID: 12345,
		Host:    "127.0.0.1",
		Faucet: FaucetInfo{Address: "ltest1sdtvthrzmlatl2wrld2uh908ulkxe73ewteze9", WalletDir: filepath.Join(dir, FaucetDir),
			Wallet: FaucetWallet, PasswordFile: filepath.Join(dir, FaucetDir, PasswordFile)},
		Nodes: []NodeRecord{node(0, id0), node(1, id1)},
	}
}

func TestManifestRoundTrip(t *testing.T) {
	dir := t.TempDir()
	m := sampleManifest(dir)
	if err := WriteManifest(dir, m); err != nil {
		t.Fatal(err)
	}
	back, err := ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	if mustJSON(back) != mustJSON(m) {
		t.Fatalf("round trip:\n%s\n%s", mustJSON(back), mustJSON(m))
	}
	// The names scripts rely on.
	data, _ := os.ReadFile(filepath.Join(dir, ManifestFile))
	var generic map[string]any
	if err := json.Unmarshal(data, &generic); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"genesis", "chainId", "faucet", "nodes"} {
		if _, ok := generic[k]; !ok {
			t.Errorf("no %q in %s", k, data)
		}
	}
	for _, k := range []string{"address", "walletDir", "wallet", "passwordFile"} {
		if _, ok := generic["faucet"].(map[string]any)[k]; !ok {
			t.Errorf("no faucet.%s", k)
		}
	}
	for _, k := range []string{"name", "datadir", "rpc", "cookie", "peerId", "p2p", "mining"} {
		if _, ok := generic["nodes"].([]any)[0].(map[string]any)[k]; !ok {
			t.Errorf("no nodes[0].%s", k)
		}
	}
	if _, err := ReadManifest(t.TempDir()); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing manifest: %v, want ErrNotExist", err)
	}
}

// TestManifestHostile: every kind of damage is ErrBadManifest, never a
// panic, and the message names the problem.
func TestManifestHostile(t *testing.T) {
	const dir = "/srv/tn"
	good, _ := sampleManifest(dir).Marshal()
	edit := func(f func(m *Manifest)) []byte {
		m := sampleManifest(dir)
		f(m)
		b, _ := m.Marshal()
		return b
	}
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "not a testnet manifest"},
		{"truncated", good[:len(good)/2], "not a testnet manifest"},
		{"oversized", append(good, make([]byte, MaxManifestSize)...), "larger than"},
		{"trailing data", append(append([]byte{}, good...), "{}"...), "after its JSON"},
		{"trailing bracket", append(append([]byte{}, good...), "]"...), "after its JSON"},
		{"array", []byte(`[]`), "not a testnet manifest"},
		{"chain id a string", []byte(strings.Replace(string(good), `"chainId": 12345`, `"chainId": "12345"`, 1)), "not a testnet manifest"},
		{"chain id negative", []byte(strings.Replace(string(good), `"chainId": 12345`, `"chainId": -1`, 1)), "not a testnet manifest"},
		{"mining a string", []byte(strings.Replace(string(good), `"mining": true`, `"mining": "yes"`, 1)), "not a testnet manifest"},
		{"p2p a string", []byte(strings.Replace(string(good), `"p2p": [`, `"p2p": "x", "q": [`, 1)), "not a testnet manifest"},
		{"unknown field", []byte(strings.Replace(string(good), `"chainId"`, `"extra": 1, "chainId"`, 1)), "not a testnet manifest"},
		{"chain id zero", edit(func(m *Manifest) { m.ChainID = 0 }), "chainId"},
		{"genesis elsewhere", edit(func(m *Manifest) { m.Genesis = "/etc/passwd" }), "genesis"},
		{"host a name", edit(func(m *Manifest) { m.Host = "example.org" }), "host"},
		{"wallet dir elsewhere", edit(func(m *Manifest) { m.Faucet.WalletDir = "/root" }), "faucet.walletDir"},
		{"wallet renamed", edit(func(m *Manifest) { m.Faucet.Wallet = "../x" }), "faucet.wallet"},
		{"password elsewhere", edit(func(m *Manifest) { m.Faucet.PasswordFile = "/dev/zero" }), "faucet.passwordFile"},
		{"no faucet address", edit(func(m *Manifest) { m.Faucet.Address = "" }), "faucet.address"},
		{"no nodes", edit(func(m *Manifest) { m.Nodes = nil }), "nodes has 0"},
		{"too many nodes", edit(func(m *Manifest) {
			for len(m.Nodes) <= MaxNodes {
				m.Nodes = append(m.Nodes, m.Nodes[0])
			}
		}), "nodes has 33"},
		{"nodes out of order", edit(func(m *Manifest) { m.Nodes[0], m.Nodes[1] = m.Nodes[1], m.Nodes[0] }), "nodes[0].name"},
		{"datadir elsewhere", edit(func(m *Manifest) { m.Nodes[1].DataDir = "/var/lib" }), "nodes[1].datadir"},
		{"cookie elsewhere", edit(func(m *Manifest) { m.Nodes[1].Cookie = "/etc/shadow" }), "nodes[1].cookie"},
		{"rpc not loopback", edit(func(m *Manifest) { m.Nodes[1].RPC = "http://10.0.0.1:17403" }), "nodes[1].rpc"},
		{"rpc https", edit(func(m *Manifest) { m.Nodes[1].RPC = "https://127.0.0.1:17403" }), "nodes[1].rpc"},
		{"rpc with a path", edit(func(m *Manifest) { m.Nodes[1].RPC = "http://127.0.0.1:17403/x" }), "nodes[1].rpc"},
		{"rpc port zero", edit(func(m *Manifest) { m.Nodes[1].RPC = "http://127.0.0.1:0" }), "nodes[1].rpc"},
		{"rpc port huge", edit(func(m *Manifest) { m.Nodes[1].RPC = "http://127.0.0.1:99999" }), "nodes[1].rpc"},
		{"rpc ports not in step", edit(func(m *Manifest) { m.Nodes[1].RPC = "http://127.0.0.1:17405" }), "nodes[1].rpc"},
		{"base port privileged", edit(func(m *Manifest) { m.Nodes[0].RPC, m.Nodes[1].RPC = "http://127.0.0.1:81", "http://127.0.0.1:83" }), "base port"},
		{"bad peer id", edit(func(m *Manifest) { m.Nodes[0].PeerID = "QmNope" }), "nodes[0].peerId"},
		{"no p2p address", edit(func(m *Manifest) { m.Nodes[0].P2P = nil }), "nodes[0].p2p"},
		{"p2p of another peer", edit(func(m *Manifest) { m.Nodes[0].P2P = m.Nodes[1].P2P }), "nodes[0].p2p[0]"},
		{"p2p not a multiaddr", edit(func(m *Manifest) { m.Nodes[0].P2P = []string{"tcp://x"} }), "nodes[0].p2p[0]"},
		{"p2p on another port", edit(func(m *Manifest) {
			m.Nodes[1].P2P = []string{strings.Replace(m.Nodes[1].P2P[0], "17402", "17500", 1)}
		}), "nodes[1].p2p[0]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseManifest(tc.data, dir)
			if !errors.Is(err, ErrBadManifest) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want ErrBadManifest mentioning %q", err, tc.want)
			}
		})
	}
	if _, err := ParseManifest(good, dir); err != nil {
		t.Fatalf("the unspoilt manifest: %v", err)
	}
	if _, err := ParseManifest(good, "/elsewhere"); !errors.Is(err, ErrBadManifest) {
		t.Fatalf("manifest of a moved directory: %v, want ErrBadManifest", err)
	}
}

// TestReadManifestNotAFile: a directory or oversized file in its place is
// refused before reading.
func TestReadManifestNotAFile(t *testing.T) {
	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, ManifestFile), 0o700)
	if _, err := ReadManifest(dir); !errors.Is(err, ErrBadManifest) {
		t.Fatalf("directory: %v", err)
	}
	dir = t.TempDir()
	f, _ := os.Create(filepath.Join(dir, ManifestFile))
	f.Truncate(MaxManifestSize + 1)
	f.Close()
	if _, err := ReadManifest(dir); !errors.Is(err, ErrBadManifest) || !strings.Contains(err.Error(), "larger") {
		t.Fatalf("oversized: %v", err)
	}
}

// FuzzParseManifest: any input is a manifest that survives a round trip,
// or an ErrBadManifest; never a panic.
func FuzzParseManifest(f *testing.F) {
	const dir = "/srv/tn"
	good, _ := sampleManifest(dir).Marshal()
	f.Add(good)
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"nodes":[{"name":"node0"}]}`))
	f.Add(good[:100])
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseManifest(data, dir)
		if err != nil {
			if !errors.Is(err, ErrBadManifest) {
				t.Fatalf("error of another kind: %v", err)
			}
			return
		}
		again, _ := m.Marshal()
		m2, err := ParseManifest(again, dir)
		if err != nil || mustJSON(m2) != mustJSON(m) {
			t.Fatalf("accepted manifest does not round-trip: %v", err)
		}
	})
}
