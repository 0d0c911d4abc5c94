package main

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"github.com/spf13/cobra"

	"github.com/ledger-node/ledger/chain/types"
	"github.com/ledger-node/ledger/wallet"
)

// mnemonicWarning is shown with every mnemonic.
const mnemonicWarning = "Write these words down, in order, and keep them offline. They are shown only now. " +
	"Anyone who has them can spend this wallet's coins; without them, a lost password or wallet file loses the coins."

func newWalletCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "wallet",
		Short: "create, restore and inspect wallets",
		RunE:  groupRun,
	}
	cmd.AddCommand(newWalletNewCmd(a), newWalletImportCmd(a), newWalletListCmd(a),
		newWalletAddressCmd(a), newWalletExportKeyCmd(a))
	return cmd
}

// networkJSON describes a wallet's network in JSON output.
type networkJSON struct {
	Name        string `json:"name,omitempty"`
	ChainID     uint32 `json:"chainId"`
	Prefix      string `json:"prefix"`
	GenesisHash string `json:"genesisHash"`
}

func netJSON(n wallet.Network, name string) networkJSON {
	return networkJSON{Name: name, ChainID: n.ChainID, Prefix: n.Prefix, GenesisHash: n.GenesisHash.String()}
}

// createdJSON is the result of wallet new and wallet import.
type createdJSON struct {
	Name     string      `json:"name"`
	File     string      `json:"file"`
	Network  networkJSON `json:"network"`
	Address  string      `json:"address"`
	Mnemonic string      `json:"mnemonic,omitempty"`
	Warning  string      `json:"warning,omitempty"`
}

// createWallet makes wallet name from mnemonic and hands out its first
// address, so that "wallet address" and "balance <wallet>" see it.
func (a *app) createWallet(name, mnemonic string) (createdJSON, error) {
	if !wallet.ValidName(name) {
		return createdJSON{}, usagef("wallet name %q: use 1 to 64 letters, digits, '-' or '_'", name)
	}
	net, netName, err := a.network()
	if err != nil {
		return createdJSON{}, err
	}
	kdf, err := a.kdf()
	if err != nil {
		return createdJSON{}, err
	}
	s, err := a.store()
	if err != nil {
		return createdJSON{}, err
	}
	if a.walletExists(name) {
		return createdJSON{}, fmt.Errorf("wallet %q already exists in %s; it is never overwritten", name, s.Dir())
	}
	pw, err := a.newPassword(name)
	if err != nil {
		return createdJSON{}, err
	}
	w, err := s.CreateFromMnemonic(name, pw, net, mnemonic, "", kdf)
	if err != nil {
		return createdJSON{}, err
	}
	defer w.Close()
	_, addr, err := w.NextAddress()
	if err != nil {
		return createdJSON{}, err
	}
	return createdJSON{Name: name, File: s.Path(name), Network: netJSON(net, netName), Address: addr.Bech32(net.Prefix)}, nil
}

func newWalletNewCmd(a *app) *cobra.Command {
	var name string
	cmd := &cobra.Command{
		Use:   "new",
		Short: "create a wallet; prints its first address and, once, its recovery words",
		Args:  exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			mnemonic, err := wallet.NewMnemonic()
			if err != nil {
				return err
			}
			res, err := a.createWallet(name, mnemonic)
			if err != nil {
				return err
			}
			res.Mnemonic, res.Warning = mnemonic, mnemonicWarning
			return a.emit(res, func(w io.Writer) {
				fmt.Fprintf(w, "Created wallet %q for network %s (chain %d) in %s\n", res.Name, res.Network.Name, res.Network.ChainID, res.File)
				fmt.Fprintf(w, "First address: %s\n\n", res.Address)
				fmt.Fprintf(w, "Recovery words (%d):\n\n", wallet.MnemonicWords)
				words := strings.Fields(mnemonic)
				for i := 0; i < len(words); i += 6 {
					var line strings.Builder
					for j := i; j < min(i+6, len(words)); j++ {
						fmt.Fprintf(&line, " %2d. %-9s", j+1, words[j])
					}
					fmt.Fprintf(w, "   %s\n", strings.TrimRight(line.String(), " "))
				}
				fmt.Fprintf(w, "\nWARNING: %s\n", mnemonicWarning)
			})
		},
	}
	cmd.Flags().StringVar(&name, "name", "default", "wallet name")
	return cmd
}

func newWalletImportCmd(a *app) *cobra.Command {
	var name, mnemonicFile string
	cmd := &cobra.Command{
		Use:   "import",
		Short: "restore a wallet from its recovery words",
		Args:  exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if name == "" {
				return usagef("wallet import needs --name")
			}
			if a.walletExists(name) {
				return fmt.Errorf("wallet %q already exists in %s; it is never overwritten", name, a.walletDir())
			}
			var words string
			var err error
			if mnemonicFile != "" {
				var data []byte
				if data, err = readSmallFile(mnemonicFile, "mnemonic file", maxSecretLine+1); err == nil && len(data) > maxSecretLine {
					err = fmt.Errorf("mnemonic file %s is larger than %d bytes", mnemonicFile, maxSecretLine)
				}
				words = string(data)
			} else {
				words, err = a.askSecret(fmt.Sprintf("Recovery words of wallet %q (%d words, one line): ", name, wallet.MnemonicWords), "recovery words")
			}
			if err != nil {
				return err
			}
			mnemonic := strings.ToLower(strings.Join(strings.Fields(words), " "))
			if err := wallet.ValidateMnemonic(mnemonic); err != nil {
				return fmt.Errorf("the recovery words are not valid: %s", strings.TrimPrefix(err.Error(), "wallet: "))
			}
			res, err := a.createWallet(name, mnemonic)
			if err != nil {
				return err
			}
			return a.emit(res, func(w io.Writer) {
				fmt.Fprintf(w, "Restored wallet %q for network %s (chain %d) in %s\n", res.Name, res.Network.Name, res.Network.ChainID, res.File)
				fmt.Fprintf(w, "First address: %s\n", res.Address)
			})
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "wallet name (required)")
	cmd.Flags().StringVar(&mnemonicFile, "mnemonic-file", "", "read the recovery words from this file instead of a prompt")
	return cmd
}

// walletListEntry is one wallet in wallet list.
type walletListEntry struct {
	Name      string       `json:"name"`
	Network   *networkJSON `json:"network,omitempty"`
	Addresses uint32       `json:"addresses"`
	Error     string       `json:"error,omitempty"`
}

func newWalletListCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "list the wallets and their networks",
		Args:  exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := a.store()
			if err != nil {
				return err
			}
			names, err := s.List()
			if err != nil {
				return err
			}
			out := struct {
				Dir     string            `json:"dir"`
				Wallets []walletListEntry `json:"wallets"`
			}{Dir: s.Dir(), Wallets: []walletListEntry{}}
			for _, n := range names {
				e := walletListEntry{Name: n}
				if info, err := s.Info(n); err != nil {
					e.Error = err.Error()
				} else {
					nj := netJSON(info.Network, "")
					e.Network, e.Addresses = &nj, info.NextIndex
				}
				out.Wallets = append(out.Wallets, e)
			}
			return a.emit(out, func(w io.Writer) {
				if len(out.Wallets) == 0 {
					fmt.Fprintf(w, "No wallets in %s\n", out.Dir)
					return
				}
				tw := table(w)
				fmt.Fprintln(tw, "NAME\tCHAIN\tPREFIX\tGENESIS\tADDRESSES")
				for _, e := range out.Wallets {
					if e.Error != "" {
						fmt.Fprintf(tw, "%s\t(unreadable: %s)\n", e.Name, e.Error)
						continue
					}
					fmt.Fprintf(tw, "%s\t%d\t%s\t%s…\t%d\n", e.Name, e.Network.ChainID, e.Network.Prefix, e.Network.GenesisHash[:12], e.Addresses)
				}
				tw.Flush()
			})
		},
	}
}

// openWallet opens wallet name (or the only one) with its password.
func (a *app) openWallet(name string) (*wallet.Wallet, error) {
	s, err := a.store()
	if err != nil {
		return nil, err
	}
	if name, err = a.pickWallet(s, name); err != nil {
		return nil, err
	}
	info, err := s.Info(name)
	if err != nil {
		return nil, err
	}
	return a.unlock(s, name, info.Network, "")
}

// unlock asks for wallet name's password and opens the wallet for net. A
// wrong password is said in words, followed by consequence (what was not
// done, e.g. "nothing was sent") when that is not empty.
func (a *app) unlock(s *wallet.Store, name string, net wallet.Network, consequence string) (*wallet.Wallet, error) {
	pw, err := a.password(name)
	if err != nil {
		return nil, err
	}
	w, err := s.Open(name, pw, net)
	if errors.Is(err, wallet.ErrWrongPassword) {
		if consequence != "" {
			return nil, fmt.Errorf("wrong password for wallet %q; %s", name, consequence)
		}
		return nil, fmt.Errorf("wrong password for wallet %q", name)
	}
	return w, err
}

// signingKey unlocks wallet name and derives the key of address index.
// The wallet is closed, its seed wiped, before signingKey returns: the
// caller holds only the one key it signs with.
func (a *app) signingKey(s *wallet.Store, name string, net wallet.Network, index uint32, consequence string) (*secp256k1.PrivateKey, error) {
	w, err := a.unlock(s, name, net, consequence)
	if err != nil {
		return nil, err
	}
	defer w.Close()
	return w.Key(index)
}

// walletAddresses lists the addresses a wallet has handed out (at least
// the first), by index.
func walletAddresses(w *wallet.Wallet) ([]indexedAddress, error) {
	n := max(w.NextIndex(), 1)
	var out []indexedAddress
	for i := uint32(0); i < n; i++ {
		addr, err := w.Address(i)
		if errors.Is(err, wallet.ErrInvalidChild) {
			continue // that index has no key; the wallet skipped it
		}
		if err != nil {
			return nil, err
		}
		out = append(out, indexedAddress{Index: i, Address: addr.Bech32(w.Network().Prefix), addr: addr})
	}
	return out, nil
}

type indexedAddress struct {
	Index   uint32 `json:"index"`
	Address string `json:"address"`
	addr    types.Address
}

func newWalletAddressCmd(a *app) *cobra.Command {
	var name string
	var fresh bool
	cmd := &cobra.Command{
		Use:   "address",
		Short: "show a wallet's addresses, or hand out a new one with --new",
		Args:  exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			w, err := a.openWallet(name)
			if err != nil {
				return err
			}
			defer w.Close()
			if fresh {
				i, addr, err := w.NextAddress()
				if err != nil {
					return err
				}
				res := struct {
					Wallet string `json:"wallet"`
					indexedAddress
				}{w.Name(), indexedAddress{Index: i, Address: addr.Bech32(w.Network().Prefix)}}
				return a.emit(res, func(out io.Writer) { fmt.Fprintln(out, res.Address) })
			}
			addrs, err := walletAddresses(w)
			if err != nil {
				return err
			}
			res := struct {
				Wallet    string           `json:"wallet"`
				Addresses []indexedAddress `json:"addresses"`
			}{w.Name(), addrs}
			return a.emit(res, func(out io.Writer) {
				for _, ia := range addrs {
					fmt.Fprintf(out, "%d\t%s\n", ia.Index, ia.Address)
				}
			})
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "wallet name (default: the only wallet)")
	cmd.Flags().BoolVar(&fresh, "new", false, "hand out and show a new address")
	return cmd
}

func newWalletExportKeyCmd(a *app) *cobra.Command {
	var name string
	var index uint32
	var yes bool
	cmd := &cobra.Command{
		Use:   "export-key",
		Short: "print the private key of one address (asks for confirmation)",
		Args:  exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := a.store()
			if err != nil {
				return err
			}
			if name, err = a.pickWallet(s, name); err != nil {
				return err
			}
			if index > wallet.MaxAddressIndex {
				return usagef("--index %d: at most %d", index, wallet.MaxAddressIndex)
			}
			if !yes {
				if err := a.confirm(fmt.Sprintf("This prints the private key of address %d of wallet %q in clear text: "+
					"anyone who sees it can spend that address's coins.", index, name)); err != nil {
					return err
				}
			}
			w, err := a.openWallet(name)
			if err != nil {
				return err
			}
			defer w.Close()
			k, err := w.Key(index)
			if err != nil {
				return err
			}
			res := struct {
				Wallet     string `json:"wallet"`
				Index      uint32 `json:"index"`
				Address    string `json:"address"`
				PrivateKey string `json:"privateKey"`
			}{name, index, wallet.AddressOf(k).Bech32(w.Network().Prefix), hex.EncodeToString(k.Serialize())}
			return a.emit(res, func(out io.Writer) {
				fmt.Fprintf(out, "address      %s\nprivate key  %s\n", res.Address, res.PrivateKey)
			})
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "wallet name (default: the only wallet)")
	cmd.Flags().Uint32Var(&index, "index", 0, "address index")
	cmd.Flags().BoolVar(&yes, "yes", false, "do not ask for confirmation")
	return cmd
}
