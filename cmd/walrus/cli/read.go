package cli

import (
	"bytes"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/client"
	"github.com/walrus-go/walrus/redstuff"
)

// readOutput is Walrus's ReadOutput: the blob in base64 when not written to a file.
type readOutput struct {
	Out    string  `json:"out,omitempty"`
	BlobID blob.ID `json:"blobId"`
	Blob   []byte  `json:"blob,omitempty"`
}

func newReadCmd(e *env) *cobra.Command {
	var (
		out          string
		strict, skip bool
	)
	cmd := &cobra.Command{
		Use:   "read BLOB_ID",
		Short: "Read a blob",
		Long: `Reads a blob and writes it to --out, or to stdout. The bytes are written only after they
were decoded from verified slivers and passed the consistency check (default: the systematic
slivers are re-derived; --strict-consistency-check re-encodes the whole blob;
--skip-consistency-check trusts the verified slivers).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseBlobID(args[0])
			if err != nil {
				return err
			}
			if strict && skip {
				return errors.New("--strict-consistency-check and --skip-consistency-check are exclusive")
			}
			opts := client.ReadOptions{Consistency: redstuff.ConsistencyDefault}
			if strict {
				opts.Consistency = redstuff.ConsistencyStrict
			} else if skip {
				opts.Consistency = redstuff.ConsistencySkip
			}
			ctx := cmd.Context()
			s, err := e.connect(ctx, false)
			if err != nil {
				return err
			}
			defer s.Close()
			bar := e.newProgress("read " + id.String())
			opts.Progress = bar.callback()
			var buf bytes.Buffer
			_, err = s.client.ReadTo(ctx, id, &buf, opts)
			bar.done()
			if err != nil {
				return err
			}
			if out != "" {
				if err := writeFileAtomic(out, buf.Bytes()); err != nil {
					return err
				}
				if e.json {
					return e.printJSON(readOutput{Out: out, BlobID: id})
				}
				e.say("Blob %s (%s) written to %s", id, humanBytes(int64(buf.Len())), out)
				return nil
			}
			if e.json {
				return e.printJSON(readOutput{BlobID: id, Blob: buf.Bytes()})
			}
			_, err = e.stdout.Write(buf.Bytes())
			return err
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "file to write the blob to (default: stdout)")
	cmd.Flags().BoolVar(&strict, "strict-consistency-check", false, "re-encode the whole blob and compare its blob ID")
	cmd.Flags().BoolVar(&skip, "skip-consistency-check", false, "skip the consistency check after decoding")
	return cmd
}

// parseBlobID parses a blob ID argument with a clear error.
func parseBlobID(s string) (blob.ID, error) {
	id, err := blob.ParseID(s)
	if err != nil {
		return id, fmt.Errorf("invalid blob ID %q: want 43 characters of URL-safe base64", s)
	}
	return id, nil
}

// writeFileAtomic writes data to a temporary file beside path and renames it.
func writeFileAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}
