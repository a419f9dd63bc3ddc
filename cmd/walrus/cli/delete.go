package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/client"
	"github.com/walrus-go/walrus/cmd/walrus/cli/cmdenv"
	"github.com/walrus-go/walrus/ids"
)

// blobIdentity is Walrus's BlobIdentity.
type blobIdentity struct {
	BlobID   *blob.ID      `json:"blobId"`
	File     *string       `json:"file"`
	ObjectID *ids.ObjectID `json:"objectId"`
}

// deleteOutput is Walrus's DeleteOutput.
type deleteOutput struct {
	BlobIdentity       blobIdentity        `json:"blobIdentity"`
	DeletedBlobs       []client.BlobObject `json:"deletedBlobs"`
	PostDeletionStatus *client.BlobStatus  `json:"postDeletionStatus,omitempty"`
	NoBlobFound        bool                `json:"noBlobFound"`
	Error              *string             `json:"error,omitempty"`
	Aborted            bool                `json:"aborted"`
}

func newDeleteCmd(e *env) *cobra.Command {
	var (
		idList, files, objs []string
		yes, noStatus       bool
	)
	cmd := &cobra.Command{
		Use:   "delete",
		Short: "Delete deletable blobs owned by the wallet",
		Long: `Deletes the wallet's deletable Blob objects of the given blob IDs (all of them), of the given
files' blob IDs, or with the given object IDs. Each deletion returns its storage resource to the
wallet, which later stores reuse. The data disappears once no other Blob object keeps the blob
ID alive. Without --yes, asks for confirmation on a terminal.

An identifier that names no Blob object of this wallet (a blob ID or file the wallet stores no
deletable Blob of, an object ID that does not exist or belongs to another wallet) is reported
as "No owned deletable blob found" (noBlobFound in --json) and is not an error: by blob ID and
by object ID alike, as Walrus reports it. An error result, and exit code 1, is for what the
wallet does own but cannot delete (an object ID of its own permanent Blob, or of an object that
is not a Blob) and for transactions that fail.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(idList)+len(files)+len(objs) == 0 {
				return errors.New("give --blob-ids, --files or --object-ids")
			}
			ctx := cmd.Context()
			s, err := e.Connect(ctx, true)
			if err != nil {
				return err
			}
			defer s.Close()
			targets, err := deleteTargets(s.Client, files, idList, objs)
			if err != nil {
				return err
			}
			if !yes && !e.JSON && cmdenv.IsTerminal(e.Stdin) && !e.Confirm(fmt.Sprintf("Delete the blobs of %s? [y/N] ", cmdenv.Count(len(targets), "identifier", "identifiers"))) {
				e.Say("Aborted.")
				return nil
			}
			var outs []deleteOutput
			failed := 0
			for _, t := range targets {
				o := deleteOne(ctx, s.Client, t, !noStatus)
				if o.Error != nil {
					failed++
				}
				outs = append(outs, o)
			}
			if e.JSON {
				if err := e.PrintJSON(outs); err != nil {
					return err
				}
			} else {
				for _, o := range outs {
					printDelete(e, o)
				}
			}
			if failed > 0 {
				return fmt.Errorf("%d of %d deletions failed", failed, len(outs))
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringSliceVar(&idList, "blob-ids", nil, "blob IDs to delete (every owned deletable object of each)")
	fl.StringSliceVar(&files, "files", nil, "files whose blob IDs to delete")
	fl.StringSliceVar(&objs, "object-ids", nil, "Blob object IDs to delete")
	// Walrus's singular aliases.
	fl.StringSliceVar(&idList, "blob-id", nil, "alias of --blob-ids")
	fl.StringSliceVar(&files, "file", nil, "alias of --files")
	fl.StringSliceVar(&objs, "object-id", nil, "alias of --object-ids")
	for _, a := range []string{"blob-id", "file", "object-id"} {
		_ = fl.MarkHidden(a)
	}
	fl.BoolVar(&yes, "yes", false, "do not ask for confirmation")
	fl.BoolVar(&noStatus, "no-status-check", false, "do not check the blob's status after deleting")
	return cmd
}

// deleteTargets are the blob identities of --files, --blob-ids and
// --object-ids, in that order.
func deleteTargets(c *client.Client, files, blobIDs, objs []string) ([]blobIdentity, error) {
	var targets []blobIdentity
	for _, f := range files {
		md, err := c.ComputeFileMetadata(f, 0)
		if err != nil {
			return nil, err
		}
		targets = append(targets, blobIdentity{BlobID: &md.ID, File: &f})
	}
	for _, v := range blobIDs {
		id, err := parseBlobID(v)
		if err != nil {
			return nil, err
		}
		targets = append(targets, blobIdentity{BlobID: &id})
	}
	for _, v := range objs {
		id, err := ids.ParseObjectID(v)
		if err != nil {
			return nil, fmt.Errorf("invalid object ID %q", v)
		}
		targets = append(targets, blobIdentity{ObjectID: &id})
	}
	return targets, nil
}

// deleteOne deletes the owned deletable Blob objects of one identity and,
// with status, asks for the blob's status afterwards.
func deleteOne(ctx context.Context, c *client.Client, t blobIdentity, status bool) deleteOutput {
	o := deleteOutput{BlobIdentity: t, DeletedBlobs: []client.BlobObject{}}
	var deleted []client.BlobObject
	var err error
	if t.ObjectID != nil {
		var b client.BlobObject
		if b, err = c.DeleteBlob(ctx, *t.ObjectID); err == nil {
			deleted = []client.BlobObject{b}
		}
	} else {
		deleted, err = c.DeleteBlobID(ctx, *t.BlobID)
	}
	switch {
	case errors.Is(err, client.ErrBlobNotFound) || errors.Is(err, client.ErrObjectNotFound) || errors.Is(err, client.ErrNotOwner):
		// Nothing of the wallet's is named: by blob ID, another wallet's
		// Blob objects are not even seen; by object ID, the same.
		o.NoBlobFound = true
	case err != nil:
		msg := err.Error()
		o.Error = &msg
	}
	o.DeletedBlobs = append(o.DeletedBlobs, deleted...)
	if err == nil && status && len(deleted) > 0 {
		if st, err := c.BlobStatus(ctx, deleted[0].BlobID); err == nil {
			o.PostDeletionStatus = &st
		}
	}
	return o
}

func printDelete(e *env, o deleteOutput) {
	what := ""
	switch {
	case o.BlobIdentity.File != nil:
		what = "file " + *o.BlobIdentity.File
	case o.BlobIdentity.BlobID != nil:
		what = "blob ID " + o.BlobIdentity.BlobID.String()
	default:
		what = "object " + o.BlobIdentity.ObjectID.String()
	}
	switch {
	case o.Error != nil:
		fmt.Fprintf(e.Stdout, "Error deleting %s: %s\n", what, *o.Error)
	case o.NoBlobFound:
		fmt.Fprintf(e.Stdout, "No owned deletable blob found for %s.\n", what)
	default:
		fmt.Fprintf(e.Stdout, "Deleted %s of %s:\n", cmdenv.Count(len(o.DeletedBlobs), "blob object", "blob objects"), what)
		for _, b := range o.DeletedBlobs {
			fmt.Fprintf(e.Stdout, "  %s (blob ID %s)\n", b.ID, b.BlobID)
		}
		if o.PostDeletionStatus != nil {
			fmt.Fprintf(e.Stdout, "  after deletion: %s\n", describeStatus(*o.PostDeletionStatus, nil))
		}
	}
}
