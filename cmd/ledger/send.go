package main

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ledger-node/ledger/chain/types"
	"github.com/ledger-node/ledger/rpc"
	"github.com/ledger-node/ledger/rpc/client"
	"github.com/ledger-node/ledger/wallet"
)

// sendFlags are send's options.
type sendFlags struct {
	from, to, amount, fee, maxFee, memo, out string
	index                                    uint32
	nonce                                    uint64
	wait                                     int
	timeout                                  time.Duration
	offline                                  bool
}

// sentJSON is the result of send and tx submit.
type sentJSON struct {
	Hash      string     `json:"hash"`
	From      string     `json:"from,omitempty"`
	To        string     `json:"to,omitempty"`
	Amount    jsonAmount `json:"amount"`
	Fee       jsonAmount `json:"fee"`
	Nonce     uint64     `json:"nonce"`
	Published bool       `json:"published,omitempty"`
	// RawTx and File: send --offline.
	RawTx string `json:"rawTx,omitempty"`
	File  string `json:"file,omitempty"`
	// Confirmations and Height: with --wait.
	Confirmations uint32 `json:"confirmations,omitempty"`
	Height        uint32 `json:"height,omitempty"`
	BlockHash     string `json:"blockHash,omitempty"`

	// feeEstimated: the fee is the node's suggestion, not --fee (said in
	// the human output).
	feeEstimated bool
}

func newSendCmd(a *app) *cobra.Command {
	var f sendFlags
	cmd := &cobra.Command{
		Use:   "send --from WALLET --to ADDRESS --amount COINS",
		Short: "build, sign and submit a transfer",
		Long: `Build, sign and submit a transfer from a wallet's address (index 0 unless
--index says otherwise). The nonce comes from the node (state_getAccount's
pendingNonce) and the fee from tx_estimateFee unless --nonce or --fee give
them; the wallet must be of the node's network. A zero or negative amount,
or one above the balance with the fee, is refused before anything is signed,
and so is a fee suggested by the node above --max-fee (a --fee is used as
given).

With --offline nothing is asked of the node: --nonce and --fee are required,
the balance is not checked, and the signed transaction is written as hex to
--out (or stdout) for "ledger tx submit".`,
		Args: exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.send(ctxOf(cmd), cmd, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.from, "from", "", "wallet to send from (required)")
	fl.Uint32Var(&f.index, "index", 0, "address index in the wallet to send from")
	fl.StringVar(&f.to, "to", "", "recipient address (required)")
	fl.StringVar(&f.amount, "amount", "", "amount in coins, up to 8 decimals (required)")
	fl.StringVar(&f.fee, "fee", "", "fee in coins (default: the node's estimate for the transaction's size)")
	fl.StringVar(&f.maxFee, "max-fee", wallet.DefaultMaxFee.String(), "refuse a fee suggested by the node above this many coins (not applied to --fee)")
	fl.StringVar(&f.memo, "memo", "", "memo text stored with the transaction")
	fl.Uint64Var(&f.nonce, "nonce", 0, "sender nonce (default: the node's pending nonce; required with --offline)")
	fl.IntVar(&f.wait, "wait", 0, "wait until the transaction has this many confirmations")
	fl.DurationVar(&f.timeout, "timeout", 10*time.Minute, "how long --wait waits, retrying while the node is unreachable")
	fl.BoolVar(&f.offline, "offline", false, "sign without contacting the node; write the transaction to --out or stdout")
	fl.StringVar(&f.out, "out", "", "with --offline: file to write the signed transaction to (must not exist)")
	return cmd
}

func (a *app) send(ctx context.Context, cmd *cobra.Command, f sendFlags) error {
	// Everything the command line alone can refuse is refused first.
	switch {
	case f.from == "":
		return usagef("send needs --from WALLET")
	case f.to == "":
		return usagef("send needs --to ADDRESS")
	case f.amount == "":
		return usagef("send needs --amount COINS")
	case f.wait < 0:
		return usagef("--wait %d: must not be negative", f.wait)
	case f.timeout <= 0:
		return usagef("--timeout %v: must be more than zero", f.timeout)
	case f.wait > 0 && f.offline:
		return usagef("--wait cannot be used with --offline")
	case f.out != "" && !f.offline:
		return usagef("--out is only for --offline")
	case f.offline && (!cmd.Flags().Changed("nonce") || !cmd.Flags().Changed("fee")):
		return usagef("--offline needs --nonce and --fee (the node is not asked for them)")
	case f.index > wallet.MaxAddressIndex:
		return usagef("--index %d: at most %d", f.index, wallet.MaxAddressIndex)
	}
	amount, err := parseAmount("--amount", f.amount)
	if err != nil {
		return err
	}
	var fee *types.Amount
	if cmd.Flags().Changed("fee") {
		v, err := parseFee("--fee", f.fee)
		if err != nil {
			return err
		}
		fee = &v
	}
	maxFee, err := parseAmount("--max-fee", f.maxFee)
	if err != nil {
		return err
	}
	if len(f.memo) > types.MaxMemoSize {
		return usagef("--memo is %d bytes; at most %d", len(f.memo), types.MaxMemoSize)
	}
	s, err := a.store()
	if err != nil {
		return err
	}
	info, err := s.Info(f.from)
	if err != nil {
		return err
	}
	net := info.Network
	to, err := parseRecipient("--to", f.to, net)
	if err != nil {
		return err
	}
	if f.offline {
		return a.sendOffline(s, f, net, to, amount, *fee)
	}
	c, err := a.client()
	if err != nil {
		return err
	}
	if err := checkNodeNetwork(ctx, c, f.from, net); err != nil {
		return err
	}
	key, err := a.signingKey(s, f.from, net, f.index, "nothing was sent")
	if err != nil {
		return err
	}
	req := wallet.SendRequest{To: to, Amount: amount, Memo: []byte(f.memo), Fee: fee, MaxFee: maxFee}
	if cmd.Flags().Changed("nonce") {
		req.Nonce = &f.nonce
	}
	tx, err := wallet.PrepareTx(client.WalletNode{Client: c, Ctx: ctx, Prefix: net.Prefix}, net, key, req)
	if err != nil {
		return describeWalletError(err)
	}
	sent, err := c.SendRawTx(ctx, tx.Encode())
	if err != nil {
		return fmt.Errorf("the node refused the transaction: %w", err)
	}
	if err := checkSentHash(sent, tx); err != nil {
		return err
	}
	res := sentJSON{Hash: sent.Hash, From: tx.Sender().Bech32(net.Prefix), To: to.Bech32(net.Prefix),
		Amount: amountJSON(uint64(tx.Amount)), Fee: amountJSON(uint64(tx.Fee)), Nonce: tx.Nonce, Published: sent.Published,
		feeEstimated: fee == nil}
	return a.finishSend(ctx, c, res, f.wait, f.timeout)
}

// checkSentHash refuses an answer to tx_send that names another
// transaction than the one sent: following that hash would wait on, and
// report, something else.
func checkSentHash(sent rpc.SendResult, tx *types.Tx) error {
	if want := tx.Hash().String(); sent.Hash != want {
		got := sent.Hash // the node's text: bounded and quoted
		if len(got) > 2*types.HashSize+8 {
			got = got[:2*types.HashSize+8] + "…"
		}
		return fmt.Errorf("the node reports hash %q for transaction %s; it may have been accepted: check with \"ledger tx %s\"",
			got, want, want)
	}
	return nil
}

// finishSend prints the fee and the hash and, with wait > 0, follows the
// transaction to wait confirmations.
func (a *app) finishSend(ctx context.Context, c *client.Client, res sentJSON, wait int, timeout time.Duration) error {
	if !a.jsonOut() {
		fee := res.Fee.Coins
		if res.feeEstimated {
			fee += " (the node's estimate)"
		}
		if res.From != "" {
			a.progress("sent %s coins from %s to %s, fee %s, nonce %d", res.Amount.Coins, res.From, res.To, fee, res.Nonce)
		} else {
			a.progress("submitted a transfer of %s coins, fee %s, nonce %d", res.Amount.Coins, fee, res.Nonce)
		}
		fmt.Fprintln(a.stdout, res.Hash)
	}
	if wait > 0 {
		r, err := a.waitConfirmations(ctx, c, res.Hash, wait, timeout)
		if err != nil {
			return err
		}
		res.Confirmations, res.Height, res.BlockHash = r.Confirmations, r.Height, r.BlockHash
		if !a.jsonOut() {
			fmt.Fprintf(a.stdout, "confirmed in block %d (%s), %d confirmations\n", r.Height, r.BlockHash, r.Confirmations)
		}
	}
	if a.jsonOut() {
		return a.emit(res, nil)
	}
	return nil
}

// checkNodeNetwork refuses to sign for a node of another network than
// the wallet's: the transaction would be refused, or worse, be valid on a
// network the user did not mean.
func checkNodeNetwork(ctx context.Context, c *client.Client, walletName string, net wallet.Network) error {
	info, err := c.NodeInfo(ctx)
	if err != nil {
		return err
	}
	if info.ChainID != net.ChainID || !strings.EqualFold(info.GenesisHash, net.GenesisHash.String()) {
		return fmt.Errorf("wallet %q is for chain %d (genesis %s) but the node at %s runs %q, chain %d (genesis %s); nothing was signed",
			walletName, net.ChainID, net.GenesisHash, c.URL(), info.Network, info.ChainID, info.GenesisHash)
	}
	return nil
}

// describeWalletError words the wallet library's refusals for the
// command line.
func describeWalletError(err error) error {
	var we *wallet.Error
	if errors.As(err, &we) {
		switch we.Kind {
		case wallet.ErrInsufficientFunds:
			return fmt.Errorf("not enough coins: %s; nothing was signed", we.Description)
		case wallet.ErrFeeTooHigh:
			return fmt.Errorf("%s (--max-fee); pass --fee or raise --max-fee; nothing was signed", we.Description)
		case wallet.ErrZeroAmount:
			return usagef("the amount must be more than zero; nothing was signed")
		case wallet.ErrNode:
			if we.Cause != nil {
				return fmt.Errorf("%s: %w", we.Description, we.Cause)
			}
		}
		return errors.New(strings.TrimPrefix(err.Error(), "wallet: "))
	}
	return err
}

// sendOffline signs with the wallet's network and the given nonce and fee,
// and writes the hex encoding; the node is not contacted.
func (a *app) sendOffline(s *wallet.Store, f sendFlags, net wallet.Network, to types.Address, amount, fee types.Amount) error {
	if f.out != "" {
		if _, err := os.Lstat(f.out); err == nil {
			return fmt.Errorf("--out %s already exists; it is not overwritten", f.out)
		}
	}
	key, err := a.signingKey(s, f.from, net, f.index, "nothing was signed")
	if err != nil {
		return err
	}
	tx, err := wallet.BuildTx(net, key, wallet.Transfer{To: to, Amount: amount, Fee: fee, Nonce: f.nonce, Memo: []byte(f.memo)})
	if err != nil {
		return describeWalletError(err)
	}
	raw := hex.EncodeToString(tx.Encode())
	res := sentJSON{Hash: tx.Hash().String(), From: tx.Sender().Bech32(net.Prefix), To: to.Bech32(net.Prefix),
		Amount: amountJSON(uint64(amount)), Fee: amountJSON(uint64(fee)), Nonce: f.nonce, RawTx: raw, File: f.out}
	if f.out != "" {
		fh, err := os.OpenFile(f.out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return err
		}
		if _, err := fh.WriteString(raw + "\n"); err != nil {
			fh.Close()
			return err
		}
		if err := fh.Close(); err != nil {
			return err
		}
	}
	return a.emit(res, func(w io.Writer) {
		if f.out == "" {
			fmt.Fprintln(w, raw)
			a.progress("signed transaction %s (nonce %d, fee %s); submit it with \"ledger tx submit <hex>\"", res.Hash, f.nonce, res.Fee.Coins)
			return
		}
		fmt.Fprintf(w, "signed transaction %s written to %s\n", res.Hash, f.out)
	})
}
