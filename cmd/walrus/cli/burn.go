package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"
	"github.com/walrus-go/walrus/cmd/walrus/cli/cmdenv"
	"github.com/walrus-go/walrus/ids"
)

func newBurnBlobsCmd(e *env) *cobra.Command {
	var (
		objs                 []string
		all, allExpired, yes bool
	)
	cmd := &cobra.Command{
		Use:   "burn-blobs",
		Short: "Destroy owned Blob objects without deleting their data",
		Long: `Destroys the given owned Blob objects (or all, or all expired ones). The stored data is not
deleted and no storage is refunded; the blobs can no longer be extended or deleted.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			n := 0
			for _, b := range []bool{len(objs) > 0, all, allExpired} {
				if b {
					n++
				}
			}
			if n != 1 {
				return errors.New("give exactly one of --object-ids, --all and --all-expired")
			}
			ctx := cmd.Context()
			s, err := e.Connect(ctx, true)
			if err != nil {
				return err
			}
			defer s.Close()
			var idList []ids.ObjectID
			for _, v := range objs {
				id, err := parseObjectID("object ID", v)
				if err != nil {
					return err
				}
				idList = append(idList, id)
			}
			if all || allExpired {
				clk, err := s.Client.EpochClock(ctx)
				if err != nil {
					return err
				}
				blobs, err := s.Client.ListBlobs(ctx, true)
				if err != nil {
					return err
				}
				for _, b := range blobs {
					if all || b.EndEpoch() <= clk.Epoch {
						idList = append(idList, b.ID)
					}
				}
			}
			if len(idList) > 0 && !yes && !e.JSON && cmdenv.IsTerminal(e.Stdin) && !e.Confirm(fmt.Sprintf("Burn %s? Their data stays, but they can no longer be extended or deleted. [y/N] ", cmdenv.Count(len(idList), "blob object", "blob objects"))) {
				e.Say("Aborted.")
				return nil
			}
			if err := s.Client.BurnBlobs(ctx, idList); err != nil {
				return err
			}
			if e.JSON {
				if idList == nil {
					idList = []ids.ObjectID{}
				}
				return e.PrintJSON(burnOutput{BurnedObjectIDs: idList})
			}
			fmt.Fprintf(e.Stdout, "Burned %s.\n", cmdenv.Count(len(idList), "blob object", "blob objects"))
			return nil
		},
	}
	cmd.Flags().StringSliceVar(&objs, "object-ids", nil, "Blob object IDs to burn")
	cmd.Flags().BoolVar(&all, "all", false, "burn every owned Blob object")
	cmd.Flags().BoolVar(&allExpired, "all-expired", false, "burn every owned expired Blob object")
	cmd.Flags().BoolVar(&yes, "yes", false, "do not ask for confirmation")
	return cmd
}
