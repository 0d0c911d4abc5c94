package consensus

import (
	"errors"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"

	"github.com/ledger-node/ledger/chain/types"
)

// Account is the state of one address. The zero value is an account that
// has never been used; such an account is absent from the state and from
// its commitment.
type Account struct {
	Balance types.Amount
	Nonce   uint64
}

// IsEmpty reports whether the account holds nothing and never sent.
func (a Account) IsEmpty() bool { return a.Balance == 0 && a.Nonce == 0 }

// CheckTxSanity applies the rules a transfer must meet on its own, without
// state or signature: the network's chain id, a non-zero amount, a real
// recipient, a memo within the limit, and amount plus fee that does not
// overflow. Coinbases are checked by CheckBlockSanity.
func CheckTxSanity(tx *types.Tx, p *Params) error {
	if tx.Kind != types.TxTransfer {
		return ruleError(ErrMultipleCoinbases, "a coinbase outside the first position of a block")
	}
	if tx.ChainID != p.ChainID {
		return ruleError(ErrWrongChainID, "transaction for chain id %d, this network is %d", tx.ChainID, p.ChainID)
	}
	if tx.Amount == 0 {
		return ruleError(ErrZeroAmount, "transaction moves a zero amount")
	}
	if tx.To == (types.Address{}) {
		return ruleError(ErrBadRecipient, "transaction pays the all-zero address")
	}
	if len(tx.Memo) > types.MaxMemoSize {
		return ruleError(ErrMemoTooLong, "memo of %d bytes exceeds %d", len(tx.Memo), types.MaxMemoSize)
	}
	if tx.Amount+tx.Fee < tx.Amount {
		return ruleError(ErrAmountOverflow, "amount %d plus fee %d overflows", tx.Amount, tx.Fee)
	}
	return nil
}

// CheckTxSignature verifies a transfer's signature for this network and
// maps the failure to its rule kind: ErrHighS, ErrBadPubKey or
// ErrBadSignature. It is the expensive check: callers run it in parallel,
// outside locks, and remember successes (see VerifySignatures).
func CheckTxSignature(tx *types.Tx, p *Params) error {
	return checkTxSignature(tx, p, types.ParsePubKey)
}

func checkTxSignature(tx *types.Tx, p *Params, parse func(*[types.PubKeySize]byte) (*secp256k1.PublicKey, error)) error {
	err := types.VerifyTxSigWith(tx, p.GenesisHash, parse)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, types.ErrHighS):
		return ruleError(ErrHighS, "%v", err)
	case errors.Is(err, types.ErrBadPubKey):
		return ruleError(ErrBadPubKey, "%v", err)
	default:
		return ruleError(ErrBadSignature, "%v", err)
	}
}

// DebitSender applies a sane, signed transfer to its sender's account: the
// nonce must be the account's next nonce and the balance must cover amount
// plus fee. It returns the sender's account after the transfer.
func DebitSender(sender Account, tx *types.Tx) (Account, error) {
	if tx.Nonce != sender.Nonce {
		return sender, ruleError(ErrBadNonce, "transaction nonce %d, account's next nonce is %d", tx.Nonce, sender.Nonce)
	}
	cost := tx.Amount + tx.Fee
	if cost < tx.Amount {
		return sender, ruleError(ErrAmountOverflow, "amount %d plus fee %d overflows", tx.Amount, tx.Fee)
	}
	if sender.Balance < cost {
		return sender, ruleError(ErrInsufficientBalance, "balance %d does not cover amount %d plus fee %d",
			sender.Balance, tx.Amount, tx.Fee)
	}
	return Account{Balance: sender.Balance - cost, Nonce: sender.Nonce + 1}, nil
}

// Credit adds amount to an account, refusing overflow.
func Credit(acct Account, amount types.Amount) (Account, error) {
	if acct.Balance+amount < acct.Balance {
		return acct, ruleError(ErrAmountOverflow, "crediting %d to a balance of %d overflows", amount, acct.Balance)
	}
	acct.Balance += amount
	return acct, nil
}
