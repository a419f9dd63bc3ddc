package cli

import (
	"fmt"

	"github.com/spf13/cobra"
	"github.com/walrus-go/walrus/ids"
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
			ctx := cmd.Context()
			s, err := e.connect(ctx, true)
			if err != nil {
				return err
			}
			defer s.Close()
			shared, err := s.client.Share(ctx, id, amount)
			if err != nil {
				return err
			}
			if e.json {
				var amt *uint64
				if amount > 0 {
					amt = &amount
				}
				return e.printJSON(struct {
					SharedBlobObjectID ids.ObjectID `json:"sharedBlobObjectId"`
					Amount             *uint64      `json:"amount"`
				}{shared, amt})
			}
			fmt.Fprintf(e.stdout, "Success: shared blob object ID: %s (funds: %s)\n", shared, frost(amount))
			return nil
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
			ctx := cmd.Context()
			s, err := e.connect(ctx, true)
			if err != nil {
				return err
			}
			defer s.Close()
			if err := s.client.FundSharedBlob(ctx, id, amount); err != nil {
				return err
			}
			if e.json {
				return e.printJSON(map[string]uint64{"amount": amount})
			}
			fmt.Fprintf(e.stdout, "Success: added %s to shared blob %s\n", frost(amount), id)
			return nil
		},
	}
	cmd.Flags().StringVar(&obj, "shared-blob-obj-id", "", "the SharedBlob object ID")
	cmd.Flags().Uint64Var(&amount, "amount", 0, "FROST to add")
	_ = cmd.MarkFlagRequired("shared-blob-obj-id")
	_ = cmd.MarkFlagRequired("amount")
	return cmd
}
