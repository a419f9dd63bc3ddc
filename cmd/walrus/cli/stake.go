package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/walrus-go/walrus/client"
	"github.com/walrus-go/walrus/cmd/walrus/cli/cmdenv"
	"github.com/walrus-go/walrus/ids"
)

func newStakeCmd(e *env) *cobra.Command {
	var (
		nodeIDs     []string
		amountFlags []uint
	)
	cmd := &cobra.Command{
		Use:   "stake",
		Short: "Stake WAL with storage nodes",
		Long: `Stakes --amounts FROST (default 1 WAL) with each of --node-ids, in one transaction: one amount
for all nodes, or one per node. Stake becomes active at the next epoch (or the one after, once
the next committee has been selected).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var nodes []ids.ObjectID
			for _, v := range nodeIDs {
				id, err := parseObjectID("node ID", v)
				if err != nil {
					return err
				}
				nodes = append(nodes, id)
			}
			if len(nodes) == 0 {
				return errors.New("give --node-ids")
			}
			amounts := make([]uint64, len(amountFlags))
			for i, a := range amountFlags {
				amounts[i] = uint64(a)
			}
			if len(amounts) == 1 {
				for len(amounts) < len(nodes) {
					amounts = append(amounts, amounts[0])
				}
			}
			if len(amounts) != len(nodes) {
				return fmt.Errorf("give one amount, or one per node (%d nodes, %d amounts)", len(nodes), len(amounts))
			}
			return cmdenv.Do(cmd, e, cmdenv.NeedsWallet, func(ctx context.Context, s *cmdenv.Session) (stakedWalOutput, error) {
				staked, err := s.Client.Stake(ctx, nodes, amounts)
				return stakedWalOutput{StakedWal: staked}, err
			}, func(w io.Writer, o stakedWalOutput) error {
				for _, sw := range o.StakedWal {
					fmt.Fprintf(w, "Staked %s with node %s: StakedWal %s, active from epoch %d\n", cmdenv.Frost(sw.Principal), sw.NodeID, sw.ID, sw.ActivationEpoch)
				}
				return nil
			})
		},
	}
	cmd.Flags().StringSliceVar(&nodeIDs, "node-ids", nil, "storage node IDs")
	cmd.Flags().StringSliceVar(&nodeIDs, "node-id", nil, "alias of --node-ids")
	_ = cmd.Flags().MarkHidden("node-id")
	cmd.Flags().UintSliceVar(&amountFlags, "amounts", []uint{client.FrostPerWAL}, "FROST to stake: one amount, or one per node")
	return cmd
}

func newRequestWithdrawStakeCmd(e *env) *cobra.Command {
	var obj string
	cmd := &cobra.Command{
		Use:   "request-withdraw-stake",
		Short: "Start withdrawing a StakedWal",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseObjectID("--staked-wal-id", obj)
			if err != nil {
				return err
			}
			return cmdenv.Do(cmd, e, cmdenv.NeedsWallet, func(ctx context.Context, s *cmdenv.Session) (client.StakedWal, error) {
				return s.Client.RequestWithdrawStake(ctx, id)
			}, func(w io.Writer, sw client.StakedWal) error {
				_, err := fmt.Fprintf(w, "Withdrawal requested: StakedWal %s can be withdrawn from epoch %d\n", sw.ID, sw.State.WithdrawEpoch)
				return err
			})
		},
	}
	cmd.Flags().StringVar(&obj, "staked-wal-id", "", "the StakedWal object ID")
	_ = cmd.MarkFlagRequired("staked-wal-id")
	return cmd
}

func newWithdrawStakeCmd(e *env) *cobra.Command {
	var obj string
	cmd := &cobra.Command{
		Use:   "withdraw-stake",
		Short: "Withdraw a StakedWal whose withdrawal epoch has come (or that is not active yet)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseObjectID("--staked-wal-id", obj)
			if err != nil {
				return err
			}
			return cmdenv.Do(cmd, e, cmdenv.NeedsWallet, func(ctx context.Context, s *cmdenv.Session) (withdrawOutput, error) {
				amount, err := s.Client.WithdrawStake(ctx, id)
				return withdrawOutput{StakedWalID: id, Amount: amount}, err
			}, func(w io.Writer, o withdrawOutput) error {
				_, err := fmt.Fprintf(w, "Withdrew %s from StakedWal %s\n", cmdenv.Frost(o.Amount), o.StakedWalID)
				return err
			})
		},
	}
	cmd.Flags().StringVar(&obj, "staked-wal-id", "", "the StakedWal object ID")
	_ = cmd.MarkFlagRequired("staked-wal-id")
	return cmd
}

func newListStakedWalCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "list-staked-wal",
		Short: "List the wallet's StakedWal objects",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return cmdenv.Do(cmd, e, cmdenv.NeedsWallet, func(ctx context.Context, s *cmdenv.Session) (stakedWalOutput, error) {
				staked, err := s.Client.ListStakedWal(ctx)
				return stakedWalOutput{StakedWal: staked}, err
			}, func(w io.Writer, o stakedWalOutput) error {
				if len(o.StakedWal) == 0 {
					e.Say("The wallet has no staked WAL.")
					return nil
				}
				return printStakedWal(w, o.StakedWal)
			})
		},
	}
}

// printStakedWal writes list-staked-wal's table.
func printStakedWal(w io.Writer, staked []client.StakedWal) error {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "StakedWal ID\tNode ID\tPrincipal\tActivation epoch\tState")
	for _, sw := range staked {
		state := "Staked"
		if sw.State.Withdrawing {
			state = fmt.Sprintf("Withdrawing (from epoch %d)", sw.State.WithdrawEpoch)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\n", sw.ID, sw.NodeID, cmdenv.Frost(sw.Principal), sw.ActivationEpoch, state)
	}
	return tw.Flush()
}
