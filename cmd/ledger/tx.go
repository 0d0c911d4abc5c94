package main

import (
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ledger-node/ledger/chain/types"
	"github.com/ledger-node/ledger/rpc"
)

func newTxCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "tx HASH",
		Short: "show a transaction and where it stands (tx_status); tx submit sends a signed one",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("tx needs a transaction hash, or the subcommand submit")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			hash, err := parseHash("transaction", args[0])
			if err != nil {
				return err
			}
			ctx, c, err := a.connect(cmd)
			if err != nil {
				return err
			}
			r, err := c.Transaction(ctx, hash)
			if err != nil {
				return err
			}
			st, err := c.TxStatus(ctx, hash)
			if err != nil {
				return err
			}
			res := struct {
				Transaction rpc.TxResult `json:"transaction"`
				PoolStatus  rpc.TxStatus `json:"poolStatus"`
				Explanation string       `json:"explanation"`
			}{Transaction: r, PoolStatus: st}
			res.Explanation = explainTx(r, st)
			return a.emit(res, func(w io.Writer) { printTx(w, r, res.Explanation) })
		},
	}
	cmd.AddCommand(newTxSubmitCmd(a))
	return cmd
}

// explainTx sums up a transaction's situation: the chain's view when it
// is confirmed, the pool's otherwise.
func explainTx(r rpc.TxResult, st rpc.TxStatus) string {
	if r.Status == "confirmed" {
		return fmt.Sprintf("confirmed in block %d, %d confirmations", r.Height, r.Confirmations)
	}
	text, _ := explainStatus(st)
	return text
}

func printTx(w io.Writer, r rpc.TxResult, explanation string) {
	tw := table(w)
	fmt.Fprintf(tw, "hash\t%s\n", r.Hash)
	fmt.Fprintf(tw, "status\t%s\n", explanation)
	if r.Tx != nil {
		if r.Coinbase {
			fmt.Fprintf(tw, "from\t(block reward)\n")
		} else {
			fmt.Fprintf(tw, "from\t%s\n", r.From)
		}
		fmt.Fprintf(tw, "to\t%s\n", r.To)
		fmt.Fprintf(tw, "amount\t%s\n", coins(r.Amount))
		fmt.Fprintf(tw, "fee\t%s\n", coins(r.Fee))
		fmt.Fprintf(tw, "nonce\t%d\n", r.Nonce)
		if r.Memo != "" {
			fmt.Fprintf(tw, "memo\t%s\n", memoText(r.Memo))
		}
		fmt.Fprintf(tw, "size\t%d bytes\n", r.Size)
	}
	if r.BlockHash != "" {
		fmt.Fprintf(tw, "block\t%d %s\n", r.Height, r.BlockHash)
	}
	tw.Flush()
}

// memoText shows a hex memo as text when it is printable, else as hex.
func memoText(h string) string {
	b, err := hex.DecodeString(h)
	if err != nil {
		return h
	}
	for _, c := range string(b) {
		if c < 0x20 || c == 0x7f || c == 0xfffd {
			return "0x" + h
		}
	}
	return fmt.Sprintf("%q", b)
}

// maxRawTxInput bounds a tx submit argument or file: the hex of the
// largest transaction plus white space.
const maxRawTxInput = 2*types.MaxTxSize + 64

// readRawTx reads a signed transaction as hex, from a file or the
// argument itself, and decodes it.
func readRawTx(arg string) (*types.Tx, []byte, error) {
	text := arg
	if st, err := os.Stat(arg); err == nil && !st.IsDir() {
		data, err := readSmallFile(arg, "transaction file", maxRawTxInput+1)
		if err != nil {
			return nil, nil, err
		}
		if len(data) > maxRawTxInput {
			return nil, nil, fmt.Errorf("transaction file %s is larger than a transaction (%d bytes of hex)", arg, maxRawTxInput)
		}
		text = string(data)
	} else if len(arg) > maxRawTxInput {
		return nil, nil, usagef("argument is longer than a transaction (%d hex digits)", maxRawTxInput)
	}
	text = strings.TrimPrefix(strings.Join(strings.Fields(text), ""), "0x")
	raw, err := hex.DecodeString(text)
	if err != nil {
		return nil, nil, usagef("%q is neither a file nor a transaction in hex", shorten(arg))
	}
	tx, err := types.DecodeTx(raw)
	if err != nil {
		return nil, nil, fmt.Errorf("not a valid transaction: %v", err)
	}
	if tx.IsCoinbase() {
		return nil, nil, fmt.Errorf("a coinbase cannot be submitted; only transfers")
	}
	return tx, raw, nil
}

func shorten(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

func newTxSubmitCmd(a *app) *cobra.Command {
	var wait int
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "submit FILE|HEX",
		Short: "submit a signed transaction (from send --offline) to the node",
		Args:  exactArgs("FILE|HEX"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if wait < 0 {
				return usagef("--wait %d: must not be negative", wait)
			}
			if timeout <= 0 {
				return usagef("--timeout %v: must be more than zero", timeout)
			}
			tx, raw, err := readRawTx(args[0])
			if err != nil {
				return err
			}
			ctx, c, err := a.connect(cmd)
			if err != nil {
				return err
			}
			sent, err := c.SendRawTx(ctx, raw)
			if err != nil {
				return fmt.Errorf("the node refused the transaction: %w", err)
			}
			if err := checkSentHash(sent, tx); err != nil {
				return err
			}
			res := sentJSON{Hash: sent.Hash, Amount: amountJSON(uint64(tx.Amount)), Fee: amountJSON(uint64(tx.Fee)),
				Nonce: tx.Nonce, Published: sent.Published}
			return a.finishSend(ctx, c, res, wait, timeout)
		},
	}
	cmd.Flags().IntVar(&wait, "wait", 0, "wait until the transaction has this many confirmations")
	cmd.Flags().DurationVar(&timeout, "timeout", 10*time.Minute, "how long --wait waits, retrying while the node is unreachable")
	return cmd
}
