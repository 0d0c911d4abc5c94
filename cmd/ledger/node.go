package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/ledger-node/ledger/rpc"
	"github.com/ledger-node/ledger/rpc/client"
)

func newBlockCmd(a *app) *cobra.Command {
	var full bool
	cmd := &cobra.Command{
		Use:   "block HEIGHT|HASH",
		Short: "show a block of the main chain by height, or any stored block by hash",
		Args:  exactArgs("HEIGHT|HASH"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ref, err := parseBlockRef(args[0])
			if err != nil {
				return err
			}
			ctx, c, err := a.connect(cmd)
			if err != nil {
				return err
			}
			if full {
				var b client.FullBlock
				if ref.byHash {
					b, err = c.FullBlockByHash(ctx, ref.hash)
				} else {
					b, err = c.FullBlockByHeight(ctx, ref.height)
				}
				if err != nil {
					return err
				}
				return a.emit(b, func(w io.Writer) {
					printBlockHeader(w, b.Block, len(b.Txs))
					for _, t := range b.Txs {
						from := t.From
						if t.Coinbase {
							from = "(block reward)"
						}
						fmt.Fprintf(w, "  %s  %s -> %s  %s (fee %s)\n", t.Hash, from, t.To, coins(t.Amount), coins(t.Fee))
					}
				})
			}
			var b client.Block
			if ref.byHash {
				b, err = c.BlockByHash(ctx, ref.hash)
			} else {
				b, err = c.BlockByHeight(ctx, ref.height)
			}
			if err != nil {
				return err
			}
			return a.emit(b, func(w io.Writer) {
				printBlockHeader(w, b.Block, len(b.Txs))
				for _, h := range b.Txs {
					fmt.Fprintf(w, "  %s\n", h)
				}
			})
		},
	}
	cmd.Flags().BoolVar(&full, "full", false, "show every transaction")
	return cmd
}

func printBlockHeader(w io.Writer, b rpc.Block, txs int) {
	tw := table(w)
	fmt.Fprintf(tw, "hash\t%s\n", b.Hash)
	fmt.Fprintf(tw, "height\t%d\n", b.Height)
	fmt.Fprintf(tw, "parent\t%s\n", b.Parent)
	fmt.Fprintf(tw, "time\t%s\n", unixTime(int64(b.Timestamp)))
	fmt.Fprintf(tw, "bits\t%s\n", b.Bits)
	fmt.Fprintf(tw, "nonce\t%d\n", b.Nonce)
	fmt.Fprintf(tw, "state root\t%s\n", b.StateRoot)
	fmt.Fprintf(tw, "tx root\t%s\n", b.TxRoot)
	fmt.Fprintf(tw, "size\t%d bytes\n", b.Size)
	fmt.Fprintf(tw, "transactions\t%d\n", txs)
	tw.Flush()
}

// statusJSON is ledger status's result.
type statusJSON struct {
	Version     string          `json:"version"`
	Network     string          `json:"network"`
	ChainID     uint32          `json:"chainId"`
	GenesisHash string          `json:"genesisHash"`
	Height      uint32          `json:"height"`
	Head        rpc.Head        `json:"head"`
	Sync        rpc.SyncStatus  `json:"sync"`
	Peers       int             `json:"peers"`
	Mempool     rpc.MempoolInfo `json:"mempool"`
}

func newStatusCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "the node's network, height, peers, sync state and pool",
		Args:  exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, c, err := a.connect(cmd)
			if err != nil {
				return err
			}
			info, err := c.NodeInfo(ctx)
			if err != nil {
				return err
			}
			var st statusJSON
			if st.Head, err = c.Head(ctx); err != nil {
				return err
			}
			if st.Sync, err = c.SyncStatus(ctx); err != nil {
				return err
			}
			peers, err := c.Peers(ctx)
			if err != nil {
				return err
			}
			if st.Mempool, err = c.MempoolInfo(ctx); err != nil {
				return err
			}
			st.Version, st.Network, st.ChainID, st.GenesisHash = info.Version, info.Network, info.ChainID, info.GenesisHash
			st.Height, st.Peers = st.Head.Height, len(peers)
			return a.emit(st, func(w io.Writer) {
				tw := table(w)
				fmt.Fprintf(tw, "network\t%s (chain %d, genesis %s)\n", st.Network, st.ChainID, st.GenesisHash)
				fmt.Fprintf(tw, "node\t%s at %s\n", st.Version, c.URL())
				fmt.Fprintf(tw, "height\t%d (%s)\n", st.Head.Height, st.Head.Hash)
				fmt.Fprintf(tw, "tip time\t%s%s\n", unixTime(int64(st.Head.Timestamp)), age(a.now(), int64(st.Head.Timestamp)))
				if st.Sync.Syncing {
					fmt.Fprintf(tw, "sync\tsyncing: %d of %d (%.1f%%)\n", st.Sync.Height, st.Sync.BestKnownHeight, 100*st.Sync.Progress)
				} else {
					fmt.Fprintf(tw, "sync\tsynced\n")
				}
				fmt.Fprintf(tw, "peers\t%d\n", st.Peers)
				fmt.Fprintf(tw, "mempool\t%d transactions, %d bytes, minimum fee rate %d per byte\n",
					st.Mempool.Count, st.Mempool.Bytes, st.Mempool.MinFeeRate)
				tw.Flush()
			})
		},
	}
}

func newRPCCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "rpc METHOD [PARAM...]",
		Short: "call any JSON-RPC method and print its result as JSON",
		Long: `Call any JSON-RPC method (see docs/rpc.md) and print its result as JSON.
Each PARAM is a JSON value, or a plain string when it is not valid JSON, so
hashes and addresses need no quotes:

  ledger rpc chain_getBlockByHeight 2 true
  ledger rpc state_getAccount ldev1...

A single JSON object passes parameters by name: ledger rpc tx_estimateFee '{"blocks":6}'.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) < 1 {
				return usagef("rpc needs a method name")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			params, err := parseRPCParams(args[1:])
			if err != nil {
				return err
			}
			ctx, c, err := a.connect(cmd)
			if err != nil {
				return err
			}
			var raw json.RawMessage
			if err := c.Call(ctx, args[0], params, &raw); err != nil {
				return err
			}
			var buf bytes.Buffer
			if a.jsonOut() {
				err = json.Compact(&buf, raw)
			} else {
				err = json.Indent(&buf, raw, "", "  ")
			}
			if err != nil {
				return fmt.Errorf("%s: the result is not valid JSON: %w", args[0], err)
			}
			buf.WriteByte('\n')
			_, err = a.stdout.Write(buf.Bytes())
			return err
		},
	}
}

// age says how long ago Unix time sec was, when it is in the past (block
// times may run ahead of the clock).
func age(now time.Time, sec int64) string {
	d := now.Sub(time.Unix(sec, 0)).Round(time.Second)
	if d < 0 {
		return ""
	}
	return fmt.Sprintf(", %s ago", d)
}
