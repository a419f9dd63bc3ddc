package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/client"
	"github.com/walrus-go/walrus/cmd/walrus/cli/cmdenv"
	"github.com/walrus-go/walrus/internal/fsutil"
	"github.com/walrus-go/walrus/quilt"
)

// quiltBlobArg is one --blobs value: {"path", "identifier"?, "tags"?}.
type quiltBlobArg struct {
	Path       string            `json:"path"`
	Identifier string            `json:"identifier"`
	Tags       map[string]string `json:"tags"`
}

// quiltPatches reads the files of --paths (directories recursively; the
// file name is the identifier) and --blobs.
func quiltPatches(paths, blobs []string) ([]quilt.Patch, error) {
	var patches []quilt.Patch
	add := func(path, id string, tags map[string]string) error {
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		patches = append(patches, quilt.Patch{Identifier: id, Data: data, Tags: tags})
		return nil
	}
	for _, p := range paths {
		err := filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			return add(path, d.Name(), nil)
		})
		if err != nil {
			return nil, err
		}
	}
	for _, b := range blobs {
		var a quiltBlobArg
		dec := json.NewDecoder(strings.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&a); err != nil || a.Path == "" {
			return nil, fmt.Errorf(`invalid --blobs %q: want {"path": …, "identifier": …, "tags": {…}}`, b)
		}
		if a.Identifier == "" {
			a.Identifier = filepath.Base(a.Path)
		}
		if err := add(a.Path, a.Identifier, a.Tags); err != nil {
			return nil, err
		}
	}
	if len(patches) == 0 {
		return nil, errors.New("give the files with --paths or --blobs")
	}
	return patches, nil
}

func newStoreQuiltCmd(e *env) *cobra.Command {
	var ef epochFlags
	var paths, blobs []string
	var permanent, force, ignore, share, dryRun bool
	cmd := &cobra.Command{
		Use:     "store-quilt",
		Aliases: []string{"write-quilt"},
		Short:   "Store many small files as one quilt (each readable on its own)",
		Long: `Stores files as one quilt blob: --paths FILE_OR_DIR… (directories recursively, each file's
name is its identifier) and/or --blobs '{"path": "a.txt", "identifier": "id", "tags": {"k": "v"}}'….
Identifiers must be unique. With --json prints Walrus's {blobStoreResult, storedQuiltBlobs}.
--dry-run prints the quilt's blob ID and its storage compared with storing each file alone.

` + lifetimeHelp,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			patches, err := quiltPatches(paths, blobs)
			if err != nil {
				return err
			}
			s, err := e.Connect(cmd.Context(), !dryRun)
			if err != nil {
				return err
			}
			defer s.Close()
			c := s.Client
			if dryRun {
				return quiltDryRun(e, c, patches)
			}
			epochs, err := ef.lifetime(cmd.Context(), e, s)
			if err != nil {
				return err
			}
			res, err := c.StoreQuilt(cmd.Context(), patches, client.StoreOptions{Epochs: epochs, Deletable: !permanent, Force: force,
				IgnoreResources: ignore, Share: share})
			if err != nil {
				return err
			}
			waitTail(cmd.Context(), e, c)
			if e.JSON {
				return e.PrintJSON(res.Result)
			}
			printStoreResult(e, client.BlobStoreResultWithPath{BlobStoreResult: res.Result.BlobStoreResult, Path: "quilt of " + cmdenv.Count(len(patches), "file", "files")})
			for _, p := range res.Result.StoredQuiltBlobs {
				fmt.Fprintf(e.Stdout, "  %s  %s\n", p.QuiltPatchID, p.Identifier)
			}
			return nil
		},
	}
	ef.add(cmd)
	fl := cmd.Flags()
	fl.StringSliceVar(&paths, "paths", nil, "files or directories to store (the file name is the identifier)")
	fl.StringArrayVar(&blobs, "blobs", nil, `a file as JSON: {"path", "identifier", "tags"} (repeatable)`)
	fl.BoolVar(&permanent, "permanent", false, "store a permanent quilt (deletable is the default)")
	fl.BoolVar(&force, "force", false, "store even if already certified long enough")
	fl.BoolVar(&ignore, "ignore-resources", false, "buy new storage instead of reusing the wallet's")
	fl.BoolVar(&share, "share", false, "wrap the quilt into a SharedBlob")
	fl.BoolVar(&dryRun, "dry-run", false, "print the quilt's blob ID and cost comparison, store nothing")
	return cmd
}

// quiltDryRunOutput is store-quilt --dry-run --json.
type quiltDryRunOutput struct {
	QuiltID          blob.ID                   `json:"quiltId"`
	Patches          int                       `json:"patches"`
	UnencodedSize    int                       `json:"unencodedSize"`
	EncodedSize      uint64                    `json:"encodedSize"`
	SeparateEncoded  uint64                    `json:"separateEncodedSize"`
	StorageFactor    float64                   `json:"storageFactor"`
	StoredQuiltBlobs []client.StoredQuiltPatch `json:"storedQuiltBlobs"`
}

func quiltDryRun(e *env, c *client.Client, patches []quilt.Patch) error {
	cost, err := quilt.CompareCost(c.Params(), patches)
	if err != nil {
		return err
	}
	q, err := quilt.Encode(c.Params(), patches)
	if err != nil {
		return err
	}
	md, err := c.ComputeMetadata(bytes.NewReader(q.Blob), int64(len(q.Blob)), 0)
	if err != nil {
		return err
	}
	out := quiltDryRunOutput{QuiltID: md.ID, Patches: len(patches), UnencodedSize: len(q.Blob), EncodedSize: cost.Quilt,
		SeparateEncoded: cost.Separate, StorageFactor: cost.Factor}
	for _, en := range q.Index.Entries {
		out.StoredQuiltBlobs = append(out.StoredQuiltBlobs, client.StoredQuiltPatch{Identifier: en.Identifier, QuiltPatchID: en.PatchID(md.ID).String()})
	}
	if e.JSON {
		return e.PrintJSON(out)
	}
	fmt.Fprintf(e.Stdout, "Quilt ID %s: %s, %s unencoded, %s encoded; as separate blobs %s encoded (%.0f× more)\n",
		out.QuiltID, cmdenv.Count(out.Patches, "file", "files"), cmdenv.HumanBytes(int64(out.UnencodedSize)), cmdenv.HumanBytes(int64(out.EncodedSize)),
		cmdenv.HumanBytes(int64(out.SeparateEncoded)), out.StorageFactor)
	return nil
}

// retrievedBlob is one patch of read-quilt --json (Walrus's QuiltStoreBlob).
type retrievedBlob struct {
	Identifier string            `json:"identifier"`
	Tags       map[string]string `json:"tags"`
	Blob       []byte            `json:"blob,omitempty"`
}

type readQuiltOutput struct {
	Out            string          `json:"out,omitempty"`
	RetrievedBlobs []retrievedBlob `json:"retrievedBlobs"`
}

// readQuiltPatches reads patches of one quilt: by identifiers, by tag, or all.
func readQuiltPatches(ctx context.Context, c *client.Client, quiltID string, identifiers []string, tag, value string) ([]quilt.Patch, error) {
	id, err := parseBlobID(quiltID)
	if err != nil {
		return nil, err
	}
	q, err := c.OpenQuilt(ctx, id)
	if err != nil {
		return nil, err
	}
	switch {
	case len(identifiers) > 0:
		var patches []quilt.Patch
		for _, ident := range identifiers {
			p, err := q.Patch(ctx, ident)
			if err != nil {
				return nil, err
			}
			patches = append(patches, p)
		}
		return patches, nil
	case tag != "":
		return q.PatchesByTag(ctx, tag, value)
	}
	return q.All(ctx)
}

// patchesByID reads patches by patch ID, opening each quilt once.
func patchesByID(ctx context.Context, c *client.Client, patchIDs []string) ([]quilt.Patch, error) {
	readers := map[blob.ID]*client.QuiltReader{}
	var patches []quilt.Patch
	for _, text := range patchIDs {
		pid, err := quilt.ParsePatchID(text)
		if err != nil {
			return nil, err
		}
		q := readers[pid.Quilt]
		if q == nil {
			if q, err = c.OpenQuilt(ctx, pid.Quilt); err != nil {
				return nil, err
			}
			readers[pid.Quilt] = q
		}
		p, err := q.PatchAt(ctx, pid.Start, pid.End)
		if err != nil {
			return nil, err
		}
		patches = append(patches, p)
	}
	return patches, nil
}

func newReadQuiltCmd(e *env) *cobra.Command {
	var quiltID, tag, value, out string
	var identifiers, patchIDs []string
	cmd := &cobra.Command{
		Use:   "read-quilt",
		Short: "Read files of a quilt by identifier, tag or patch ID",
		Long: `Reads patches of a quilt, each from its own columns (secondary slivers), without decoding the
whole quilt: --quilt-id ID with --identifiers ID… or --tag KEY --value VALUE (or neither: every
patch), or --quilt-patch-ids ID…. --out DIR writes each file under its identifier; without it
a single patch goes to stdout. --json prints {out?, retrievedBlobs: [{identifier, tags, blob}]}
(blob in base64, left out with --out).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if (quiltID == "") == (len(patchIDs) == 0) {
				return errors.New("give --quilt-id or --quilt-patch-ids")
			}
			if (tag == "") != (value == "") {
				return errors.New("--tag and --value go together")
			}
			s, err := e.Connect(ctx, false)
			if err != nil {
				return err
			}
			defer s.Close()
			var patches []quilt.Patch
			if quiltID != "" {
				patches, err = readQuiltPatches(ctx, s.Client, quiltID, identifiers, tag, value)
			} else {
				patches, err = patchesByID(ctx, s.Client, patchIDs)
			}
			if err != nil {
				return err
			}
			return writePatches(e, patches, out)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&quiltID, "quilt-id", "", "the quilt's blob ID")
	fl.StringSliceVar(&identifiers, "identifiers", nil, "identifiers of the patches to read")
	fl.StringVar(&tag, "tag", "", "read the patches with this tag key…")
	fl.StringVar(&value, "value", "", "…set to this value")
	fl.StringSliceVar(&patchIDs, "quilt-patch-ids", nil, "patch IDs to read")
	fl.StringVar(&out, "out", "", "directory to write the files to")
	return cmd
}

func writePatches(e *env, patches []quilt.Patch, out string) error {
	res := readQuiltOutput{Out: out, RetrievedBlobs: []retrievedBlob{}}
	for _, p := range patches {
		tags := p.Tags
		if tags == nil {
			tags = map[string]string{}
		}
		rb := retrievedBlob{Identifier: p.Identifier, Tags: tags}
		if out != "" {
			path, err := patchPath(out, p.Identifier)
			if err != nil {
				return err
			}
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				return err
			}
			if err := fsutil.WriteFileAtomic(path, p.Data, 0o644); err != nil {
				return err
			}
		} else {
			rb.Blob = p.Data
		}
		res.RetrievedBlobs = append(res.RetrievedBlobs, rb)
	}
	switch {
	case e.JSON:
		return e.PrintJSON(res)
	case out != "":
		e.Say("Wrote %s to %s", cmdenv.Count(len(patches), "file", "files"), out)
		return nil
	case len(patches) == 1:
		_, err := e.Stdout.Write(patches[0].Data)
		return err
	}
	return fmt.Errorf("%d patches: give --out DIR to write them, or read one", len(patches))
}

// patchPath is where an identifier's file goes under dir; identifiers that
// would leave dir are refused.
func patchPath(dir, identifier string) (string, error) {
	rel := filepath.Clean(filepath.FromSlash(identifier))
	if filepath.IsAbs(rel) || rel == "." || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", fmt.Errorf("identifier %q is not a relative file path; read it without --out", identifier)
	}
	return filepath.Join(dir, rel), nil
}

func newListPatchesCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:     "list-patches-in-quilt QUILT_ID",
		Aliases: []string{"resolve-quilt"},
		Short:   "List the files of a quilt with their patch IDs and tags",
		Long:    "Lists a quilt's patches from its index columns. --json prints the aggregator's [{identifier, patch_id, tags}].",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseBlobID(args[0])
			if err != nil {
				return err
			}
			s, err := e.Connect(cmd.Context(), false)
			if err != nil {
				return err
			}
			defer s.Close()
			q, err := s.Client.OpenQuilt(cmd.Context(), id)
			if err != nil {
				return err
			}
			list, err := q.List(cmd.Context())
			if err != nil {
				return err
			}
			if e.JSON {
				return e.PrintJSON(list)
			}
			fmt.Fprintf(e.Stdout, "Quilt %s: %s\n", id, cmdenv.Count(len(list), "patch", "patches"))
			for _, p := range list {
				keys := make([]string, 0, len(p.Tags))
				for k := range p.Tags {
					keys = append(keys, k+"="+p.Tags[k])
				}
				sort.Strings(keys)
				fmt.Fprintf(e.Stdout, "  %s  %s  %s\n", p.PatchID, p.Identifier, strings.Join(keys, " "))
			}
			return nil
		},
	}
}
