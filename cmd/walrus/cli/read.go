package cli

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/client"
	"github.com/walrus-go/walrus/cmd/walrus/cli/cmdenv"
)

// readOutput is Walrus's ReadOutput: the blob in base64 when not written to a file.
type readOutput struct {
	Out    string  `json:"out,omitempty"`
	BlobID blob.ID `json:"blobId"`
	Blob   []byte  `json:"blob,omitempty"`
}

// readJSON streams Walrus's ReadOutput with the blob in base64 to stdout.
func readJSON(ctx context.Context, e *env, c *client.Client, id blob.ID, opts client.ReadOptions) error {
	idJSON, _ := json.Marshal(id)
	if _, err := fmt.Fprintf(e.Stdout, "{\n  \"blobId\": %s,\n  \"blob\": \"", idJSON); err != nil {
		return err
	}
	enc := base64.NewEncoder(base64.StdEncoding, e.Stdout)
	if _, err := c.ReadTo(ctx, id, enc, opts); err != nil {
		return err
	}
	if err := enc.Close(); err != nil {
		return err
	}
	_, err := fmt.Fprint(e.Stdout, "\"\n}\n")
	return err
}

func newReadCmd(e *env) *cobra.Command {
	var (
		out          string
		strict, skip bool
		budget       string
	)
	cmd := &cobra.Command{
		Use:   "read BLOB_ID",
		Short: "Read a blob",
		Long: `Reads a blob and writes it to --out, or to stdout, as it arrives: memory stays within
--memory-budget whatever the blob's size. Every byte written comes from a verified systematic
sliver, or from rows rebuilt from k_p verified slivers and checked against the metadata (the
default consistency check; --skip-consistency-check trusts the verified slivers). With
--strict-consistency-check the whole blob is re-encoded and its blob ID compared before anything
is written (it is spooled to a temporary file first).

--out PATH is written like cp and curl -o write, and never replaced: a new file is written to a
temporary file beside it and appears only once the read succeeded; an existing file is
truncated and written in place (its inode, mode and hard links stay; a read-only one is
refused), so a read that fails midway may leave it partially written; a symbolic link is
written through to its target; a device or FIFO (/dev/null, a named pipe) is written to as
it is; a directory is refused.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseBlobID(args[0])
			if err != nil {
				return err
			}
			if strict && skip {
				return errors.New("--strict-consistency-check and --skip-consistency-check are exclusive")
			}
			mem, err := parseBudget(budget)
			if err != nil {
				return err
			}
			opts := client.ReadOptions{Consistency: client.ConsistencyDefault, MemoryBudget: mem}
			if strict {
				opts.Consistency = client.ConsistencyStrict
			} else if skip {
				opts.Consistency = client.ConsistencySkip
			}
			ctx := cmd.Context()
			s, err := e.Connect(ctx, false)
			if err != nil {
				return err
			}
			defer s.Close()
			bar := e.NewProgress("read " + id.String())
			opts.Progress = bar.Callback()
			defer bar.Done()
			switch {
			case out != "":
				n, err := readToFile(ctx, s.Client, id, out, opts)
				bar.Done()
				if err != nil {
					return err
				}
				if e.JSON {
					return e.PrintJSON(readOutput{Out: out, BlobID: id})
				}
				e.Say("Blob %s (%s) written to %s", id, cmdenv.HumanBytes(n), out)
				return nil
			case e.JSON:
				return readJSON(ctx, e, s.Client, id, opts)
			}
			_, err = s.Client.ReadTo(ctx, id, e.Stdout, opts)
			return err
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "file to write the blob to (default: stdout)")
	cmd.Flags().BoolVar(&strict, "strict-consistency-check", false, "re-encode the whole blob and compare its blob ID")
	cmd.Flags().BoolVar(&skip, "skip-consistency-check", false, "skip the consistency check after decoding")
	cmd.Flags().StringVar(&budget, "memory-budget", "", "memory the read aims to stay within, e.g. 256MiB (default: the configuration's memory_budget, else 512MiB)")
	return cmd
}

// parseBlobID parses a blob ID argument with a clear error; the decimal
// form (as Sui explorers show it) gets a pointer to convert-blob-id.
func parseBlobID(s string) (blob.ID, error) {
	id, err := blob.ParseID(s)
	if err == nil {
		return id, nil
	}
	if dec, derr := blob.IDFromDecimal(s); derr == nil {
		return id, fmt.Errorf("invalid blob ID %q: want 43 characters of URL-safe base64, not the decimal form; walrus convert-blob-id converts it (to %s)", s, dec)
	}
	return id, fmt.Errorf("invalid blob ID %q: want 43 characters of URL-safe base64", s)
}
