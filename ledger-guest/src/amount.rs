//! Amounts of value.

use crate::Status;

/// An amount of value: `0..=i64::MAX`, the range in which the ledger moves
/// value the way a call says.
///
/// A parameter slot is an `i64`, and the ledger's `credit` and `debit` take
/// the amount `as i64`: read as a `u64`, a caller's `-5` is
/// 18446744073709551611, which the ledger turns back into `-5`, so a
/// "transfer of -5" moves 5 the other way. As an `#[execute]` parameter an
/// `Amount` refuses a negative slot before your code runs: the call fails
/// with [`Status::NEGATIVE_AMOUNT`] and moves nothing. Its arithmetic is
/// checked, so a sum or a fee cannot leave the range either.
///
/// ```
/// use ledger_guest::{Amount, Status};
///
/// let amount = Amount::from_slot(10_000).unwrap();
/// assert_eq!(amount.get(), 10_000);
/// assert_eq!(Amount::from_slot(-5), Err(Status::NEGATIVE_AMOUNT));
/// // 50 basis points of it, and the total with the fee.
/// let fee = amount.fraction(50, 10_000).unwrap();
/// assert_eq!(amount.checked_add(fee).map(Amount::get), Some(10_050));
/// assert_eq!(Amount::MAX.checked_add(Amount::new(1).unwrap()), None);
/// assert_eq!(Amount::new(1 << 63), None, "beyond i64::MAX");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[repr(transparent)]
pub struct Amount(u64);

impl Amount {
    /// Nothing.
    pub const ZERO: Amount = Amount(0);

    /// The largest amount the ledger moves the right way: `i64::MAX`.
    pub const MAX: Amount = Amount(i64::MAX as u64);

    /// `value` as an amount, if it is at most [`Amount::MAX`].
    pub const fn new(value: u64) -> Option<Amount> {
        if value <= Amount::MAX.0 { Some(Amount(value)) } else { None }
    }

    /// A parameter slot as an amount, or [`Status::NEGATIVE_AMOUNT`] when it
    /// is negative. What `#[execute]` does with an `Amount` parameter.
    pub const fn from_slot(slot: i64) -> Result<Amount, Status> {
        if slot < 0 { Err(Status::NEGATIVE_AMOUNT) } else { Ok(Amount(slot as u64)) }
    }

    /// The amount, for [`credit`](crate::credit) and [`debit`](crate::debit).
    pub const fn get(self) -> u64 {
        self.0
    }

    /// The amount as a signed number, to compare with a balance.
    pub const fn signed(self) -> i64 {
        self.0 as i64
    }

    /// `self + other`, if it is at most [`Amount::MAX`].
    pub const fn checked_add(self, other: Amount) -> Option<Amount> {
        Amount::new(self.0 + other.0) // both at most i64::MAX: no u64 overflow
    }

    /// `self - other`, if `other` is not larger.
    pub const fn checked_sub(self, other: Amount) -> Option<Amount> {
        if other.0 <= self.0 { Some(Amount(self.0 - other.0)) } else { None }
    }

    /// `self * numerator / denominator`, rounded down, exact and without
    /// overflow (a fee in basis points is `fraction(bps, 10_000)`); `None`
    /// when `denominator` is 0 or the result is over [`Amount::MAX`]. The
    /// factors are `u32` so that it needs no 128-bit arithmetic, which would
    /// add over a kilobyte of compiler runtime to a module.
    pub const fn fraction(self, numerator: u32, denominator: u32) -> Option<Amount> {
        if denominator == 0 {
            return None;
        }
        let (numerator, denominator) = (numerator as u64, denominator as u64);
        // self = whole * denominator + part, so self * n / d = whole * n + part * n / d,
        // where part * n < 2^32 * 2^32 cannot overflow.
        let (whole, part) = (self.0 / denominator, self.0 % denominator);
        match whole.checked_mul(numerator) {
            Some(scaled) => match scaled.checked_add(part * numerator / denominator) {
                Some(exact) => Amount::new(exact),
                None => None,
            },
            None => None,
        }
    }
}

impl From<Amount> for u64 {
    fn from(amount: Amount) -> u64 {
        amount.0
    }
}

impl From<Amount> for i64 {
    fn from(amount: Amount) -> i64 {
        amount.0 as i64
    }
}

impl TryFrom<u64> for Amount {
    type Error = Status;

    /// [`Amount::new`], failing with [`Status::NEGATIVE_AMOUNT`] for what an
    /// `i64` slot would read as negative.
    fn try_from(value: u64) -> Result<Amount, Status> {
        Amount::new(value).ok_or(Status::NEGATIVE_AMOUNT)
    }
}

impl core::fmt::Display for Amount {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        core::fmt::Display::fmt(&self.0, f)
    }
}
