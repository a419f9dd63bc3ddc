package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/walrus-go/walrus/client"
	"github.com/walrus-go/walrus/cmd/walrus/cli/cmdenv"
	"github.com/walrus-go/walrus/ids"
	"github.com/walrus-go/walrus/wallet"
)

func newGenerateWalletCmd(e *env) *cobra.Command {
	var path string
	cmd := &cobra.Command{
		Use:     "generate-wallet",
		Aliases: []string{"generate-sui-wallet"},
		Short:   "Create a new wallet (a Sui keystore with one ed25519 key)",
		Long: `Creates a wallet file (default ~/.walrus/wallet.json) holding a new ed25519 key in the Sui
keystore format, and prints its address. An existing file is never overwritten. On a devnet,
fund it with: walrus get-wal --wallet FILE.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if path == "" {
				home, err := os.UserHomeDir()
				if err != nil {
					return err
				}
				path = filepath.Join(home, ".walrus", "wallet.json")
			}
			k, err := wallet.Create(path)
			if err != nil {
				return err
			}
			addr := wallet.Address(k)
			if e.JSON {
				return e.PrintJSON(walletOutput{WalletAddress: addr, Path: path})
			}
			fmt.Fprintf(e.Stdout, "Wallet created at %s\nAddress: %s\n", path, addr)
			return nil
		},
	}
	cmd.Flags().StringVar(&path, "path", "", "where to write the wallet (default ~/.walrus/wallet.json)")
	return cmd
}

func newGetWalCmd(e *env) *cobra.Command {
	var (
		amount uint64
		to     string
	)
	cmd := &cobra.Command{
		Use:   "get-wal",
		Short: "Get WAL from the devnet's faucet",
		Long: `Mints --amount FROST (default 10 WAL) to the wallet (or to --to ADDRESS) from the chain's faucet
account, whose key is the configuration's faucet_wallet (the devnet writes it). Walrus Testnet's
get-wal exchanges SUI for WAL; here the devnet's faucet mints it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, _, err := e.LoadConfig()
			if err != nil {
				return err
			}
			if cfg.FaucetWallet == "" {
				return errors.New("the configuration names no faucet_wallet: get-wal works on a devnet")
			}
			var dest ids.Address
			if to != "" {
				if dest, err = ids.ParseAddress(to); err != nil {
					return fmt.Errorf("invalid --to address %q", to)
				}
			} else {
				wp := e.WalletPath(cfg)
				if wp == "" {
					return errors.New("no wallet: pass --wallet FILE or --to ADDRESS")
				}
				k, err := wallet.Load(wp)
				if err != nil {
					return err
				}
				dest = wallet.Address(k)
			}
			fk, err := wallet.Load(cfg.FaucetWallet)
			if err != nil {
				return fmt.Errorf("faucet wallet: %w", err)
			}
			ctx := cmd.Context()
			base, err := client.Open(ctx, cfg, client.OpenOptions{ReadOnly: true})
			if err != nil {
				return err
			}
			defer base.Close()
			c, err := base.WithKey(ctx, fk, cfg.CommunicationConfig)
			if err != nil {
				return err
			}
			defer c.Close()
			if err := c.Mint(ctx, dest, amount); err != nil {
				return err
			}
			if e.JSON {
				return e.PrintJSON(faucetOutput{Address: dest, AmountFrost: amount})
			}
			fmt.Fprintf(e.Stdout, "Sent %s to %s\n", cmdenv.Frost(amount), dest)
			return nil
		},
	}
	cmd.Flags().Uint64Var(&amount, "amount", 10*client.FrostPerWAL, "FROST to get")
	cmd.Flags().StringVar(&to, "to", "", "address to fund (default: the wallet's)")
	return cmd
}

func newBalanceCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "balance",
		Short: "Show the wallet's address and WAL balance",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return cmdenv.Do(cmd, e, cmdenv.NeedsWallet, func(ctx context.Context, s *cmdenv.Session) (balanceOutput, error) {
				bal, err := s.Client.Balance(ctx)
				return balanceOutput{Address: s.Client.Address(), BalanceFrost: bal}, err
			}, func(w io.Writer, o balanceOutput) error {
				_, err := fmt.Fprintf(w, "Address: %s\nBalance: %s\n", o.Address, cmdenv.Frost(o.BalanceFrost))
				return err
			})
		},
	}
}
