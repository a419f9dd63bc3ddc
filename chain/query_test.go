package chain

import (
	"testing"

	"github.com/walrus-go/walrus/bls"
	"github.com/walrus-go/walrus/ids"
)

func TestCommitteeInfoCommittee(t *testing.T) {
	info := &CommitteeInfo{Epoch: 4, NShards: 4}
	for i := range 2 {
		sk, err := bls.KeyFromIKM(make([]byte, 32+i))
		if err != nil {
			t.Fatal(err)
		}
		info.Members = append(info.Members, MemberInfo{NodeID: ids.ObjectID{byte(i + 1)}, NetworkAddress: "127.0.0.1:1",
			PublicKey: sk.PublicKey().Bytes(), NetworkPublicKey: []byte{2, byte(i)}, Shards: []uint16{uint16(2 * i), uint16(2*i + 1)}})
	}
	c, err := info.Committee()
	if err != nil {
		t.Fatal(err)
	}
	if c.Epoch() != 4 || c.Len() != 2 || c.Member(1).NetworkAddress != "127.0.0.1:1" || c.Member(1).NetworkPublicKey[1] != 1 {
		t.Fatalf("committee %+v", c.Members())
	}
	if owner, ok := c.ShardOwner(3); !ok || owner != 1 {
		t.Fatal("shard owner")
	}
	info.Members[0].PublicKey[0] ^= 0xff
	if _, err := info.Committee(); err == nil {
		t.Fatal("a bad key was accepted")
	}
}
