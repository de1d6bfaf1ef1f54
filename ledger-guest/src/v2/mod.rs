//! Functions for ABI v2 (roda-ledger e14b146): opened accounts, flag lanes,
//! linked accounts, a KV store with named constants, and `register()`.
//!
//! Enable the `v2` feature and import from here: the v2 bindings (the
//! imports' names and types come from the same table the validator and the
//! simulator use), [`testing::MockLedger`] for native tests, and the
//! [`register`] attribute beside [`execute`].
//!
//! ```
//! use ledger_guest::v2::{AccountId, KeyPart, Status, constant, credit, debit, execute, key, kv_get, kv_set, register, register_constant};
//!
//! /// Defines the constant the counter's keys start with, once, when the
//! /// function is registered.
//! #[register]
//! fn define_constants() {
//!     register_constant(c"counter");
//! }
//!
//! /// Counts calls per account in KV, and moves 1 from the account to the
//! /// system account.
//! #[execute]
//! fn count(account: AccountId) -> Result<(), Status> {
//!     let key = key([constant(c"counter"), KeyPart::account(account)?]);
//!     kv_set(key, kv_get(key) + 1);
//!     credit(account, 1);
//!     debit(AccountId::SYSTEM, 1);
//!     Ok(())
//! }
//!
//! # fn main() {
//! use ledger_guest::v2::testing::MockLedger;
//! let mut ledger = MockLedger::new();
//! assert_eq!(ledger.register(define_constants), Status::NONE);
//! let account = ledger.open_accounts(1);
//! assert_eq!(ledger.call(execute_slots, &[account.get() as i64]), Status::NONE);
//! assert_eq!(ledger.execute(|| count(account)), Status::NONE);
//! let counter = ledger.constant(c"counter").unwrap();
//! assert_eq!(ledger.kv(key([counter, KeyPart::account(account).unwrap()])), 2);
//! assert_eq!(ledger.execute(|| count(AccountId::new(50))), Status::ACCOUNT_NOT_FOUND, "never opened");
//! # }
//! ```

use core::ffi::CStr;

pub use crate::{AccountId, Amount, IntoStatus, Status, status};

pub use ledger_abi::v2::CONSTANT_BIT;
/// [`execute`](crate::execute), whose interface manifest says ABI v2: use
/// this one in a v2 function.
pub use ledger_guest_macros::execute_v2 as execute;

/// Turns a plain Rust function into v2's `register` export, which the
/// ledger runs once, when the function is registered, to define constants.
///
/// ```
/// use ledger_guest::v2::{register, register_constant};
///
/// #[register]
/// fn define_constants() {
///     register_constant(c"counter");
///     register_constant(c"limit");
/// }
/// # fn main() {}
/// ```
///
/// Inside it only [`register_constant`] may be called: a data verb
/// (credit, debit, balances, links, flags, KV) makes the ledger refuse the
/// registration with status 8 (PROHIBITED_HOST_CALL), and so does
/// [`constant`]. A panic refuses it with status 5. A refused registration
/// leaves the previous version live.
///
/// The function takes nothing and returns nothing; one per crate. On
/// `wasm32` the macro adds `#[unsafe(no_mangle)] pub extern "C" fn
/// register()`; native tests run the function with
/// [`testing::MockLedger::register`].
pub use ledger_guest_macros::register;

#[cfg(not(target_arch = "wasm32"))]
pub mod testing;

/// Declares the v2 imports on wasm32, from the ABI table.
macro_rules! declare_ffi {
    (module = $module:literal; $( #[doc = $doc:literal] $(#[phase = $phase:ident])? fn $name:ident($($p:ident : $t:ident),*) $(-> $r:ident)?; )*) => {
        #[cfg(target_arch = "wasm32")]
        mod ffi {
            #[link(wasm_import_module = $module)]
            unsafe extern "C" {
                $( #[doc = $doc] pub fn $name($($p: $t),*) $(-> $r)?; )*
            }
        }
    };
}

ledger_abi::v2_host_imports!(declare_ffi);

/// One host call: the import on wasm32, the thread's mock ledger's
/// [`State`](ledger_abi::v2::State) elsewhere.
macro_rules! host {
    ($import:expr, |$state:ident| $native:expr) => {{
        #[cfg(target_arch = "wasm32")]
        // SAFETY: the v2 imports take integers (and, for the constant verbs,
        // a pointer to a NUL-terminated name that outlives the call).
        let value = unsafe { $import };
        #[cfg(not(target_arch = "wasm32"))]
        let value = testing::with_state(|$state| $native);
        value
    }};
}

/// Takes `amount` out of `account`: its balance decreases by `amount`
/// (saturating; `amount as i64`, so 2^63 or more moves it the other way).
///
/// The account must exist (opened, linked, or the system account 0); else
/// the transaction fails with status 2 (ACCOUNT_NOT_FOUND), without
/// stopping the function. Once the transaction has failed, it does nothing.
/// Credits and debits must balance by the end of the call (status 3).
#[inline(always)]
pub fn credit(account: AccountId, amount: u64) {
    host!(ffi::credit(account.get(), amount), |state| state.credit(account.get(), amount))
}

/// Puts `amount` into `account`: the mirror of [`credit`], same rules.
#[inline(always)]
pub fn debit(account: AccountId, amount: u64) {
    host!(ffi::debit(account.get(), amount), |state| state.debit(account.get(), amount))
}

/// The balance of `account` now, this transaction's moves included; 0 for
/// an account that does not exist.
#[inline(always)]
pub fn get_balance(account: AccountId) -> i64 {
    host!(ffi::get_balance(account.get()), |state| state.get_balance(account.get()))
}

/// Moves `amount` from `from` to `to`: a [`credit`] and a [`debit`]. It does
/// not check funds.
#[inline(always)]
pub fn transfer(from: AccountId, to: AccountId, amount: u64) {
    credit(from, amount);
    debit(to, amount);
}

/// A link type: which of an account's linked accounts (16 bits, as the
/// ledger keeps them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LinkType(pub u16);

/// The account linked to `parent` under `link`, created on first use.
///
/// A new linked account is PROGRAMMED: functions move its balance, built-in
/// operations and clients cannot; it takes the next account id. Creating
/// one records two writes (account opened, account linked); finding one
/// records nothing. The parent is not checked. Undone if the transaction
/// fails.
#[inline(always)]
pub fn linked_account(parent: AccountId, link: LinkType) -> AccountId {
    let child = host!(ffi::linked_account(parent.get(), u32::from(link.0)), |state| {
        state.linked_account(parent.get(), u32::from(link.0))
    });
    AccountId::new(child)
}

/// One of an account's eight flag lanes (a byte each). Lane 0 is the
/// account's status (0 none, 1 open, 2 programmed, 3 system): use
/// [`Lane::STATUS`] to name it on purpose; [`Lane::new`] takes 1 to 7.
///
/// ```
/// use ledger_guest::v2::Lane;
/// const FROZEN: Lane = Lane::new(1);
/// assert_eq!(FROZEN.index(), 1);
/// ```
///
/// A lane of 8 or more does not compile in a constant (the ledger would
/// silently use lane `n % 8`):
///
/// ```compile_fail
/// const WRONG: ledger_guest::v2::Lane = ledger_guest::v2::Lane::new(8);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Lane(u8);

impl Lane {
    /// Lane 0: whether and how the account exists. Writing it changes what
    /// the ledger lets clients and built-in operations do with the account.
    pub const STATUS: Lane = Lane(0);

    /// Lane `index`, 1 to 7.
    ///
    /// # Panics
    ///
    /// When `index` is 0 or over 7 (at compile time in a `const`).
    pub const fn new(index: u8) -> Lane {
        assert!(index >= 1 && index <= 7, "flag lanes are 1 to 7 (lane 0 is the account's status: Lane::STATUS)");
        Lane(index)
    }

    /// The lane's index.
    pub const fn index(self) -> u8 {
        self.0
    }
}

/// The value of `lane` on `account`; 0 for an account that does not exist.
#[inline(always)]
pub fn get_flag(account: AccountId, lane: Lane) -> u8 {
    let value = host!(ffi::get_flag(account.get(), u32::from(lane.0)), |state| {
        state.get_flag(account.get(), u32::from(lane.0))
    });
    value as u8
}

/// Whether `lane` on `account` holds `value`.
#[inline(always)]
pub fn has_flag(account: AccountId, lane: Lane, value: u8) -> bool {
    let has = host!(ffi::has_flag(account.get(), u32::from(lane.0), u32::from(value)), |state| {
        state.has_flag(account.get(), u32::from(lane.0), u32::from(value))
    });
    has != 0
}

/// Sets `lane` on `account` to `value`. Writing the value a lane already
/// holds records nothing; an account beyond the ledger's capacity is
/// ignored. A failed transaction restores the lane (but see the
/// `flag-rollback` lint: writing one account's flags twice in a call that
/// then fails leaves the first write on a real server).
#[inline(always)]
pub fn set_flag(account: AccountId, lane: Lane, value: u8) {
    host!(ffi::set_flag(account.get(), u32::from(lane.0), u32::from(value)), |state| {
        state.set_flag(account.get(), u32::from(lane.0), u32::from(value))
    })
}

/// One component of a KV key: an integer below 2^31, or a constant (see
/// [`constant`]); bit 31 tells them apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KeyPart(u32);

/// An integer too large for a key component (2^31 or more would read as a
/// constant). As a [`Status`] it is 5, INVALID_OPERATION.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyPartTooLarge(pub u64);

impl From<KeyPartTooLarge> for Status {
    fn from(_: KeyPartTooLarge) -> Status {
        Status::INVALID_OPERATION
    }
}

impl core::fmt::Display for KeyPartTooLarge {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{} is too large for a KV key component: integers must be below 2^31", self.0)
    }
}

impl KeyPart {
    /// The component 0 (what [`key`] pads with).
    pub const ZERO: KeyPart = KeyPart(0);

    /// An integer component.
    ///
    /// # Errors
    ///
    /// [`KeyPartTooLarge`] for 2^31 or more.
    pub const fn int(value: u64) -> Result<KeyPart, KeyPartTooLarge> {
        if value >= CONSTANT_BIT as u64 { Err(KeyPartTooLarge(value)) } else { Ok(KeyPart(value as u32)) }
    }

    /// An account id as a component.
    ///
    /// # Errors
    ///
    /// [`KeyPartTooLarge`] for an id of 2^31 or more.
    pub const fn account(account: AccountId) -> Result<KeyPart, KeyPartTooLarge> {
        KeyPart::int(account.get())
    }

    /// Whether it names a constant.
    pub const fn is_constant(self) -> bool {
        self.0 & CONSTANT_BIT != 0
    }

    /// The 32 bits the ledger receives.
    pub const fn raw(self) -> u32 {
        self.0
    }
}

/// A KV key: four components.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Key([KeyPart; 4]);

impl Key {
    /// The four components as the ledger receives them.
    pub const fn raw(self) -> [u32; 4] {
        [self.0[0].0, self.0[1].0, self.0[2].0, self.0[3].0]
    }
}

/// A key from up to four components, zero-padded: `[a, b]` is `a/b/0/0`.
/// More than four does not compile.
///
/// ```
/// use ledger_guest::v2::{KeyPart, key};
/// let k = key([KeyPart::int(7).unwrap()]);
/// assert_eq!(k.raw(), [7, 0, 0, 0]);
/// ```
pub const fn key<const N: usize>(parts: [KeyPart; N]) -> Key {
    const { assert!(N <= 4, "a KV key has at most four components") };
    // Straight-line on purpose: a loop here survives `opt-level = "z"`.
    Key([
        if N > 0 { parts[0] } else { KeyPart::ZERO },
        if N > 1 { parts[1] } else { KeyPart::ZERO },
        if N > 2 { parts[2] } else { KeyPart::ZERO },
        if N > 3 { parts[3] } else { KeyPart::ZERO },
    ])
}

/// The value under `key`; 0 when none was written.
#[inline(always)]
pub fn kv_get(key: Key) -> i64 {
    let [a, b, c, d] = key.raw();
    host!(ffi::kv_get(a, b, c, d), |state| state.kv_get([a, b, c, d]))
}

/// Writes `value` under `key`. Every call records a write (and counts
/// towards the transaction's 65,535), an unchanged value too.
#[inline(always)]
pub fn kv_set(key: Key, value: i64) {
    let [a, b, c, d] = key.raw();
    host!(ffi::kv_set(a, b, c, d, value), |state| state.kv_set([a, b, c, d], value))
}

/// Defines the constant `name` (at most 32 bytes), inside
/// [`#[register]`](register) only; defining one that exists does nothing.
/// Elsewhere the call stops the function with status 8; a longer name with
/// status 10.
#[inline(always)]
pub fn register_constant(name: &CStr) {
    #[cfg(target_arch = "wasm32")]
    // SAFETY: the pointer is to a NUL-terminated name that outlives the call.
    unsafe {
        ffi::kv_register_constant(name.as_ptr() as u32)
    }
    #[cfg(not(target_arch = "wasm32"))]
    testing::stop_on_trap("kv_register_constant", name, |state| state.kv_register_constant(name.to_bytes()))
}

/// The constant `name` as a key component; the ledger looks it up on every
/// call (do not keep it in a `static`: the lint `constant-cached` warns).
/// Stops the function with status 9 when no `register()` defined it, and
/// with status 8 inside `register()`.
#[inline(always)]
pub fn constant(name: &CStr) -> KeyPart {
    #[cfg(target_arch = "wasm32")]
    // SAFETY: the pointer is to a NUL-terminated name that outlives the call.
    let id = unsafe { ffi::kv_get_constant(name.as_ptr() as u32) };
    #[cfg(not(target_arch = "wasm32"))]
    let id = testing::stop_on_trap("kv_get_constant", name, |state| state.kv_get_constant(name.to_bytes()));
    KeyPart(id)
}
