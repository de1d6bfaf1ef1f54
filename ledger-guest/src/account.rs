//! Account identifiers.

/// A ledger account id. Not an amount: the type system keeps them apart, at
/// no cost (it is a `u64` in memory and in the ABI).
///
/// ```
/// use ledger_guest::AccountId;
///
/// const FEES: AccountId = AccountId::new(999);
/// assert_eq!(FEES.get(), 999);
/// assert_eq!(AccountId::SYSTEM.get(), 0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(transparent)]
pub struct AccountId(u64);

impl AccountId {
    /// The system account, the other side of deposits and withdrawals.
    pub const SYSTEM: AccountId = AccountId(0);

    /// An account id.
    pub const fn new(id: u64) -> AccountId {
        AccountId(id)
    }

    /// The numeric id.
    pub const fn get(self) -> u64 {
        self.0
    }
}

impl From<u64> for AccountId {
    fn from(id: u64) -> Self {
        AccountId(id)
    }
}

impl core::fmt::Display for AccountId {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "#{}", self.0)
    }
}
