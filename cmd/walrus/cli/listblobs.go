package cli

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/walrus-go/walrus/client"
)

func newListBlobsCmd(e *env) *cobra.Command {
	var expired bool
	cmd := &cobra.Command{
		Use:   "list-blobs",
		Short: "List the wallet's Blob objects",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			s, err := e.connect(ctx, true)
			if err != nil {
				return err
			}
			defer s.Close()
			out, err := s.client.ListBlobs(ctx, expired)
			if err != nil {
				return err
			}
			if out == nil {
				out = []client.BlobObject{}
			}
			if e.json {
				return e.printJSON(out)
			}
			if len(out) == 0 {
				e.say("The wallet owns no blobs.")
				return nil
			}
			tw := tabwriter.NewWriter(e.stdout, 2, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "Blob ID\tUnencoded size\tCertified?\tDeletable?\tExpiry epoch\tObject ID")
			for _, b := range out {
				fmt.Fprintf(tw, "%s\t%s\t%v\t%v\t%d\t%s\n", b.BlobID, humanBytes(int64(b.Size)), b.CertifiedEpoch != nil, b.Deletable, b.Storage.EndEpoch, b.ID)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&expired, "include-expired", false, "also list expired blobs")
	return cmd
}
