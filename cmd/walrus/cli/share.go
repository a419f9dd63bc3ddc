package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"github.com/walrus-go/walrus/cmd/walrus/cli/cmdenv"
)

func newShareCmd(e *env) *cobra.Command {
	var (
		obj    string
		amount uint64
	)
	cmd := &cobra.Command{
		Use:   "share",
		Short: "Turn an owned blob into a shared blob that anyone can fund and extend",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseObjectID("--blob-obj-id", obj)
			if err != nil {
				return err
			}
			return cmdenv.Do(cmd, e, cmdenv.NeedsWallet, func(ctx context.Context, s *cmdenv.Session) (shareOutput, error) {
				shared, err := s.Client.Share(ctx, id, amount)
				out := shareOutput{SharedBlobObjectID: shared}
				if amount > 0 {
					out.Amount = &amount
				}
				return out, err
			}, func(w io.Writer, o shareOutput) error {
				_, err := fmt.Fprintf(w, "Success: shared blob object ID: %s (funds: %s)\n", o.SharedBlobObjectID, cmdenv.Frost(amount))
				return err
			})
		},
	}
	cmd.Flags().StringVar(&obj, "blob-obj-id", "", "the owned Blob object ID")
	cmd.Flags().Uint64Var(&amount, "amount", 0, "FROST to fund the shared blob with")
	_ = cmd.MarkFlagRequired("blob-obj-id")
	return cmd
}

func newFundSharedBlobCmd(e *env) *cobra.Command {
	var (
		obj    string
		amount uint64
	)
	cmd := &cobra.Command{
		Use:   "fund-shared-blob",
		Short: "Add WAL to a shared blob's funds",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseObjectID("--shared-blob-obj-id", obj)
			if err != nil {
				return err
			}
			return cmdenv.Do(cmd, e, cmdenv.NeedsWallet, func(ctx context.Context, s *cmdenv.Session) (amountOutput, error) {
				return amountOutput{Amount: amount}, s.Client.FundSharedBlob(ctx, id, amount)
			}, func(w io.Writer, o amountOutput) error {
				_, err := fmt.Fprintf(w, "Success: added %s to shared blob %s\n", cmdenv.Frost(o.Amount), id)
				return err
			})
		},
	}
	cmd.Flags().StringVar(&obj, "shared-blob-obj-id", "", "the SharedBlob object ID")
	cmd.Flags().Uint64Var(&amount, "amount", 0, "FROST to add")
	_ = cmd.MarkFlagRequired("shared-blob-obj-id")
	_ = cmd.MarkFlagRequired("amount")
	return cmd
}
