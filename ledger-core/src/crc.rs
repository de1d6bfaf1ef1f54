//! CRC32C, the checksum a server reports for every binary.

/// CRC32C (Castagnoli) of `bytes`, as `RegisterFunctionResponse.crc32c` and
/// the `fnw\n` transaction tag carry it.
///
/// ```
/// assert_eq!(ledger_core::crc32c(b"123456789"), 0xe306_9283);
/// ```
pub fn crc32c(bytes: &[u8]) -> u32 {
    crc32c::crc32c(bytes)
}
