package cli

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"github.com/walrus-go/walrus/cmd/walrus/cli/cmdenv"
	"github.com/walrus-go/walrus/ids"
)

// parseObjectID parses an object ID argument with a clear error.
func parseObjectID(what, s string) (ids.ObjectID, error) {
	id, err := ids.ParseObjectID(s)
	if err != nil {
		return id, fmt.Errorf("invalid %s %q: want 0x and 64 hex digits", what, s)
	}
	return id, nil
}

func newExtendCmd(e *env) *cobra.Command {
	var (
		obj    string
		epochs uint32
		shared bool
	)
	cmd := &cobra.Command{
		Use:   "extend",
		Short: "Extend the lifetime of a certified blob",
		Long: `Adds --epochs-extended epochs to a certified blob: an owned Blob, paid by the wallet, or with
--shared a SharedBlob, paid from its funds.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseObjectID("--blob-obj-id", obj)
			if err != nil {
				return err
			}
			if epochs == 0 {
				return errors.New("--epochs-extended must be at least 1")
			}
			var end uint32
			return cmdenv.Do(cmd, e, cmdenv.NeedsWallet, func(ctx context.Context, s *cmdenv.Session) (extendOutput, error) {
				var err error
				end, err = s.Client.Extend(ctx, id, epochs, shared)
				return extendOutput{EpochsExtended: epochs}, err
			}, func(w io.Writer, o extendOutput) error {
				_, err := fmt.Fprintf(w, "Success: blob %s extended by %s; expiry epoch (exclusive): %d\n", id, cmdenv.Count(o.EpochsExtended, "epoch", "epochs"), end)
				return err
			})
		},
	}
	cmd.Flags().StringVar(&obj, "blob-obj-id", "", "the Blob (or with --shared, SharedBlob) object ID")
	cmd.Flags().Uint32Var(&epochs, "epochs-extended", 0, "number of epochs to add")
	cmd.Flags().BoolVar(&shared, "shared", false, "the object is a shared blob, paid from its funds")
	_ = cmd.MarkFlagRequired("blob-obj-id")
	_ = cmd.MarkFlagRequired("epochs-extended")
	return cmd
}
