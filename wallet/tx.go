package wallet

import (
	"github.com/decred/dcrd/dcrec/secp256k1/v4"

	"github.com/ledger-node/ledger/chain/types"
)

// Transfer describes a transfer to sign.
type Transfer struct {
	To     types.Address
	Amount types.Amount
	Fee    types.Amount
	Nonce  uint64
	Memo   []byte
}

// BuildTx checks and signs a transfer for network net with key: the
// amount must be non-zero, amount+fee must not overflow and the memo must
// fit, all before signing. The signature is checked with
// types.VerifyTxSig before the transaction is returned.
func BuildTx(net Network, key *secp256k1.PrivateKey, t Transfer) (*types.Tx, error) {
	if err := net.Validate(); err != nil {
		return nil, err
	}
	if key == nil {
		return nil, errorf(ErrBadParams, "no signing key")
	}
	if t.Amount == 0 {
		return nil, errorf(ErrZeroAmount, "amount is zero")
	}
	if _, ok := addAmounts(t.Amount, t.Fee); !ok {
		return nil, errorf(ErrOverflow, "amount %s plus fee %s overflows", t.Amount, t.Fee)
	}
	if len(t.Memo) > types.MaxMemoSize {
		return nil, errorf(ErrBadMemo, "memo of %d bytes exceeds %d", len(t.Memo), types.MaxMemoSize)
	}
	tx := &types.Tx{Kind: types.TxTransfer, ChainID: net.ChainID, Nonce: t.Nonce, To: t.To, Amount: t.Amount, Fee: t.Fee}
	if len(t.Memo) > 0 {
		tx.Memo = append([]byte(nil), t.Memo...)
	}
	types.SignTx(tx, key, net.GenesisHash)
	if err := types.VerifyTxSig(tx, net.GenesisHash); err != nil {
		return nil, wrapf(ErrBadParams, err, "signature self-check failed")
	}
	return tx, nil
}

func addAmounts(a, b types.Amount) (types.Amount, bool) {
	s := a + b
	return s, s >= a
}

// NodeClient is what the wallet needs from a node; the CLI implements it
// over state_getAccount and tx_estimateFee. Account returns the confirmed
// balance, the confirmed nonce and the nonce after the account's pending
// (mempool) transactions; EstimateFee a fee rate in base units per byte
// of encoded transaction.
type NodeClient interface {
	Account(addr types.Address) (balance types.Amount, nonce, pendingNonce uint64, err error)
	EstimateFee() (feePerByte types.Amount, err error)
}

// DefaultMaxFee is the most PrepareTx accepts as a node's fee suggestion
// when SendRequest.MaxFee is zero: 0.01 coin, some thousands of times
// what a transfer pays at the pool's default minimum rate (1 base unit
// per byte), yet a small loss should a hostile or misconfigured node
// suggest it.
const DefaultMaxFee = types.Coin / 100

// SendRequest is a transfer whose fee and nonce may be left to the node.
type SendRequest struct {
	To     types.Address
	Amount types.Amount
	Memo   []byte
	// Fee, if non-nil, is used as given; otherwise it is EstimateFee times
	// the transaction's encoded size.
	Fee *types.Amount
	// MaxFee bounds a fee computed from the node's estimate (DefaultMaxFee
	// if zero): the node is not trusted to choose how much of the balance
	// is paid away. A given Fee is not checked against it.
	MaxFee types.Amount
	// Nonce, if non-nil, is used as given; otherwise the account's pending
	// nonce.
	Nonce *uint64
}

// TransferSize is the encoded size of a transfer with a memo of memoLen
// bytes: what a per-byte fee is multiplied by.
func TransferSize(memoLen int) int {
	tx := types.Tx{Kind: types.TxTransfer, Memo: make([]byte, memoLen)}
	return tx.EncodedSize()
}

// PrepareTx fills in the fee and nonce from the node where the request
// leaves them out, refuses an estimated fee above MaxFee, a zero amount,
// an overflowing amount+fee or one above the sender's balance, and signs. Pending spends are not
// subtracted from the balance: the node's mempool refuses what the
// account cannot pay once they are counted.
func PrepareTx(client NodeClient, net Network, key *secp256k1.PrivateKey, req SendRequest) (*types.Tx, error) {
	if req.Amount == 0 {
		return nil, errorf(ErrZeroAmount, "amount is zero")
	}
	if len(req.Memo) > types.MaxMemoSize {
		return nil, errorf(ErrBadMemo, "memo of %d bytes exceeds %d", len(req.Memo), types.MaxMemoSize)
	}
	if key == nil {
		return nil, errorf(ErrBadParams, "no signing key")
	}
	var fee types.Amount
	if req.Fee != nil {
		fee = *req.Fee
	} else {
		rate, err := client.EstimateFee()
		if err != nil {
			return nil, wrapf(ErrNode, err, "estimating the fee")
		}
		size := types.Amount(TransferSize(len(req.Memo)))
		if rate != 0 && rate > types.MaxAmount/size {
			return nil, errorf(ErrOverflow, "fee rate %d per byte times %d bytes overflows", uint64(rate), uint64(size))
		}
		fee = rate * size
		limit := req.MaxFee
		if limit == 0 {
			limit = DefaultMaxFee
		}
		if fee > limit {
			return nil, errorf(ErrFeeTooHigh, "the node suggests a fee of %s (%d per byte for %d bytes), above the maximum %s",
				fee, uint64(rate), uint64(size), limit)
		}
	}
	total, ok := addAmounts(req.Amount, fee)
	if !ok {
		return nil, errorf(ErrOverflow, "amount %s plus fee %s overflows", req.Amount, fee)
	}
	from := AddressOf(key)
	balance, _, pending, err := client.Account(from)
	if err != nil {
		return nil, wrapf(ErrNode, err, "reading account %s", from.Bech32(net.Prefix))
	}
	if total > balance {
		return nil, errorf(ErrInsufficientFunds, "amount %s plus fee %s is %s, more than the balance %s of %s",
			req.Amount, fee, total, balance, from.Bech32(net.Prefix))
	}
	nonce := pending
	if req.Nonce != nil {
		nonce = *req.Nonce
	}
	return BuildTx(net, key, Transfer{To: req.To, Amount: req.Amount, Fee: fee, Nonce: nonce, Memo: req.Memo})
}
