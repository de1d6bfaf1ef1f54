//! The dev server's data directory (`cargo roda dev --data-dir`): the seed's
//! layout (`functions/{name}_v{N}.wasm`, a 0-byte file for an unregister)
//! plus a checksummed, append-only log of registrations and transactions,
//! fsynced before every reply. Recovery streams the log into a fresh ledger
//! (a transaction's recorded effects, never a function run again) and
//! refuses to start when a binary is missing or its CRC differs.
//!
//! A log frame is `len: u32 | crc32c(len): u32 | crc32c(payload): u32 |
//! payload` (little-endian). Damage after the last intact frame is a write
//! that never finished (cut short, or zero-filled by a power loss), never
//! acknowledged: it is dropped and reported in [`Recovery`]. Damage with an
//! intact frame after it refuses to start.
//!
//! One server at a time: the directory is locked (`lock`) while open.
//! Function names differ in case (`fee`, `Fee`) but a file system may not,
//! so each upper-case letter is written as `^` and the lower-case letter
//! (`Fee` -> `functions/^fee_v1.wasm`): all-lower-case names keep the
//! seed's file names. A directory written before this rule (`Fee_v1.wasm`)
//! is renamed to it at start, once its CRC matches the log, and the
//! rename reported in [`Recovery::renamed`].

use std::fs::{File, OpenOptions};
use std::io::{BufReader, ErrorKind, Read, Seek, SeekFrom, Write};
use std::marker::PhantomData;
use std::path::{Path, PathBuf};

use ledger_core::{Engine, Ledger, LedgerConfig, RestoreError};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// An engine whose log records a data directory can hold: every engine,
/// with ledger-core's `serde` feature (which this crate turns on).
pub trait Durable: Engine<LogRecord: Serialize + DeserializeOwned> {}

impl<E: Engine<LogRecord: Serialize + DeserializeOwned>> Durable for E {}

/// Why the data directory cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// An I/O error.
    #[error("{}: {source}", .path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The log is damaged before its end.
    #[error("{}: record at byte {offset} is damaged ({why}) and more records follow; the log cannot be trusted. Restore it from a backup", .path.display())]
    Corrupt {
        /// The log.
        path: PathBuf,
        /// Where.
        offset: u64,
        /// What.
        why: String,
    },
    /// A registered binary is gone.
    #[error("{} is missing, but the log registers `{name}` v{version}: restore the file from a backup; the server will not start with a registry that differs from its log", .path.display())]
    MissingBinary {
        /// Name.
        name: String,
        /// Version.
        version: u32,
        /// The expected file.
        path: PathBuf,
    },
    /// A registered binary changed on disk.
    #[error("{} has CRC32C {found:08x}, but the log registers `{name}` v{version} with {expected:08x}: the file was changed or corrupted; restore it from a backup", .path.display())]
    CrcMismatch {
        /// Name.
        name: String,
        /// Version.
        version: u32,
        /// The file.
        path: PathBuf,
        /// CRC in the log.
        expected: u32,
        /// CRC on disk.
        found: u32,
    },
    /// Replaying the log did not give what the log says.
    #[error("replaying the log diverged: {0}")]
    Diverged(String),
    /// Another server has the directory open.
    #[error("{} is in use by another server (it holds {}): stop that server first, or pass another --data-dir", .dir.display(), .dir.join(LOCK_FILE).display())]
    Locked {
        /// The data directory.
        dir: PathBuf,
    },
    /// The log moves an account the ledger does not have.
    #[error("the log moves account {account}, but accounts are 0..{max_accounts}: restart with --max-accounts {} or more", .account + 1)]
    AccountOutOfRange {
        /// The account.
        account: u64,
        /// The configured number of accounts.
        max_accounts: u64,
    },
    /// No room for the log (a full disk, a quota or a file size limit): the
    /// record was not written, and the log is as it was before it.
    #[error("{}: no room to write (the disk is full, or a quota or file size limit is reached); the last request was not recorded (nor acknowledged). Free space, then restart the server", .path.display())]
    DiskFull {
        /// The log.
        path: PathBuf,
    },
    /// The ledger itself could not be set up.
    #[error(transparent)]
    Setup(#[from] ledger_core::SetupError),
    /// The directory holds another ABI profile's ledger.
    #[error("{} holds an ABI {found} ledger (its `abi` file says so), not {wanted}: serve it with `cargo roda dev --abi {found}`, or pass another --data-dir", .dir.display())]
    WrongAbi {
        /// The data directory.
        dir: PathBuf,
        /// The profile it holds.
        found: String,
        /// The profile asked for.
        wanted: &'static str,
    },
}

/// The log file's name inside the data directory.
pub const LOG_FILE: &str = "ledger.log";

/// The lock file's name inside the data directory.
pub const LOCK_FILE: &str = "lock";

/// The file naming the ABI profile (`v1`, `v2`) of the ledger a data
/// directory holds; a directory without one, written before it existed,
/// holds v1.
pub const ABI_FILE: &str = "abi";

/// The largest log record accepted: far above any valid one (a transaction
/// has at most 255 entries), far below what a damaged length could claim.
const MAX_RECORD_LEN: usize = 1 << 20;

/// What recovery found and did, for the caller to report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recovery {
    /// Records replayed.
    pub records: u64,
    /// A damaged tail that was cut off.
    pub dropped_tail: Option<DroppedTail>,
    /// Binaries found under their older, case-sensitive file name and
    /// renamed to [`function_path`]'s: `(from, to)`.
    pub renamed: Vec<(PathBuf, PathBuf)>,
}

/// The unfinished write at the end of the log that recovery cut off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DroppedTail {
    /// Where it started (the log's length now).
    pub offset: u64,
    /// How many bytes were dropped.
    pub len: u64,
}

impl std::fmt::Display for DroppedTail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "dropped {} damaged bytes at the end of the log (from byte {}): a write that never finished, so never acknowledged",
            self.len, self.offset
        )
    }
}

/// An open data directory of an `E` ledger: its log holds `E`'s
/// [`LogRecord`](Engine::LogRecord)s.
pub struct Store<E = Ledger> {
    dir: PathBuf,
    log: File,
    /// The log's length: every byte before it is an intact frame.
    len: u64,
    /// Held for as long as the store is open; closing it unlocks.
    _lock: File,
    ledger: PhantomData<fn() -> E>,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io { path: path.to_path_buf(), source }
}

/// The file a version of a function lives in: unique even where the file
/// system ignores case (an upper-case letter is `^` and the letter).
///
/// ```
/// use std::path::Path;
/// use roda_rpc::store::function_path;
///
/// assert_eq!(function_path(Path::new("d"), "fee", 1), Path::new("d/functions/fee_v1.wasm"));
/// assert_eq!(function_path(Path::new("d"), "Fee", 1), Path::new("d/functions/^fee_v1.wasm"));
/// ```
pub fn function_path(dir: &Path, name: &str, version: u32) -> PathBuf {
    let mut file = String::with_capacity(name.len() + 16);
    for c in name.chars() {
        if c.is_ascii_uppercase() {
            file.push('^');
        }
        file.push(c.to_ascii_lowercase());
    }
    dir.join("functions").join(format!("{file}_v{version}.wasm"))
}

impl<E: Durable> Store<E> {
    /// Opens (or creates) a data directory, locks it, and replays its log
    /// into a new ledger.
    ///
    /// # Errors
    ///
    /// [`StoreError::Locked`] when another server has it open,
    /// [`StoreError::WrongAbi`] when it holds another profile's ledger; the
    /// other variants for damage before the log's last intact record, a
    /// missing or changed binary, a replay that diverges, or (v1) an account
    /// beyond `config.max_accounts`.
    pub fn open(dir: &Path, config: LedgerConfig) -> Result<(Store<E>, E, Recovery), StoreError> {
        std::fs::create_dir_all(dir.join("functions")).map_err(io(dir))?;
        let lock_path = dir.join(LOCK_FILE);
        let lock =
            OpenOptions::new().create(true).truncate(false).write(true).open(&lock_path).map_err(io(&lock_path))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => return Err(StoreError::Locked { dir: dir.to_path_buf() }),
            Err(std::fs::TryLockError::Error(e)) => return Err(StoreError::Io { path: lock_path, source: e }),
        }
        let log_path = dir.join(LOG_FILE);
        let mut log = OpenOptions::new().create(true).read(true).append(true).open(&log_path).map_err(io(&log_path))?;
        check_abi(dir, E::PROFILE.name, log.metadata().map_err(io(&log_path))?.len())?;
        // A new log file must survive a crash too: sync its directory entry.
        File::open(dir).and_then(|d| d.sync_all()).map_err(io(dir))?;
        let mut ledger = E::new(config)?;
        let mut recovery = Recovery::default();
        let mut reader = BufReader::new(&mut log);
        let mut at = 0u64;
        loop {
            match read_frame(&mut reader).map_err(io(&log_path))? {
                Frame::End => break,
                Frame::Record(payload) => {
                    let record: E::LogRecord = serde_json::from_slice(&payload).map_err(|e| StoreError::Corrupt {
                        path: log_path.clone(),
                        offset: at,
                        why: e.to_string(),
                    })?;
                    let binary = match E::binary_needed(&record) {
                        Some(f) => Some(recorded_binary(dir, &f.name, f.version, f.crc32c, &mut recovery)?),
                        None => None,
                    };
                    ledger.restore(&record, binary.as_deref()).map_err(|error| match error {
                        RestoreError::AccountOutOfRange { account, max_accounts } => {
                            StoreError::AccountOutOfRange { account, max_accounts }
                        }
                        other => StoreError::Diverged(other.to_string()),
                    })?;
                    recovery.records += 1;
                    at += (HEADER + payload.len()) as u64;
                }
                Frame::Damaged(why) => {
                    reader.seek(SeekFrom::Start(at + 1)).map_err(io(&log_path))?;
                    let mut rest = Vec::new();
                    reader.read_to_end(&mut rest).map_err(io(&log_path))?;
                    if (0..rest.len()).any(|start| intact_frame_at(&rest[start..])) {
                        return Err(StoreError::Corrupt { path: log_path, offset: at, why });
                    }
                    recovery.dropped_tail = Some(DroppedTail { offset: at, len: rest.len() as u64 + 1 });
                    break;
                }
            }
        }
        drop(reader);
        if recovery.dropped_tail.is_some() {
            log.set_len(at).map_err(io(&log_path))?;
            log.sync_all().map_err(io(&log_path))?;
        }
        Ok((Store { dir: dir.to_path_buf(), log, len: at, _lock: lock, ledger: PhantomData }, ledger, recovery))
    }

    /// Writes a function's binary atomically: temp file, fsync, rename,
    /// fsync of the directory. An unregister writes an empty file.
    ///
    /// # Errors
    ///
    /// [`StoreError::Io`] when the file cannot be written.
    pub fn write_function(&self, name: &str, version: u32, bytes: &[u8]) -> Result<(), StoreError> {
        let path = function_path(&self.dir, name, version);
        let tmp = path.with_extension("wasm.tmp");
        let write = || -> std::io::Result<()> {
            let mut file = File::create(&tmp)?;
            file.write_all(bytes)?;
            file.sync_all()?;
            std::fs::rename(&tmp, &path)?;
            File::open(self.dir.join("functions"))?.sync_all()
        };
        write().map_err(|source| {
            let _ = std::fs::remove_file(&tmp);
            StoreError::Io { path, source }
        })
    }

    /// Appends a record and fsyncs it. On failure the log is cut back to
    /// its last intact record, so it stays readable.
    ///
    /// # Errors
    ///
    /// [`StoreError::DiskFull`] when the disk is full, [`StoreError::Io`]
    /// for other write errors.
    pub fn append(&mut self, record: &E::LogRecord) -> Result<(), StoreError> {
        let payload = serde_json::to_vec(record).expect("records serialise");
        let len = (payload.len() as u32).to_le_bytes();
        let mut frame = Vec::with_capacity(payload.len() + HEADER);
        frame.extend_from_slice(&len);
        frame.extend_from_slice(&crc32c::crc32c(&len).to_le_bytes());
        frame.extend_from_slice(&crc32c::crc32c(&payload).to_le_bytes());
        frame.extend_from_slice(&payload);
        let path = self.dir.join(LOG_FILE);
        let written = self.log.write_all(&frame).and_then(|()| self.log.sync_data());
        match written {
            Ok(()) => {
                self.len += frame.len() as u64;
                Ok(())
            }
            Err(source) => {
                // Best effort: a partial frame left behind is a torn tail,
                // which the next start drops anyway.
                let _ = self.log.set_len(self.len).and_then(|()| self.log.sync_data());
                match source.kind() {
                    ErrorKind::StorageFull | ErrorKind::FileTooLarge | ErrorKind::QuotaExceeded => {
                        Err(StoreError::DiskFull { path })
                    }
                    _ => Err(StoreError::Io { path, source }),
                }
            }
        }
    }
}

/// Bytes before a frame's payload.
const HEADER: usize = 12;

fn le_u32(bytes: &[u8]) -> u32 {
    u32::from_le_bytes(bytes.try_into().expect("4 bytes"))
}

/// One step through the log.
enum Frame {
    /// A frame whose checksums hold.
    Record(Vec<u8>),
    /// The log ends here, exactly at a frame boundary.
    End,
    /// The frame here is damaged or incomplete: why.
    Damaged(String),
}

fn read_frame(reader: &mut impl Read) -> std::io::Result<Frame> {
    let mut header = [0u8; HEADER];
    let read = read_up_to(reader, &mut header)?;
    if read == 0 {
        return Ok(Frame::End);
    }
    if read < HEADER {
        return Ok(Frame::Damaged("the log ends inside its header".into()));
    }
    if crc32c::crc32c(&header[..4]) != le_u32(&header[4..8]) {
        return Ok(Frame::Damaged("its length fails its checksum".into()));
    }
    let len = le_u32(&header[..4]) as usize;
    if len > MAX_RECORD_LEN {
        return Ok(Frame::Damaged(format!("its length {len} is over {MAX_RECORD_LEN}")));
    }
    let mut payload = vec![0u8; len];
    if read_up_to(reader, &mut payload)? < len {
        return Ok(Frame::Damaged("the log ends inside its contents".into()));
    }
    if crc32c::crc32c(&payload) != le_u32(&header[8..]) {
        return Ok(Frame::Damaged("its contents fail their checksum".into()));
    }
    Ok(Frame::Record(payload))
}

/// Fills `buf` as far as the reader goes; returns how much was read.
fn read_up_to(reader: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// Whether an intact frame starts at the beginning of `bytes`.
fn intact_frame_at(bytes: &[u8]) -> bool {
    let Some(header) = bytes.get(..HEADER) else { return false };
    if crc32c::crc32c(&header[..4]) != le_u32(&header[4..8]) {
        return false;
    }
    let len = le_u32(&header[..4]) as usize;
    len <= MAX_RECORD_LEN
        && bytes.get(HEADER..HEADER + len).is_some_and(|payload| crc32c::crc32c(payload) == le_u32(&header[8..]))
}

/// A binary written under the older file name (`functions/{name}_v{N}.wasm`
/// whatever its case), moved to [`function_path`]'s name when its CRC is
/// the log's. `None` when there is no such file or it is another binary
/// (on a file system that folds case, `fee` and `Fee` shared one file).
fn rename_legacy(
    dir: &Path,
    name: &str,
    version: u32,
    crc32c: u32,
    path: &Path,
    recovery: &mut Recovery,
) -> Result<Option<Vec<u8>>, StoreError> {
    let legacy = dir.join("functions").join(format!("{name}_v{version}.wasm"));
    if legacy == path {
        return Ok(None);
    }
    let bytes = match std::fs::read(&legacy) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(StoreError::Io { path: legacy, source: e }),
    };
    if crc32c::crc32c(&bytes) != crc32c {
        return Ok(None);
    }
    std::fs::rename(&legacy, path).map_err(io(path))?;
    let functions = dir.join("functions");
    File::open(&functions).and_then(|d| d.sync_all()).map_err(io(&functions))?;
    recovery.renamed.push((legacy, path.to_path_buf()));
    Ok(Some(bytes))
}

/// Refuses a directory that holds another profile's ledger; names the
/// profile of a new one. `log_len` is the log's length (a directory with a
/// log and no `abi` file predates the file and holds v1).
fn check_abi(dir: &Path, wanted: &'static str, log_len: u64) -> Result<(), StoreError> {
    let path = dir.join(ABI_FILE);
    let found = match std::fs::read_to_string(&path) {
        Ok(text) => text.trim().to_owned(),
        Err(e) if e.kind() == ErrorKind::NotFound && log_len > 0 => "v1".to_owned(),
        Err(e) if e.kind() == ErrorKind::NotFound => {
            let tmp = path.with_extension("tmp");
            let write = || -> std::io::Result<()> {
                let mut file = File::create(&tmp)?;
                writeln!(file, "{wanted}")?;
                file.sync_all()?;
                std::fs::rename(&tmp, &path)
            };
            write().map_err(io(&path))?;
            wanted.to_owned()
        }
        Err(e) => return Err(StoreError::Io { path, source: e }),
    };
    match found == wanted {
        true => Ok(()),
        false => Err(StoreError::WrongAbi { dir: dir.to_path_buf(), found, wanted }),
    }
}

/// The binary a registration recorded, checked against its CRC (and moved
/// from its legacy name when found there).
fn recorded_binary(
    dir: &Path,
    name: &str,
    version: u32,
    crc32c: u32,
    recovery: &mut Recovery,
) -> Result<Vec<u8>, StoreError> {
    let path = function_path(dir, name, version);
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            match rename_legacy(dir, name, version, crc32c, &path, recovery)? {
                Some(bytes) => bytes,
                None => return Err(StoreError::MissingBinary { name: name.to_owned(), version, path }),
            }
        }
        Err(e) => return Err(StoreError::Io { path, source: e }),
    };
    let found = crc32c::crc32c(&bytes);
    if found != crc32c {
        return Err(StoreError::CrcMismatch { name: name.to_owned(), version, path, expected: crc32c, found });
    }
    Ok(bytes)
}
