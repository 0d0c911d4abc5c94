package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"

	"github.com/spf13/cobra"

	"github.com/ledger-node/ledger/rpc"
	"github.com/ledger-node/ledger/rpc/client"
)

// poolScanLimit is how many pool transactions balance reads to compute a
// pending balance (mempool_content's most).
const poolScanLimit = 1000

// accountsOf resolves a balance or history argument: the addresses a
// wallet of that name has handed out (which needs its password), or the
// address itself.
func (a *app) accountsOf(arg string) (walletName string, addrs []string, err error) {
	if a.walletExists(arg) {
		w, err := a.openWallet(arg)
		if err != nil {
			return "", nil, err
		}
		defer w.Close()
		ias, err := walletAddresses(w)
		if err != nil {
			return "", nil, err
		}
		for _, ia := range ias {
			addrs = append(addrs, ia.Address)
		}
		return arg, addrs, nil
	}
	if err := checkAddressSyntax("argument", arg); err != nil {
		return "", nil, err
	}
	return "", []string{arg}, nil
}

// balanceJSON is one address's balance.
type balanceJSON struct {
	Address      string     `json:"address"`
	Confirmed    jsonAmount `json:"confirmed"`
	Pending      jsonAmount `json:"pending"`
	Nonce        uint64     `json:"nonce"`
	PendingNonce uint64     `json:"pendingNonce"`
}

// pendingBalance is the confirmed balance after the pool's executable
// transactions from and to the address. Sums saturate: a hostile node's
// numbers cannot wrap around.
func pendingBalance(confirmed uint64, addr string, pool []rpc.PoolTx) uint64 {
	in, out := uint64(0), uint64(0)
	for _, p := range pool {
		if p.Tx == nil || p.Queued {
			continue
		}
		if p.To == addr {
			in = satAdd(in, p.Amount)
		}
		if p.From == addr {
			out = satAdd(out, satAdd(p.Amount, p.Fee))
		}
	}
	total := satAdd(confirmed, in)
	if out >= total {
		return 0
	}
	return total - out
}

func satAdd(a, b uint64) uint64 {
	if a+b < a {
		return ^uint64(0)
	}
	return a + b
}

func newBalanceCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "balance ADDRESS|WALLET",
		Short: "confirmed and pending balance of an address or of a wallet's addresses",
		Long: `Show the confirmed balance (at the chain's tip) and the pending balance
(after the transactions waiting in the node's pool) of an address, or of
every address a wallet has handed out (a wallet name asks for its password:
addresses are derived from its encrypted seed). Amounts are in coins.`,
		Args: exactArgs("ADDRESS|WALLET"),
		RunE: func(cmd *cobra.Command, args []string) error {
			name, addrs, err := a.accountsOf(args[0])
			if err != nil {
				return err
			}
			ctx, c, err := a.connect(cmd)
			if err != nil {
				return err
			}
			var pool []rpc.PoolTx
			if err := c.Call(ctx, "mempool_content", []any{poolScanLimit}, &pool); err != nil {
				return err
			}
			res := struct {
				Wallet    string        `json:"wallet,omitempty"`
				Accounts  []balanceJSON `json:"accounts"`
				Confirmed jsonAmount    `json:"confirmed"`
				Pending   jsonAmount    `json:"pending"`
			}{Wallet: name}
			var conf, pend uint64
			for _, addr := range addrs {
				acct, err := c.Account(ctx, addr)
				if err != nil {
					return err
				}
				p := pendingBalance(acct.Balance, addr, pool)
				res.Accounts = append(res.Accounts, balanceJSON{Address: addr, Confirmed: amountJSON(acct.Balance),
					Pending: amountJSON(p), Nonce: acct.Nonce, PendingNonce: acct.PendingNonce})
				conf, pend = satAdd(conf, acct.Balance), satAdd(pend, p)
			}
			res.Confirmed, res.Pending = amountJSON(conf), amountJSON(pend)
			return a.emit(res, func(w io.Writer) {
				tw := table(w)
				fmt.Fprintln(tw, "ADDRESS\tCONFIRMED\tPENDING")
				for _, b := range res.Accounts {
					fmt.Fprintf(tw, "%s\t%s\t%s\n", b.Address, b.Confirmed.Coins, b.Pending.Coins)
				}
				if len(res.Accounts) > 1 {
					fmt.Fprintf(tw, "total\t%s\t%s\n", res.Confirmed.Coins, res.Pending.Coins)
				}
				tw.Flush()
			})
		},
	}
}

// historyEntry is a transaction in an address's history, with its
// direction seen from that address.
type historyEntry struct {
	rpc.TxResult
	Account   string `json:"account"`
	Direction string `json:"direction"` // in, out, self or mined
}

func direction(addr string, tx *rpc.Tx) string {
	switch {
	case tx.Coinbase:
		return "mined"
	case tx.From == addr && tx.To == addr:
		return "self"
	case tx.From == addr:
		return "out"
	}
	return "in"
}

func newHistoryCmd(a *app) *cobra.Command {
	var limit int
	var cursor string
	cmd := &cobra.Command{
		Use:   "history ADDRESS|WALLET",
		Short: "confirmed transactions of an address or of a wallet's addresses, newest first",
		Args:  exactArgs("ADDRESS|WALLET"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if limit < 1 || limit > client.MaxHistoryLimit {
				return usagef("--limit %d: want 1 to %d", limit, client.MaxHistoryLimit)
			}
			name, addrs, err := a.accountsOf(args[0])
			if err != nil {
				return err
			}
			if cursor != "" && len(addrs) > 1 {
				return usagef("--cursor pages through one address's history; give an address, not wallet %q", name)
			}
			ctx, c, err := a.connect(cmd)
			if err != nil {
				return err
			}
			res, err := history(ctx, c, addrs, limit, cursor)
			if err != nil {
				return err
			}
			res.Wallet = name
			return a.emit(res, func(w io.Writer) { printHistory(w, res) })
		},
	}
	cmd.Flags().IntVar(&limit, "limit", 50, fmt.Sprintf("most transactions to show (1 to %d)", client.MaxHistoryLimit))
	cmd.Flags().StringVar(&cursor, "cursor", "", "continue after this cursor (from a previous page's nextCursor)")
	return cmd
}

type historyJSON struct {
	Wallet       string         `json:"wallet,omitempty"`
	Addresses    []string       `json:"addresses"`
	Transactions []historyEntry `json:"transactions"`
	NextCursor   string         `json:"nextCursor,omitempty"`
}

// history reads each address's newest limit transactions and merges them,
// newest first (a transfer between two of the addresses appears for
// each).
func history(ctx context.Context, c *client.Client, addrs []string, limit int, cursor string) (historyJSON, error) {
	res := historyJSON{Addresses: addrs, Transactions: []historyEntry{}}
	for _, addr := range addrs {
		h, err := c.Transactions(ctx, addr, limit, cursor)
		if client.HasReason(err, "ErrUnknownMethod") || isMethodNotFound(err) {
			return res, fmt.Errorf("the node does not serve state_getTransactions (address history): it needs a newer ledgerd")
		}
		if err != nil {
			return res, err
		}
		for _, t := range h.Transactions {
			if t.Tx == nil {
				continue
			}
			res.Transactions = append(res.Transactions, historyEntry{TxResult: t, Account: addr, Direction: direction(addr, t.Tx)})
		}
		if len(addrs) == 1 {
			res.NextCursor = h.NextCursor
		}
	}
	sort.SliceStable(res.Transactions, func(i, j int) bool {
		return res.Transactions[i].Height > res.Transactions[j].Height
	})
	if len(res.Transactions) > limit {
		res.Transactions = res.Transactions[:limit]
	}
	return res, nil
}

func isMethodNotFound(err error) bool {
	var e *client.Error
	return errors.As(err, &e) && e.Kind == client.ErrRPC && e.Code == -32601
}

func printHistory(w io.Writer, res historyJSON) {
	if len(res.Transactions) == 0 {
		fmt.Fprintln(w, "No transactions.")
		return
	}
	tw := table(w)
	fmt.Fprintln(tw, "HEIGHT\tDIRECTION\tAMOUNT\tFEE\tCOUNTERPARTY\tHASH")
	for _, e := range res.Transactions {
		sign, other := "+", e.From
		switch e.Direction {
		case "out":
			sign, other = "-", e.To
		case "self":
			sign, other = " ", e.To
		case "mined":
			other = "(block reward)"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s%s\t%s\t%s\t%s\n", e.Height, e.Direction, sign, coins(e.Amount), coins(e.Fee), other, e.Hash)
	}
	tw.Flush()
	if res.NextCursor != "" {
		fmt.Fprintf(w, "more: --cursor %s\n", res.NextCursor)
	}
}
