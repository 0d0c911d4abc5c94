package client

import (
	"context"
	"encoding/hex"
	"fmt"

	"github.com/ledger-node/ledger/chain/types"
	"github.com/ledger-node/ledger/rpc"
	"github.com/ledger-node/ledger/wallet"
)

// Block is chain_getBlockBy*'s result without fullTx: transaction hashes.
type Block struct {
	rpc.Block
	Txs []string `json:"txs"`
}

// FullBlock is chain_getBlockBy*'s result with fullTx.
type FullBlock struct {
	rpc.Block
	Txs []rpc.Tx `json:"txs"`
}

// History is state_getTransactions' result: an address's confirmed
// transactions, newest first, and the cursor of the next page ("" when
// there is none).
type History = rpc.AddressHistory

// MaxHistoryLimit is the most transactions state_getTransactions returns
// per call.
const MaxHistoryLimit = rpc.MaxHistoryLimit

// NodeInfo calls node_info.
func (c *Client) NodeInfo(ctx context.Context) (rpc.NodeInfo, error) {
	var r rpc.NodeInfo
	return r, c.Call(ctx, "node_info", nil, &r)
}

// Head calls chain_head.
func (c *Client) Head(ctx context.Context) (rpc.Head, error) {
	var r rpc.Head
	return r, c.Call(ctx, "chain_head", nil, &r)
}

// SyncStatus calls node_syncStatus.
func (c *Client) SyncStatus(ctx context.Context) (rpc.SyncStatus, error) {
	var r rpc.SyncStatus
	return r, c.Call(ctx, "node_syncStatus", nil, &r)
}

// Peers calls node_peers.
func (c *Client) Peers(ctx context.Context) ([]rpc.Peer, error) {
	var r []rpc.Peer
	return r, c.Call(ctx, "node_peers", nil, &r)
}

// MempoolInfo calls mempool_info.
func (c *Client) MempoolInfo(ctx context.Context) (rpc.MempoolInfo, error) {
	var r rpc.MempoolInfo
	return r, c.Call(ctx, "mempool_info", nil, &r)
}

// BlockByHeight calls chain_getBlockByHeight without fullTx.
func (c *Client) BlockByHeight(ctx context.Context, height uint32) (Block, error) {
	var r Block
	return r, c.Call(ctx, "chain_getBlockByHeight", []any{height, false}, &r)
}

// FullBlockByHeight calls chain_getBlockByHeight with fullTx.
func (c *Client) FullBlockByHeight(ctx context.Context, height uint32) (FullBlock, error) {
	var r FullBlock
	return r, c.Call(ctx, "chain_getBlockByHeight", []any{height, true}, &r)
}

// BlockByHash calls chain_getBlockByHash without fullTx.
func (c *Client) BlockByHash(ctx context.Context, hash string) (Block, error) {
	var r Block
	return r, c.Call(ctx, "chain_getBlockByHash", []any{hash, false}, &r)
}

// FullBlockByHash calls chain_getBlockByHash with fullTx.
func (c *Client) FullBlockByHash(ctx context.Context, hash string) (FullBlock, error) {
	var r FullBlock
	return r, c.Call(ctx, "chain_getBlockByHash", []any{hash, true}, &r)
}

// Transaction calls chain_getTransaction. An unknown transaction is not
// an error: its Status is "unknown" and Tx is nil.
func (c *Client) Transaction(ctx context.Context, hash string) (rpc.TxResult, error) {
	var r rpc.TxResult
	return r, c.Call(ctx, "chain_getTransaction", []any{hash}, &r)
}

// TxStatus calls tx_status.
func (c *Client) TxStatus(ctx context.Context, hash string) (rpc.TxStatus, error) {
	var r rpc.TxStatus
	return r, c.Call(ctx, "tx_status", []any{hash}, &r)
}

// SendRawTx calls tx_send with the canonical encoding of a signed
// transaction.
func (c *Client) SendRawTx(ctx context.Context, raw []byte) (rpc.SendResult, error) {
	var r rpc.SendResult
	return r, c.Call(ctx, "tx_send", []any{hex.EncodeToString(raw)}, &r)
}

// EstimateFee calls tx_estimateFee for a target of blocks (1 to 100; 0
// lets the node choose).
func (c *Client) EstimateFee(ctx context.Context, blocks int) (rpc.FeeEstimate, error) {
	var params []any
	if blocks > 0 {
		params = []any{blocks}
	}
	var r rpc.FeeEstimate
	return r, c.Call(ctx, "tx_estimateFee", params, &r)
}

// Account calls state_getAccount.
func (c *Client) Account(ctx context.Context, address string) (rpc.Account, error) {
	var r rpc.Account
	return r, c.Call(ctx, "state_getAccount", []any{address}, &r)
}

// Transactions calls state_getTransactions: up to limit (1 to
// MaxHistoryLimit; 0 lets the node choose) of address's transactions,
// newest first, starting after cursor ("" for the newest).
func (c *Client) Transactions(ctx context.Context, address string, limit int, cursor string) (History, error) {
	params := map[string]any{"address": address}
	if limit > 0 {
		params["limit"] = limit
	}
	if cursor != "" {
		params["cursor"] = cursor
	}
	var r History
	return r, c.Call(ctx, "state_getTransactions", params, &r)
}

// WalletNode adapts a Client to wallet.NodeClient for one network:
// addresses are rendered with Prefix, calls use Ctx, and the fee rate is
// asked for a target of FeeBlocks blocks (0: the node's default).
type WalletNode struct {
	Client    *Client
	Ctx       context.Context
	Prefix    string
	FeeBlocks int
}

var _ wallet.NodeClient = WalletNode{}

// Account implements wallet.NodeClient over state_getAccount.
func (n WalletNode) Account(addr types.Address) (balance types.Amount, nonce, pendingNonce uint64, err error) {
	want := addr.Bech32(n.Prefix)
	a, err := n.Client.Account(n.Ctx, want)
	if err != nil {
		return 0, 0, 0, err
	}
	if a.Address != want {
		return 0, 0, 0, &Error{Kind: ErrBadResponse, Method: "state_getAccount",
			Message: fmt.Sprintf("answer is for account %q, not %q", a.Address, want)}
	}
	return types.Amount(a.Balance), a.Nonce, a.PendingNonce, nil
}

// EstimateFee implements wallet.NodeClient over tx_estimateFee.
func (n WalletNode) EstimateFee() (types.Amount, error) {
	f, err := n.Client.EstimateFee(n.Ctx, n.FeeBlocks)
	if err != nil {
		return 0, err
	}
	return types.Amount(f.FeeRate), nil
}
