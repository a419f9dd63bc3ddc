package chain

import (
	"math/big"
	"testing"

	"github.com/walrus-go/walrus/ids"
)

// floorMulDiv is a*b/c with big integers: an independent check of the
// state machine's 128-bit arithmetic.
func floorMulDiv(a, b, c uint64) uint64 {
	x := new(big.Int).Mul(new(big.Int).SetUint64(a), new(big.Int).SetUint64(b))
	return x.Div(x, new(big.Int).SetUint64(c)).Uint64()
}

func TestStakingAndRewardsOverEpochs(t *testing.T) {
	h := fourNodes(t)
	alice, bob := h.users["alice"], h.users["bob"]
	x := h.nodesByIndex()[0] // weight 3 of 10
	const stake = 100 * FrostPerWAL
	pool := func() *StakingPool { return h.object(x.id).Pool }

	// Epoch 1: 10 units for 3 epochs at price 100 = 1000 FROST of rewards in each of epochs 1, 2, 3.
	h.ok(alice, &ReserveSpace{EncodedSize: 10 * UnitSize, EpochsAhead: 3})
	if f := h.sys().Future; f[0].Rewards != 1000 || f[2].Rewards != 1000 || f[3].Rewards != 0 {
		t.Fatalf("future rewards %+v", f[:4])
	}
	r := h.ok(bob, &StakeWithPool{Node: Ref(x.id), Amount: 50 * FrostPerWAL})
	bobStake := r.Created[0]
	if sw := h.object(bobStake).Staked; sw.ActivationEpoch != 2 || sw.Principal != 50*FrostPerWAL {
		t.Fatalf("staked %+v", sw)
	}
	h.ok(x.op, &SetCommissionRate{Node: Ref(x.id), Rate: 1000}) // 10 % from epoch 3
	h.abort(ENotAuthorized, bob, &SetCommissionRate{Node: Ref(x.id), Rate: 0})
	burnedBefore := h.sys().Burned

	// 1 → 2: 1000 - 3 % = 970 to the committee by weight: 291, 291, 194, 194.
	h.advanceTo(2, true)
	reward := floorMulDiv(970, 3, 10)
	if reward != 291 {
		t.Fatalf("test arithmetic: %d", reward)
	}
	er2 := ExchangeRate{stake + reward, stake}
	if got, _, _ := LoadRate(h.st, x.id, 2); got != er2 {
		t.Fatalf("rate at 2: %+v, want %+v", got, er2)
	}
	bobShares := floorMulDiv(50*FrostPerWAL, er2.Shares, er2.Wal)
	if p := pool(); p.WalBalance != stake+reward+50*FrostPerWAL || p.Shares != stake+bobShares || p.CommissionLocked != 0 {
		t.Fatalf("pool at 2: wal %d shares %d", p.WalBalance, p.Shares)
	}
	s := h.sys()
	// Burns so far: 30 from rewards, plus the fees of every transaction.
	if got := s.Burned - burnedBefore; got < 30 || (got-30)%testFee != 0 {
		t.Fatalf("burned %d", got)
	}
	if s.Future[0].Rewards != 1000 {
		t.Fatalf("epoch 2 rewards %d (no leftover expected)", s.Future[0].Rewards)
	}

	// Bob's pending stake counted when epoch 2's committee was chosen: X holds more shards now.
	w2 := weightOf(h.sys(), x.id)
	if w2 != 4 {
		t.Fatalf("weight in epoch 2: %d, want 4 (150 of 450 WAL)", w2)
	}
	// 2 → 3: commission 10 % applies to the rewards paid at the start of epoch 3.
	h.advanceTo(3, true)
	reward2 := floorMulDiv(970, uint64(w2), 10)
	com := floorMulDiv(reward2, 1000, 10_000)
	p := pool()
	if p.CommissionRate != 1000 || p.CommissionLocked != com || p.WalBalance != stake+reward+50*FrostPerWAL+reward2-com {
		t.Fatalf("pool at 3: rate %d locked %d wal %d", p.CommissionRate, p.CommissionLocked, p.WalBalance)
	}
	// Withdrawal requested in epoch 3 before voting end: leaves at epoch 4.
	h.ok(bob, &RequestWithdrawStake{Staked: Ref(bobStake)})
	if sw := h.object(bobStake).Staked; !sw.Withdrawing || sw.WithdrawEpoch != 4 || sw.WithdrawShares != bobShares {
		t.Fatalf("withdrawing %+v", sw)
	}
	h.abort(EWithdrawNotReady, bob, &WithdrawStake{Staked: Ref(bobStake)})
	h.abort(EWrongStakeState, bob, &RequestWithdrawStake{Staked: Ref(bobStake)})
	// Commission earned at the start of 3 is locked until voting end of 3.
	opBefore := h.balance(x.op)
	h.ok(x.op, &CollectCommission{Node: Ref(x.id)})
	if got := h.balance(x.op) + testFee - opBefore; got != 0 {
		t.Fatalf("collected %d before voting end", got)
	}

	// 3 → 4: bob's shares are valued at the rate of epoch 4.
	walBefore := pool().WalBalance
	sharesBefore := pool().Shares
	w3 := weightOf(h.sys(), x.id)
	h.advanceTo(4, true)
	reward3 := floorMulDiv(970, uint64(w3), 10)
	com3 := floorMulDiv(reward3, 1000, 10_000)
	er4 := ExchangeRate{walBefore + reward3 - com3, sharesBefore}
	if got, _, _ := LoadRate(h.st, x.id, 4); got != er4 {
		t.Fatalf("rate at 4: %+v, want %+v", got, er4)
	}
	value := floorMulDiv(bobShares, er4.Wal, er4.Shares)
	if value <= 50*FrostPerWAL {
		t.Fatalf("bob's stake earned nothing: %d", value)
	}
	if p := pool(); p.Shares != stake || p.WalBalance != er4.Wal-value {
		t.Fatalf("pool after withdrawal: shares %d wal %d", p.Shares, p.WalBalance)
	}
	bobBefore := h.balance(bob)
	h.ok(bob, &WithdrawStake{Staked: Ref(bobStake)})
	if got := h.balance(bob) + testFee - bobBefore; got != value {
		t.Fatalf("bob withdrew %d, want %d", got, value)
	}
	if h.object(bobStake) != nil {
		t.Fatal("StakedWal still exists")
	}
	// The commission of epoch 3's start is collectable now (voting end of 3 passed); that of 4's is locked.
	opBefore = h.balance(x.op)
	h.ok(x.op, &CollectCommission{Node: Ref(x.id)})
	if got := h.balance(x.op) + testFee - opBefore; got != com {
		t.Fatalf("collected %d, want %d", got, com)
	}
}

func TestStakeTiming(t *testing.T) {
	h := fourNodes(t)
	bob := h.users["bob"]
	x := h.nodesByIndex()[1]
	// Direct withdrawal of stake that is not active yet returns the principal.
	r := h.ok(bob, &StakeWithPool{Node: Ref(x.id), Amount: 7 * FrostPerWAL})
	before := h.balance(bob)
	h.ok(bob, &WithdrawStake{Staked: Ref(r.Created[0])})
	if got := h.balance(bob) + testFee - before; got != 7*FrostPerWAL {
		t.Fatalf("refund %d", got)
	}
	if p := h.object(x.id).Pool; len(p.PendingStake) != 0 {
		t.Fatalf("pending stake left: %+v", p.PendingStake)
	}
	h.abort(EInvalidArgument, bob, &StakeWithPool{Node: Ref(x.id), Amount: 0})
	// After voting end, new stake activates in two epochs, and withdrawal
	// from a member of the next committee takes two epochs.
	h.block(testEpochMs / 2)
	if h.sys().State != NextParamsSelected {
		t.Fatal("voting has not ended")
	}
	r = h.ok(bob, &StakeWithPool{Node: Ref(x.id), Amount: FrostPerWAL})
	if sw := h.object(r.Created[0]).Staked; sw.ActivationEpoch != 3 {
		t.Fatalf("activation %d, want 3", sw.ActivationEpoch)
	}
	h.abort(EWrongStakeState, bob, &RequestWithdrawStake{Staked: Ref(r.Created[0])})
	// The genesis stake of the node's operator is active since epoch 1.
	keys, _ := h.st.Scan(KeyOwnerPrefix(x.op.addr), nil, 0)
	var opStake ids.ObjectID
	for _, k := range keys {
		copy(opStake[:], k[33:])
	}
	h.ok(x.op, &RequestWithdrawStake{Staked: Ref(opStake)})
	if sw := h.object(opStake).Staked; sw.WithdrawEpoch != 3 {
		t.Fatalf("withdraw epoch %d, want 3", sw.WithdrawEpoch)
	}
}

func weightOf(s *System, node ids.ObjectID) int {
	i, ok := memberIndex(s.Committee, node)
	if !ok {
		return 0
	}
	return len(s.Committee[i].Shards)
}
