package cli

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/walrus-go/walrus/client"
	"github.com/walrus-go/walrus/cmd/walrus/cli/cmdenv"
)

func newListBlobsCmd(e *env) *cobra.Command {
	var expired bool
	cmd := &cobra.Command{
		Use:   "list-blobs",
		Short: "List the wallet's Blob objects",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return cmdenv.Do(cmd, e, cmdenv.NeedsWallet, func(ctx context.Context, s *cmdenv.Session) ([]client.BlobObject, error) {
				out, err := s.Client.ListBlobs(ctx, expired)
				if out == nil {
					out = []client.BlobObject{}
				}
				return out, err
			}, func(w io.Writer, out []client.BlobObject) error {
				if len(out) == 0 {
					e.Say("The wallet owns no blobs.")
					return nil
				}
				return printBlobs(w, out)
			})
		},
	}
	cmd.Flags().BoolVar(&expired, "include-expired", false, "also list expired blobs")
	return cmd
}

// printBlobs writes list-blobs' table.
func printBlobs(w io.Writer, out []client.BlobObject) error {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "Blob ID\tUnencoded size\tCertified?\tDeletable?\tExpiry epoch\tObject ID")
	for _, b := range out {
		fmt.Fprintf(tw, "%s\t%s\t%v\t%v\t%d\t%s\n", b.BlobID, cmdenv.HumanBytes(int64(b.Size)), b.Certified(), b.Deletable, b.EndEpoch(), b.ID)
	}
	return tw.Flush()
}
