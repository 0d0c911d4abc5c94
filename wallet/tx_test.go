package wallet

import (
	"errors"
	"testing"

	"github.com/ledger-node/ledger/chain/types"
)

type fakeNode struct {
	balance      types.Amount
	nonce, pend  uint64
	rate         types.Amount
	accErr, fErr error
	asked        []types.Address
}

func (f *fakeNode) Account(a types.Address) (types.Amount, uint64, uint64, error) {
	f.asked = append(f.asked, a)
	return f.balance, f.nonce, f.pend, f.accErr
}

func (f *fakeNode) EstimateFee() (types.Amount, error) { return f.rate, f.fErr }

func ptr[T any](v T) *T { return &v }

func TestBuildTx(t *testing.T) {
	net, g := testNetwork(t)
	key, _ := DeriveKey(testSeed(t), net.ChainID, 0)
	to := g.Addrs[1]
	tests := []struct {
		name string
		tr   Transfer
		kind ErrorKind
	}{
		{"ok", Transfer{To: to, Amount: types.Coin, Fee: 1000, Nonce: 3}, ""},
		{"memo", Transfer{To: to, Amount: 1, Memo: make([]byte, types.MaxMemoSize)}, ""},
		{"max amount no fee", Transfer{To: to, Amount: types.MaxAmount}, ""},
		{"zero", Transfer{To: to, Amount: 0, Fee: 10}, ErrZeroAmount},
		{"overflow", Transfer{To: to, Amount: types.MaxAmount, Fee: 1}, ErrOverflow},
		{"overflow 2", Transfer{To: to, Amount: types.MaxAmount / 2, Fee: types.MaxAmount/2 + 2}, ErrOverflow},
		{"memo too long", Transfer{To: to, Amount: 1, Memo: make([]byte, types.MaxMemoSize+1)}, ErrBadMemo},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tx, err := BuildTx(net, key, tt.tr)
			if tt.kind != "" {
				wantKind(t, err, tt.kind)
				if tx != nil {
					t.Error("transaction returned with an error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := types.VerifyTxSig(tx, net.GenesisHash); err != nil {
				t.Fatalf("VerifyTxSig: %v", err)
			}
			if tx.Sender() != AddressOf(key) || tx.To != to || tx.Amount != tt.tr.Amount || tx.Fee != tt.tr.Fee ||
				tx.Nonce != tt.tr.Nonce || tx.ChainID != net.ChainID || tx.Kind != types.TxTransfer {
				t.Errorf("fields differ: %+v", tx)
			}
			// It decodes, and does not verify on another network.
			if _, err := types.DecodeTx(tx.Encode()); err != nil {
				t.Error(err)
			}
			other := net.GenesisHash
			other[0] ^= 1
			if types.VerifyTxSig(tx, other) == nil {
				t.Error("signature verifies on another network")
			}
			if tx.EncodedSize() != TransferSize(len(tt.tr.Memo)) {
				t.Errorf("TransferSize %d, encoded %d", TransferSize(len(tt.tr.Memo)), tx.EncodedSize())
			}
		})
	}
	_, err := BuildTx(Network{}, key, Transfer{To: to, Amount: 1})
	wantKind(t, err, ErrBadParams)
	_, err = BuildTx(net, nil, Transfer{To: to, Amount: 1})
	wantKind(t, err, ErrBadParams)
}

func TestPrepareTx(t *testing.T) {
	net, g := testNetwork(t)
	key, _ := DeriveKey(testSeed(t), net.ChainID, 0)
	to := g.Addrs[1]
	size := types.Amount(TransferSize(0))
	nodeErr := errors.New("connection refused")
	tests := []struct {
		name  string
		node  fakeNode
		req   SendRequest
		kind  ErrorKind
		fee   types.Amount
		nonce uint64
	}{
		{"node fills fee and nonce", fakeNode{balance: 10 * types.Coin, nonce: 4, pend: 6, rate: 10},
			SendRequest{To: to, Amount: types.Coin}, "", 10 * size, 6},
		{"given fee and nonce", fakeNode{balance: 10 * types.Coin, pend: 6, rate: 10},
			SendRequest{To: to, Amount: types.Coin, Fee: ptr(types.Amount(5)), Nonce: ptr(uint64(2))}, "", 5, 2},
		{"exact balance", fakeNode{balance: types.Coin + 5},
			SendRequest{To: to, Amount: types.Coin, Fee: ptr(types.Amount(5))}, "", 5, 0},
		{"over balance", fakeNode{balance: types.Coin + 4},
			SendRequest{To: to, Amount: types.Coin, Fee: ptr(types.Amount(5))}, ErrInsufficientFunds, 0, 0},
		{"over balance by fee estimate", fakeNode{balance: types.Coin, rate: 1},
			SendRequest{To: to, Amount: types.Coin}, ErrInsufficientFunds, 0, 0},
		{"zero", fakeNode{balance: types.Coin}, SendRequest{To: to}, ErrZeroAmount, 0, 0},
		{"overflow", fakeNode{balance: types.MaxAmount},
			SendRequest{To: to, Amount: types.MaxAmount, Fee: ptr(types.Amount(1))}, ErrOverflow, 0, 0},
		{"fee rate overflow", fakeNode{balance: types.MaxAmount, rate: types.MaxAmount / 2},
			SendRequest{To: to, Amount: 1}, ErrOverflow, 0, 0},
		{"account error", fakeNode{accErr: nodeErr}, SendRequest{To: to, Amount: 1, Fee: ptr(types.Amount(0))}, ErrNode, 0, 0},
		{"fee error", fakeNode{balance: types.Coin, fErr: nodeErr}, SendRequest{To: to, Amount: 1}, ErrNode, 0, 0},
		{"memo", fakeNode{balance: types.Coin, rate: 2}, SendRequest{To: to, Amount: 1, Memo: []byte("hi")}, "", 2 * types.Amount(TransferSize(2)), 0},
		// A node suggesting nearly the whole balance as the fee is not
		// followed: the default cap, or the request's, refuses it.
		{"estimate above default cap", fakeNode{balance: 100 * types.Coin, rate: DefaultMaxFee/size + 1},
			SendRequest{To: to, Amount: 1}, ErrFeeTooHigh, 0, 0},
		{"estimate at default cap", fakeNode{balance: 100 * types.Coin, rate: DefaultMaxFee / size},
			SendRequest{To: to, Amount: 1}, "", (DefaultMaxFee / size) * size, 0},
		{"estimate above given cap", fakeNode{balance: 100 * types.Coin, rate: 10},
			SendRequest{To: to, Amount: 1, MaxFee: 10*size - 1}, ErrFeeTooHigh, 0, 0},
		{"estimate under raised cap", fakeNode{balance: 100 * types.Coin, rate: 99 * types.Coin / size},
			SendRequest{To: to, Amount: 1, MaxFee: types.MaxAmount}, "", (99 * types.Coin / size) * size, 0},
		{"given fee above cap is used", fakeNode{balance: 100 * types.Coin, rate: 1},
			SendRequest{To: to, Amount: 1, Fee: ptr(types.Coin), MaxFee: 1}, "", types.Coin, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			node := tt.node
			tx, err := PrepareTx(&node, net, key, tt.req)
			if tt.kind != "" {
				wantKind(t, err, tt.kind)
				if tt.kind == ErrNode && !errors.Is(err, nodeErr) {
					t.Errorf("cause lost: %v", err)
				}
				if tt.kind == ErrFeeTooHigh && len(node.asked) != 0 {
					t.Errorf("account read after refusing the fee: %v", node.asked)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tx.Fee != tt.fee || tx.Nonce != tt.nonce {
				t.Errorf("fee %d nonce %d, want %d %d", tx.Fee, tx.Nonce, tt.fee, tt.nonce)
			}
			if len(node.asked) != 1 || node.asked[0] != AddressOf(key) {
				t.Errorf("asked for %v", node.asked)
			}
			if err := types.VerifyTxSig(tx, net.GenesisHash); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestBuildTxAppliesOnChain checks a wallet-built transfer from a funded
// chaingen key goes into a block.
func TestBuildTxAppliesOnChain(t *testing.T) {
	net, g := testNetwork(t)
	tx, err := BuildTx(net, g.Keys[0], Transfer{To: g.Addrs[1], Amount: types.Coin, Fee: 1000, Nonce: 0})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.Block(g.Genesis.Hash, []*types.Tx{tx}); err != nil {
		t.Fatalf("block with wallet transaction: %v", err)
	}
}
