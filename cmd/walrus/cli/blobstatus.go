package cli

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/client"
	"github.com/walrus-go/walrus/cmd/walrus/cli/cmdenv"
)

// blobStatusOutput is Walrus's BlobStatusOutput.
type blobStatusOutput struct {
	BlobID blob.ID           `json:"blobId"`
	File   string            `json:"file,omitempty"`
	Status client.BlobStatus `json:"status"`
	// EstimatedExpiryTimestamp: for a permanent blob, when its end epoch starts.
	EstimatedExpiryTimestamp *time.Time `json:"estimatedExpiryTimestamp,omitempty"`
}

func newBlobStatusCmd(e *env) *cobra.Command {
	var (
		idFlag, file string
		timeout      time.Duration
	)
	cmd := &cobra.Command{
		Use:   "blob-status",
		Short: "Show a blob's status as the storage nodes report it",
		Long: `Asks the storage nodes for the status of a blob ID (or of a file's blob ID) and prints the
latest status in the blob's life cycle that nodes holding more than a third of the shards vouch
for: nonexistent, deletable (with counts), permanent (end epoch, certified or not) or invalid.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if (idFlag == "") == (file == "") {
				return errors.New("give exactly one of --blob-id and --file")
			}
			ctx := cmd.Context()
			e.StatusTimeout = timeout
			s, err := e.Connect(ctx, false)
			if err != nil {
				return err
			}
			defer s.Close()
			var id blob.ID
			if file != "" {
				md, err := s.Client.ComputeFileMetadata(file, 0)
				if err != nil {
					return err
				}
				id = md.ID
			} else if id, err = parseBlobID(idFlag); err != nil {
				return err
			}
			st, err := s.Client.BlobStatus(ctx, id)
			if err != nil {
				return err
			}
			out := blobStatusOutput{BlobID: id, File: file, Status: st}
			if st.Kind == client.BlobStatusPermanent {
				if clk, err := s.Client.EpochClock(ctx); err == nil && st.EndEpoch >= clk.Epoch {
					t := clk.StartOf(st.EndEpoch)
					out.EstimatedExpiryTimestamp = &t
				}
			}
			if e.JSON {
				return e.PrintJSON(out)
			}
			fmt.Fprintf(e.Stdout, "Blob ID: %s\n", id)
			if file != "" {
				fmt.Fprintf(e.Stdout, "File: %s\n", file)
			}
			fmt.Fprintln(e.Stdout, describeStatus(st, out.EstimatedExpiryTimestamp))
			return nil
		},
	}
	cmd.Flags().StringVar(&idFlag, "blob-id", "", "the blob ID")
	cmd.Flags().StringVar(&file, "file", "", "a file whose blob ID to check")
	cmd.Flags().DurationVar(&timeout, "timeout", time.Second, "timeout of each node's answer")
	return cmd
}

func describeStatus(st client.BlobStatus, expiry *time.Time) string {
	switch st.Kind {
	case client.BlobStatusInvalid:
		return "Status: invalid (the blob was marked invalid)"
	case client.BlobStatusPermanent:
		state := "registered (not certified)"
		if st.IsCertified {
			state = "certified"
		}
		s := fmt.Sprintf("Status: permanent, %s, until epoch %d (exclusive)", state, st.EndEpoch)
		if expiry != nil {
			s += fmt.Sprintf("; estimated expiry %s", expiry.Format(time.RFC3339))
		}
		if st.DeletableCounts.Total > 0 {
			s += fmt.Sprintf("; also %d deletable (%d certified)", st.DeletableCounts.Total, st.DeletableCounts.Certified)
		}
		return s
	case client.BlobStatusDeletable:
		return fmt.Sprintf("Status: deletable, %s (%d certified)", cmdenv.Count(st.DeletableCounts.Total, "blob object", "blob objects"), st.DeletableCounts.Certified)
	}
	return "Status: nonexistent (no node knows this blob ID)"
}
