package quilt_test

import (
	"fmt"

	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/quilt"
	"github.com/walrus-go/walrus/redstuff"
)

// Store two files as a quilt, then read one back the way an aggregator does:
// from the quilt's secondary slivers only, first the index, then the patch.
func Example() {
	p := blob.MustParams(10)
	q, err := quilt.Encode(p, []quilt.Patch{
		{Identifier: "walrus.jpg", Data: []byte("…jpeg bytes…"), Tags: map[string]string{"type": "image"}},
		{Identifier: "notes.txt", Data: []byte("hello")},
	})
	if err != nil {
		panic(err)
	}
	enc, _ := redstuff.NewEncoder(p)
	x, _ := enc.Encode(q.Blob) // q.Blob is stored as an ordinary blob
	secondary := func(from, to int) (cols [][]byte) {
		for j := from; j < to; j++ {
			cols = append(cols, x.Secondary(j).Data)
		}
		return cols
	}

	k, _ := quilt.IndexColumns(secondary(0, 1)[0])
	ix, _ := quilt.DecodeIndex(p, secondary(0, k))
	for _, info := range ix.List(x.Metadata.ID) {
		fmt.Println(info.Identifier, info.Tags, len(info.PatchID.String()))
	}
	e, _ := ix.Lookup("notes.txt")
	pt, _ := quilt.ReadPatch(secondary(int(e.Start), int(e.End)))
	fmt.Printf("%s: %s\n", pt.Identifier, pt.Data)
	// Output:
	// notes.txt map[] 50
	// walrus.jpg map[type:image] 50
	// notes.txt: hello
}
