package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/walrus-go/walrus/client"
	"github.com/walrus-go/walrus/cmd/walrus-node/cli"
	"github.com/walrus-go/walrus/cmd/walrus/cli/cmdenv"
	"github.com/walrus-go/walrus/ids"
)

func newNodeAdminCmd(e *env) *cobra.Command {
	var node string
	cmd := &cobra.Command{
		Use:   "node-admin",
		Short: "Storage-node operator commands (the wallet must be the node's operator account)",
	}
	cmd.PersistentFlags().StringVar(&node, "node-id", "", "the storage node's ID")
	_ = cmd.MarkPersistentFlagRequired("node-id")
	nodeID := func() (ids.ObjectID, error) { return parseObjectID("--node-id", node) }

	var v client.VoteParams
	vote := &cobra.Command{
		Use:   "vote",
		Short: "Vote for the storage price, write price and node capacity (unset: keep the current vote)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := nodeID()
			if err != nil {
				return err
			}
			return operator(e, cmd, "vote", func(c *client.Client) error { return c.Vote(cmd.Context(), id, v) }, voteOutput{NodeID: id, Votes: v})
		},
	}
	vote.Flags().Uint64Var(&v.StoragePrice, "storage-price", 0, "FROST per storage unit (1 MiB encoded) per epoch")
	vote.Flags().Uint64Var(&v.WritePrice, "write-price", 0, "FROST per storage unit written")
	vote.Flags().Uint64Var(&v.NodeCapacity, "node-capacity", 0, "the node's capacity in bytes")

	var rate uint16
	setCommission := &cobra.Command{
		Use:   "set-commission",
		Short: "Set the commission rate (basis points, 10000 = 100%; applies two epochs later)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := nodeID()
			if err != nil {
				return err
			}
			return operator(e, cmd, "set-commission", func(c *client.Client) error { return c.SetCommissionRate(cmd.Context(), id, rate) },
				commissionRateOutput{NodeID: id, CommissionRate: rate})
		},
	}
	setCommission.Flags().Uint16Var(&rate, "commission-rate", 0, "commission in basis points")
	_ = setCommission.MarkFlagRequired("commission-rate")

	collect := &cobra.Command{
		Use:   "collect-commission",
		Short: "Collect the node's commission to the operator's account",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := nodeID()
			if err != nil {
				return err
			}
			var amount uint64
			out := &collectCommissionOutput{NodeID: id}
			err = operator(e, cmd, "", func(c *client.Client) error {
				var err error
				amount, err = c.CollectCommission(cmd.Context(), id)
				out.Amount = amount
				return err
			}, out)
			if err == nil && !e.JSON {
				fmt.Fprintf(e.Stdout, "Collected %s of commission\n", cmdenv.Frost(amount))
			}
			return err
		},
	}
	cmd.AddCommand(vote, setCommission, collect)
	return cmd
}

// operator runs an operator transaction and prints its JSON or a line.
func operator(e *env, cmd *cobra.Command, name string, run func(*client.Client) error, out any) error {
	return cmdenv.Do(cmd, e, cmdenv.NeedsWallet, func(ctx context.Context, s *cmdenv.Session) (any, error) {
		return out, run(s.Client)
	}, func(w io.Writer, _ any) error {
		if name != "" {
			fmt.Fprintf(w, "Success: %s done\n", name)
		}
		return nil
	})
}

// newNodeCmd runs a storage node, as walrus-node does (hidden: the devnet
// re-executes its own binary with it for --processes).
func newNodeCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:                "node",
		Short:              "Run walrus-node's commands (setup, register, run)",
		Hidden:             true,
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			if code := cli.RunContext(cmd.Context(), args, e.Stdout, e.Stderr); code != 0 {
				return fmt.Errorf("walrus-node exited with code %d", code)
			}
			return nil
		},
	}
}
