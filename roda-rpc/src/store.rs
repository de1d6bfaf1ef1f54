//! The dev server's data directory (`cargo roda dev --data-dir`): the seed's layout
//! (`functions/{name}_v{N}.wasm`, a 0-byte file for an unregister) plus a
//! checksummed, append-only log of registrations and transactions, fsynced
//! before every reply. Recovery replays the log into a fresh ledger (a
//! transaction's recorded effects, never a function run again) and refuses
//! to start when a binary is missing or its CRC differs.
//!
//! A log frame is `len: u32 | crc32c(len): u32 | crc32c(payload): u32 |
//! payload` (little-endian). Only the last frame may be incomplete (a write
//! cut short, never acknowledged): it is dropped. Anything else that fails a
//! checksum refuses to start.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use ledger_core::{Ledger, LedgerConfig, Operation, TransactionRecord};
use serde::{Deserialize, Serialize};

/// One log record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Record {
    /// A registration or override.
    Register {
        /// Name.
        name: String,
        /// Version.
        version: u32,
        /// CRC32C of `functions/{name}_v{version}.wasm`.
        crc32c: u32,
    },
    /// An unregister (the 0-byte marker file).
    Unregister {
        /// Name.
        name: String,
        /// The marker's version.
        version: u32,
    },
    /// A processed operation and its effects.
    Transaction {
        /// The operation, for audit.
        op: Operation,
        /// What it did.
        record: TransactionRecord,
    },
}

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
    /// The ledger itself could not be set up.
    #[error(transparent)]
    Setup(#[from] ledger_core::SetupError),
}

/// The log file's name inside the data directory.
pub const LOG_FILE: &str = "ledger.log";

/// An open data directory.
pub struct Store {
    dir: PathBuf,
    log: File,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io { path: path.to_path_buf(), source }
}

/// The file a version of a function lives in.
pub fn function_path(dir: &Path, name: &str, version: u32) -> PathBuf {
    dir.join("functions").join(format!("{name}_v{version}.wasm"))
}

impl Store {
    /// Opens (or creates) a data directory and replays it into a new ledger.
    pub fn open(dir: &Path, config: LedgerConfig) -> Result<(Store, Ledger), StoreError> {
        std::fs::create_dir_all(dir.join("functions")).map_err(io(dir))?;
        let log_path = dir.join(LOG_FILE);
        let mut log = OpenOptions::new().create(true).read(true).append(true).open(&log_path).map_err(io(&log_path))?;
        // A new log file must survive a crash too: sync its directory entry.
        File::open(dir).and_then(|d| d.sync_all()).map_err(io(dir))?;
        let mut bytes = Vec::new();
        log.read_to_end(&mut bytes).map_err(io(&log_path))?;
        let (records, good_len) = decode(&bytes, &log_path)?;
        if good_len < bytes.len() {
            // A torn tail: a record whose write never finished, so it was
            // never acknowledged. Drop it.
            log.set_len(good_len as u64).map_err(io(&log_path))?;
            log.sync_all().map_err(io(&log_path))?;
        }
        let mut ledger = Ledger::new(config)?;
        for record in records {
            replay(dir, &mut ledger, record)?;
        }
        Ok((Store { dir: dir.to_path_buf(), log }, ledger))
    }

    /// Writes a function's binary atomically: temp file, fsync, rename,
    /// fsync of the directory. An unregister writes an empty file.
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
        write().map_err(io(&path))
    }

    /// Appends a record and fsyncs it.
    pub fn append(&mut self, record: &Record) -> Result<(), StoreError> {
        let payload = serde_json::to_vec(record).expect("records serialise");
        let len = (payload.len() as u32).to_le_bytes();
        let mut frame = Vec::with_capacity(payload.len() + HEADER);
        frame.extend_from_slice(&len);
        frame.extend_from_slice(&crc32c::crc32c(&len).to_le_bytes());
        frame.extend_from_slice(&crc32c::crc32c(&payload).to_le_bytes());
        frame.extend_from_slice(&payload);
        let path = self.dir.join(LOG_FILE);
        self.log.write_all(&frame).map_err(io(&path))?;
        self.log.sync_data().map_err(io(&path))
    }
}

/// Bytes before a frame's payload.
const HEADER: usize = 12;

fn le_u32(bytes: &[u8]) -> u32 {
    u32::from_le_bytes(bytes.try_into().expect("4 bytes"))
}

/// Splits the log into records; returns them and the length of the valid
/// prefix (shorter than the log only when its last frame is incomplete).
fn decode(bytes: &[u8], path: &Path) -> Result<(Vec<Record>, usize), StoreError> {
    let mut records = Vec::new();
    let mut at = 0usize;
    while at < bytes.len() {
        let corrupt = |why: &str| StoreError::Corrupt { path: path.into(), offset: at as u64, why: why.into() };
        let Some(header) = bytes.get(at..at + HEADER) else { break };
        if crc32c::crc32c(&header[..4]) != le_u32(&header[4..8]) {
            return Err(corrupt("its length fails its checksum"));
        }
        let len = le_u32(&header[..4]) as usize;
        let end = at + HEADER + len;
        let Some(payload) = bytes.get(at + HEADER..end) else { break };
        if crc32c::crc32c(payload) != le_u32(&header[8..]) {
            if end == bytes.len() {
                break; // the last write was cut short
            }
            return Err(corrupt("its contents fail their checksum"));
        }
        let record: Record = serde_json::from_slice(payload).map_err(|e| corrupt(&e.to_string()))?;
        records.push(record);
        at = end;
    }
    Ok((records, at))
}

fn replay(dir: &Path, ledger: &mut Ledger, record: Record) -> Result<(), StoreError> {
    match record {
        Record::Register { name, version, crc32c } => {
            let path = function_path(dir, &name, version);
            let bytes = match std::fs::read(&path) {
                Ok(bytes) => bytes,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    return Err(StoreError::MissingBinary { name, version, path });
                }
                Err(e) => return Err(StoreError::Io { path, source: e }),
            };
            let found = crc32c::crc32c(&bytes);
            if found != crc32c {
                return Err(StoreError::CrcMismatch { name, version, path, expected: crc32c, found });
            }
            let registered = ledger
                .register_function(&name, &bytes, true)
                .map_err(|e| StoreError::Diverged(format!("`{name}` v{version} no longer registers: {e}")))?;
            if registered.version != version {
                return Err(StoreError::Diverged(format!(
                    "`{name}` replays as v{}, the log says v{version}",
                    registered.version
                )));
            }
        }
        Record::Unregister { name, version } => {
            let replayed = ledger.unregister_function(&name).map_err(|e| StoreError::Diverged(e.to_string()))?;
            if replayed != version {
                return Err(StoreError::Diverged(format!(
                    "unregister of `{name}` replays as v{replayed}, the log says v{version}"
                )));
            }
        }
        Record::Transaction { record, .. } => {
            ledger.restore(&record).map_err(|e| StoreError::Diverged(e.to_string()))?;
        }
    }
    Ok(())
}
