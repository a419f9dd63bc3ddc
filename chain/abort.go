package chain

import (
	"errors"
	"fmt"
)

// Abort is a named abort code of the state machine, as the Move contracts
// name theirs. A transaction that aborts changes nothing but its fee and
// sequence; the ABCI result carries Code and the log starts with Name.
type Abort struct {
	Code uint32
	Name string
}

func (a *Abort) Error() string { return a.Name }

// Result codes of transactions that are rejected before they run (CheckTx,
// and FinalizeBlock for the same reasons). They change no state.
const (
	CodeOK            uint32 = 0
	CodeUndecodable   uint32 = 1
	CodeBadSignature  uint32 = 2
	CodeWrongSequence uint32 = 3
	CodeFeeTooLow     uint32 = 4
	CodeBalanceTooLow uint32 = 5
	CodeWrongChain    uint32 = 6
)

// Abort codes of FinalizeBlock (spec 6 rules).
var (
	ENotOwner                 = &Abort{100, "ENotOwner"}
	EObjectNotFound           = &Abort{101, "EObjectNotFound"}
	EWrongObjectKind          = &Abort{102, "EWrongObjectKind"}
	EInsufficientBalance      = &Abort{103, "EInsufficientBalance"}
	EInvalidEpochsAhead       = &Abort{104, "EInvalidEpochsAhead"}
	EStorageExceeded          = &Abort{105, "EStorageExceeded"}
	EInvalidBlobId            = &Abort{106, "EInvalidBlobId"}
	EStorageTooSmall          = &Abort{107, "EStorageTooSmall"}
	EInvalidEncodingType      = &Abort{108, "EInvalidEncodingType"}
	ENotCertifiedEpoch        = &Abort{109, "ENotCertifiedEpoch"}
	EInsufficientWeight       = &Abort{110, "EInsufficientWeight"}
	EInvalidSignature         = &Abort{111, "EInvalidSignature"}
	EAlreadyCertified         = &Abort{112, "EAlreadyCertified"}
	EBlobExpired              = &Abort{113, "EBlobExpired"}
	EInvalidPersistence       = &Abort{114, "EInvalidPersistence"}
	EInvalidMessage           = &Abort{115, "EInvalidMessage"}
	ENotDeletable             = &Abort{116, "ENotDeletable"}
	ENotCertified             = &Abort{117, "ENotCertified"}
	EIncompatibleStorage      = &Abort{118, "EIncompatibleStorage"}
	EInvalidArgument          = &Abort{119, "EInvalidArgument"}
	EInvalidProofOfPossession = &Abort{120, "EInvalidProofOfPossession"}
	EDuplicateBlsKey          = &Abort{121, "EDuplicateBlsKey"}
	ENotAuthorized            = &Abort{122, "ENotAuthorized"}
	EWrongEpochState          = &Abort{123, "EWrongEpochState"}
	EInvalidSigners           = &Abort{124, "EInvalidSigners"}
	ENotCommitteeMember       = &Abort{125, "ENotCommitteeMember"}
	EAlreadySynced            = &Abort{126, "EAlreadySynced"}
	EWithdrawNotReady         = &Abort{127, "EWithdrawNotReady"}
	EWrongStakeState          = &Abort{128, "EWrongStakeState"}
	EAttributeNotFound        = &Abort{129, "EAttributeNotFound"}
	EBlobTooLarge             = &Abort{130, "EBlobTooLarge"}
	EInvalidBlob              = &Abort{131, "EInvalidBlob"}
	EOverflow                 = &Abort{132, "EOverflow"}
)

// aborts are the abort codes by number (AbortByCode).
var aborts = func() map[uint32]*Abort {
	m := map[uint32]*Abort{}
	for _, a := range []*Abort{ENotOwner, EObjectNotFound, EWrongObjectKind, EInsufficientBalance, EInvalidEpochsAhead,
		EStorageExceeded, EInvalidBlobId, EStorageTooSmall, EInvalidEncodingType, ENotCertifiedEpoch, EInsufficientWeight,
		EInvalidSignature, EAlreadyCertified, EBlobExpired, EInvalidPersistence, EInvalidMessage, ENotDeletable,
		ENotCertified, EIncompatibleStorage, EInvalidArgument, EInvalidProofOfPossession, EDuplicateBlsKey,
		ENotAuthorized, EWrongEpochState, EInvalidSigners, ENotCommitteeMember, EAlreadySynced, EWithdrawNotReady,
		EWrongStakeState, EAttributeNotFound, EBlobTooLarge, EInvalidBlob, EOverflow} {
		if m[a.Code] != nil {
			panic("chain: abort code " + a.Name + " used twice")
		}
		m[a.Code] = a
	}
	return m
}()

// AbortByCode returns the abort of a result code (nil, false for one that
// is not an abort, such as CodeOK or a rejection code).
func AbortByCode(code uint32) (*Abort, bool) {
	a, ok := aborts[code]
	return a, ok
}

// AbortOf returns the abort code in err's chain, if any.
func AbortOf(err error) (*Abort, bool) {
	var a *Abort
	ok := errors.As(err, &a)
	return a, ok
}

func abortf(a *Abort, format string, args ...any) error {
	return fmt.Errorf("%w: %s", a, fmt.Sprintf(format, args...))
}
