package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"

	"github.com/ledger-node/ledger/chain/types"
	"github.com/ledger-node/ledger/rpc"
	"github.com/ledger-node/ledger/rpc/client"
	"github.com/ledger-node/ledger/wallet"
)

// Helpers of scenarios 4 and 5 on top of the harness: keys and signed
// transfers made in the test process (so a test controls every byte of a
// transaction, bad ones included), raw JSON-RPC over HTTP, and queries the
// harness has no waiter for.

// testFee is the fee of the transfers tests make: above the minimum relay
// fee of a transfer without memo (1 per byte, 148 bytes).
const testFee = types.Amount(1000)

// walletNetwork is the network as the wallet library signs for it.
func (n *testNetwork) walletNetwork() wallet.Network {
	return wallet.NetworkFromParams(n.tn.Genesis.Params)
}

// genesisHash is the network's genesis hash.
func (n *testNetwork) genesisHash() types.Hash { return n.tn.Genesis.Params.GenesisHash }

// faucetKey opens the faucet wallet with its password file and returns
// the key of its funded first address.
func (n *testNetwork) faucetKey(t *testing.T) *secp256k1.PrivateKey {
	t.Helper()
	f := n.faucet()
	pw, err := os.ReadFile(f.PasswordFile)
	if err != nil {
		t.Fatal(err)
	}
	store, err := wallet.NewStore(f.WalletDir)
	if err != nil {
		t.Fatal(err)
	}
	w, err := store.Open(f.Wallet, bytes.TrimRight(pw, "\r\n"), n.walletNetwork())
	if err != nil {
		t.Fatalf("opening the faucet wallet: %v", err)
	}
	defer w.Close()
	k, err := w.Key(0)
	if err != nil {
		t.Fatal(err)
	}
	if got := wallet.AddressOf(k).Bech32(n.prefix()); got != f.Address {
		t.Fatalf("faucet key 0 is %s, the manifest says %s", got, f.Address)
	}
	return k
}

// newKey is a fresh key; its address holds nothing until paid.
func newKey(t *testing.T) *secp256k1.PrivateKey {
	t.Helper()
	k, err := secp256k1.GeneratePrivateKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// addressOf is k's address on the network, in bech32.
func (n *testNetwork) addressOf(k *secp256k1.PrivateKey) string {
	return wallet.AddressOf(k).Bech32(n.prefix())
}

// randomAddress is an address nobody holds the key of.
func randomAddress(t *testing.T) types.Address {
	t.Helper()
	var a types.Address
	if _, err := rand.Read(a[:]); err != nil {
		t.Fatal(err)
	}
	return a
}

// transfer signs a transfer from key with the given nonce on net (the
// network's own unless a test wants another).
func transfer(t *testing.T, net wallet.Network, key *secp256k1.PrivateKey, to types.Address, amount types.Amount, nonce uint64) *types.Tx {
	t.Helper()
	tx, err := wallet.BuildTx(net, key, wallet.Transfer{To: to, Amount: amount, Fee: testFee, Nonce: nonce})
	if err != nil {
		t.Fatalf("signing a transfer: %v", err)
	}
	return tx
}

// token is node i's current RPC token.
func (n *testNetwork) token(t *testing.T, i int) string {
	t.Helper()
	tok, err := rpc.ReadCookie(n.record(i).DataDir)
	if err != nil {
		t.Fatalf("node%d's RPC cookie: %v", i, err)
	}
	return tok
}

// rawReply is an HTTP answer of the JSON-RPC endpoint.
type rawReply struct {
	Status int
	Body   []byte
}

// wireError is a JSON-RPC error object as sent.
type wireError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Data    *struct {
		Reason string `json:"reason"`
	} `json:"data"`
}

// rpcError decodes a single (non-batch) error answer; nil if the answer
// is not one.
func (r rawReply) rpcError() *wireError {
	var resp struct {
		Error *wireError `json:"error"`
	}
	if json.Unmarshal(r.Body, &resp) != nil {
		return nil
	}
	return resp.Error
}

func (e *wireError) reason() string {
	if e == nil || e.Data == nil {
		return ""
	}
	return e.Data.Reason
}

// postRaw sends body as it is to node i's JSON-RPC endpoint with the
// given Authorization header value ("" for none) and returns the answer
// (at most 1 MiB of it).
func (n *testNetwork) postRaw(ctx context.Context, i int, auth string, body io.Reader) (rawReply, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.record(i).RPC, body)
	if err != nil {
		return rawReply{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return rawReply{}, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return rawReply{Status: resp.StatusCode, Body: data}, err
}

// txState is where node i says a transaction is: chain_getTransaction's
// status ("confirmed", "pending", "unknown") and the block holding it.
func (n *testNetwork) txState(ctx context.Context, i int, hash string) (rpc.TxResult, error) {
	r, err := n.client(i).Transaction(ctx, hash)
	if err != nil {
		return r, fmt.Errorf("node%d chain_getTransaction %.16s…: %w", i, hash, err)
	}
	return r, nil
}

// waitConfirmedEverywhere waits until every node in nodes reports every
// transaction of hashes confirmed, in the same block on each node, and
// returns the block of each.
func (n *testNetwork) waitConfirmedEverywhere(ctx context.Context, nodes []int, hashes []string, what string) (map[string]string, error) {
	blocks := map[string]string{}
	err := n.poll(ctx, defaultWait, what, func(ctx context.Context) (bool, string, error) {
		for _, h := range hashes {
			var first string
			for _, i := range nodes {
				r, err := n.txState(ctx, i, h)
				if err != nil {
					return false, "", err
				}
				if r.Status != "confirmed" {
					return false, fmt.Sprintf("node%d has %.16s… %s", i, h, r.Status), nil
				}
				if first == "" {
					first = r.BlockHash
				} else if r.BlockHash != first {
					return false, fmt.Sprintf("%.16s… in block %.16s… on one node, %.16s… on node%d", h, first, r.BlockHash, i), nil
				}
			}
			blocks[h] = first
		}
		return true, "", nil
	})
	return blocks, err
}

// defaultWait bounds the scenarios' own waits; the scenario's deadline
// still applies.
const defaultWait = 60 * time.Second

// bans is node i's ban list by peer id.
func (n *testNetwork) bans(ctx context.Context, i int) (map[string]rpc.BanInfo, error) {
	var list []rpc.BanInfo
	if err := n.client(i).Call(ctx, "node_listBans", nil, &list); err != nil {
		return nil, fmt.Errorf("node%d node_listBans: %w", i, err)
	}
	out := make(map[string]rpc.BanInfo, len(list))
	for _, b := range list {
		out[b.PeerID] = b
	}
	return out, nil
}

// peerScore is node i's ban score for peer p and whether p is connected.
func (n *testNetwork) peerScore(ctx context.Context, i int, p string) (float64, bool, error) {
	peers, err := n.client(i).Peers(ctx)
	if err != nil {
		return 0, false, fmt.Errorf("node%d node_peers: %w", i, err)
	}
	for _, q := range peers {
		if q.PeerID == p {
			return q.Score, true, nil
		}
	}
	return 0, false, nil
}

// isRPCError reports whether err is the node's JSON-RPC error with code
// and reason.
func isRPCError(err error, code int, reason string) bool {
	var ce *client.Error
	if !errors.As(err, &ce) {
		return false
	}
	return ce.Kind == client.ErrRPC && ce.Code == code && ce.Reason == reason
}

// describeErr renders a client error with its code and reason.
func describeErr(err error) string {
	var ce *client.Error
	if errors.As(err, &ce) && ce.Kind == client.ErrRPC {
		return fmt.Sprintf("code %d reason %q: %s", ce.Code, ce.Reason, ce.Message)
	}
	if err == nil {
		return "no error"
	}
	return strings.TrimSpace(err.Error())
}
