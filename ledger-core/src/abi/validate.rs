//! Static validation of a function binary against the ABI table.
//!
//! One wasmparser pass with an explicit feature set. Every violation is
//! collected (not just the first), each with a stable [`Rule`] code, what was
//! found, what is allowed and how to fix it.

use std::fmt::Write as _;

use wasmparser::{ExternalKind, FuncType, Parser, Payload, TypeRef, ValidPayload, Validator, WasmFeatures};

use super::{ENTRY_POINT, MAX_BINARY_SIZE, PROFILES, Profile, V1, ValType, write_signature};
use crate::crc::crc32c;

/// The WebAssembly features a server accepts: upstream runs wasmtime 26
/// (cargo features `cranelift` and `runtime` only) with its default
/// configuration, which is WebAssembly 2.0 plus multi-memory, relaxed SIMD,
/// tail calls and extended constant expressions. The simulator's engine
/// accepts the same set.
pub const SERVER_FEATURES: WasmFeatures = WasmFeatures::MUTABLE_GLOBAL
    .union(WasmFeatures::SATURATING_FLOAT_TO_INT)
    .union(WasmFeatures::SIGN_EXTENSION)
    .union(WasmFeatures::REFERENCE_TYPES)
    .union(WasmFeatures::MULTI_VALUE)
    .union(WasmFeatures::BULK_MEMORY)
    .union(WasmFeatures::SIMD)
    .union(WasmFeatures::RELAXED_SIMD)
    .union(WasmFeatures::TAIL_CALL)
    .union(WasmFeatures::MULTI_MEMORY)
    .union(WasmFeatures::EXTENDED_CONST)
    .union(WasmFeatures::FLOATS);

/// The features the validator parses: the server's, plus threads, so that
/// shared memory and atomics are reported by name ([`Rule::SharedMemory`],
/// [`Rule::Atomics`]). Any other feature is reported by name too
/// ([`Rule::UnsupportedFeature`]).
pub const FEATURES: WasmFeatures = SERVER_FEATURES.union(WasmFeatures::THREADS);

/// How serious a violation is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// A hazard: the module works, but may not behave as its author expects.
    Warning,
    /// The module must not be registered.
    Error,
}

macro_rules! rules {
    ($( #[doc = $doc:literal] $variant:ident = $code:literal, $severity:ident, server: $server:literal, $title:literal, fix: $fix:literal; )*) => {
        /// A validation rule. Its [`code`](Rule::code) is stable: scripts and
        /// CI configurations may match on it.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum Rule {
            $( #[doc = $doc] $variant, )*
        }

        impl Rule {
            /// Every rule, in the order reports list them.
            pub const ALL: &'static [Rule] = &[$(Rule::$variant),*];

            /// The stable, kebab-case code of the rule.
            pub const fn code(self) -> &'static str {
                match self { $(Rule::$variant => $code,)* }
            }

            /// Whether breaking the rule is an error or a warning.
            pub const fn severity(self) -> Severity {
                match self { $(Rule::$variant => Severity::$severity,)* }
            }

            /// Whether a roda-ledger server itself refuses such a module at
            /// registration. Rules it does not check let a bad module register
            /// and then fail every call with status 5.
            pub const fn server_enforced(self) -> bool {
                match self { $(Rule::$variant => $server,)* }
            }

            /// A one-line title for the rule.
            pub const fn title(self) -> &'static str {
                match self { $(Rule::$variant => $title,)* }
            }

            /// What breaks the rule, in a sentence.
            pub fn cause(self) -> &'static str {
                match self { $(Rule::$variant => $doc.trim(),)* }
            }

            /// How to fix a module that breaks it, in general (a report's
            /// [`Violation::fix`] says it for the module at hand).
            pub const fn fix(self) -> &'static str {
                match self { $(Rule::$variant => $fix,)* }
            }
        }
    };
}

rules! {
    /// The bytes are not a valid WebAssembly module (empty, truncated, malformed or ill-typed).
    Malformed = "malformed", Error, server: true, "not a valid WebAssembly module", fix: "build the module with a WebAssembly toolchain (`cargo roda build`) and check the file is the `.wasm` it wrote, not a text or a truncated copy";
    /// A WebAssembly feature the server's engine does not accept (memory64, GC, exceptions, ...).
    UnsupportedFeature = "unsupported-feature", Error, server: true, "WebAssembly feature the server refuses", fix: "build without the feature: for Rust, the `wasm32-unknown-unknown` target with default features; for AssemblyScript, no `--enable` flags";
    /// The binary is larger than a server accepts.
    TooLarge = "too-large", Error, server: true, "binary larger than 4 MiB", fix: "build in release with size optimisation (`opt-level = \"z\"`, `lto = true`, `strip = true`) and drop dependencies that pull in formatting or allocation";
    /// No `execute` export.
    MissingExecute = "missing-execute", Error, server: true, "no `execute` export", fix: "export a function named `execute` (Rust: `#[execute]`; AssemblyScript: `export function execute`)";
    /// `execute` is exported but is not a function.
    ExecuteNotFunction = "execute-not-function", Error, server: true, "`execute` is not a function", fix: "export a function under the name `execute`, not a global, memory or table";
    /// `execute` has the wrong signature.
    ExecuteSignature = "execute-signature", Error, server: true, "wrong `execute` signature", fix: "declare `execute` as eight `i64` parameters returning one `i32`; `#[execute]` in Rust writes it for you";
    /// An import from a module other than `ledger`.
    ForeignImport = "foreign-import", Error, server: false, "import from a module other than `ledger`", fix: "remove what pulls the import in (WASI, `std` printing, a JavaScript binding); a function may import from `ledger` only";
    /// `env.abort`, which AssemblyScript adds for `assert` and runtime errors.
    EnvAbort = "env-abort", Error, server: false, "AssemblyScript `env.abort` import", fix: "build AssemblyScript with `--use abort=` (the templates' `asconfig.json` does) and return a status instead of `assert`";
    /// A `ledger.*` import the ledger does not provide.
    UnknownHostImport = "unknown-host-import", Error, server: false, "unknown `ledger` import", fix: "import only what the profile's table lists (`docs/abi.md`, `docs/abi-v2.md`), or build for the other ABI with `--abi`";
    /// A `ledger.*` import declared with the wrong signature.
    HostImportSignature = "host-import-signature", Error, server: false, "host import with a wrong signature", fix: "declare the import with the table's signature; the SDKs' bindings (`ledger_guest`, the generated `ledger.ts`) have it right";
    /// An imported memory.
    ImportedMemory = "imported-memory", Error, server: false, "imported memory", fix: "let the module define its own memory (the default for Rust and AssemblyScript); remove `--import-memory`";
    /// An imported table.
    ImportedTable = "imported-table", Error, server: false, "imported table", fix: "let the module define its own table; remove `--import-table`";
    /// An imported global.
    ImportedGlobal = "imported-global", Error, server: false, "imported global", fix: "define the global in the module instead of importing it";
    /// A shared linear memory (the threads proposal).
    SharedMemory = "shared-memory", Error, server: true, "shared memory", fix: "build without the threads proposal (no `+atomics`, no shared memory)";
    /// Atomic instructions (the threads proposal).
    Atomics = "atomics", Error, server: true, "atomic instructions", fix: "build without the threads proposal (no `+atomics`)";
    /// A `start` function, which runs at instantiation, outside any transaction.
    StartFunction = "start-function", Error, server: false, "`start` function", fix: "move the work into `execute`; a module needs no `start` (remove `(start ...)` or the toolchain flag that adds one)";
    /// Floating-point instructions: NaN bit patterns differ between hosts.
    FloatInstructions = "float-instructions", Warning, server: false, "floating-point instructions", fix: "use integer arithmetic (amounts are integers; basis points for rates)";
    /// Relaxed SIMD instructions: their results differ between hosts.
    RelaxedSimd = "relaxed-simd", Warning, server: false, "relaxed SIMD instructions", fix: "build without relaxed SIMD (`-C target-feature=-relaxed-simd`)";
    /// Mutable globals other than the stack pointer: state may persist between calls.
    MutableGlobal = "mutable-global", Warning, server: false, "mutable global (state between calls)", fix: "keep no state between calls: compute from the parameters and the ledger every time (v2: keep state in KV)";
    /// Memories whose initial sizes add up to more than one instance may hold here.
    MemoryBudget = "memory-budget", Warning, server: false, "initial memories over 64 MiB", fix: "declare a smaller initial memory (a function needs one 64 KiB page or a few)";
    /// A binary whose CRC32C is 0, the CRC a server's log gives an unregister.
    ZeroCrc = "zero-crc", Error, server: false, "CRC32C of 0 (read back as an unregister)", fix: "change any byte of the module (a custom section, a version string): a server reads a CRC of 0 back as an unregister";
    /// v2: a `register` export that is not `() -> ()`.
    RegisterSignature = "register-signature", Error, server: true, "wrong `register` export (v2)", fix: "export `register` as a function with no parameters and no result; `#[register]` in Rust writes it for you";
    /// v2: constant verbs imported, but no exported `memory` to read names from.
    ConstantsNeedMemory = "constants-need-memory", Error, server: false, "constant verbs without an exported `memory` (v2)", fix: "export the module's memory as `memory` (the Rust SDK and the AssemblyScript templates do)";
    /// A `roda.interface` section (the interface manifest) that does not read as the format.
    Interface = "interface", Error, server: false, "unreadable interface manifest", fix: "rebuild with `cargo roda build` (the macros and `Roda.toml`'s `[interface]` write a valid one), or remove the `roda.interface` section";
    /// The interface manifest names an ABI other than the one the module is checked against.
    InterfaceAbi = "interface-abi", Warning, server: false, "manifest written for another ABI", fix: "build for the ABI the manifest names (Roda.toml's `abi`, `--abi`), or, in Rust, import `execute` from `ledger_guest::v2` for v2";
    /// v2: `kv_register_constant` imported, but no `register` export to call it from.
    RegisterOnlyImport = "register-only-import", Error, server: false, "`kv_register_constant` without a `register` export (v2)", fix: "export a `register` function that calls `kv_register_constant` (Rust: `#[register]`), or stop importing it";
}

impl std::fmt::Display for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// One broken rule, with everything a user needs to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The rule.
    pub rule: Rule,
    /// What the module contains.
    pub found: String,
    /// What the ABI allows instead.
    pub allowed: String,
    /// How to fix it.
    pub fix: String,
    /// Byte offset in the binary, where one applies.
    pub offset: Option<usize>,
}

impl Violation {
    /// The severity of the broken rule.
    pub fn severity(&self) -> Severity {
        self.rule.severity()
    }
}

impl std::fmt::Display for Violation {
    /// `error[missing-execute]: found ...; allowed: ...; fix: ...`
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let level = match self.severity() {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{level}[{}]: {}", self.rule.code(), self.found)?;
        if let Some(offset) = self.offset {
            write!(f, " (at byte {offset:#x})")?;
        }
        write!(f, "; allowed: {}; fix: {}", self.allowed, self.fix)
    }
}

/// An import the module declares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportInfo {
    /// Import module, e.g. `ledger`.
    pub module: String,
    /// Import name, e.g. `credit`.
    pub name: String,
    /// The kind and, for functions, the signature: `func (i64, i64) -> ()`.
    pub ty: String,
}

/// An export the module declares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportInfo {
    /// Export name.
    pub name: String,
    /// `func`, `memory`, `table`, `global` or `tag`.
    pub kind: &'static str,
}

/// The result of [`validate`]: every violation, plus what a user wants to see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationReport {
    /// Size of the binary in bytes.
    pub size: usize,
    /// CRC32C of the binary, as a server reports it.
    pub crc32c: u32,
    /// Imports, in declaration order.
    pub imports: Vec<ImportInfo>,
    /// Exports, in declaration order.
    pub exports: Vec<ExportInfo>,
    /// Every violation, errors and warnings.
    pub violations: Vec<Violation>,
    /// The profile the module was checked against.
    pub profile: &'static Profile,
}

impl ValidationReport {
    /// `true` when a roda-ledger server itself refuses the module at
    /// registration (a violation of a [`Rule::server_enforced`] rule).
    pub fn server_refuses(&self) -> bool {
        self.violations.iter().any(|v| v.rule.server_enforced())
    }

    /// `true` when no rule of severity [`Severity::Error`] is broken.
    pub fn is_valid(&self) -> bool {
        self.errors().next().is_none()
    }

    /// The errors.
    pub fn errors(&self) -> impl Iterator<Item = &Violation> {
        self.violations.iter().filter(|v| v.severity() == Severity::Error)
    }

    /// The warnings.
    pub fn warnings(&self) -> impl Iterator<Item = &Violation> {
        self.violations.iter().filter(|v| v.severity() == Severity::Warning)
    }

    /// Whether a rule is broken.
    pub fn has(&self, rule: Rule) -> bool {
        self.violations.iter().any(|v| v.rule == rule)
    }
}

/// Validates a function binary against the ABI.
///
/// Never panics, whatever the bytes. Collects every violation it can find: a
/// module that does not parse yields [`Rule::Malformed`] plus whatever the
/// sections before the fault already showed.
///
/// ```
/// use ledger_core::abi::{validate, Rule};
///
/// let wasm = wat::parse_str(r#"
///     (module
///       (import "ledger" "credit" (func (param i64 i64)))
///       (func (export "execute") (param i64 i64 i64 i64 i64 i64 i64 i64) (result i32)
///         i32.const 0))
/// "#).unwrap();
/// let report = validate(&wasm);
/// assert!(report.is_valid());
/// assert_eq!(report.imports[0].name, "credit");
///
/// let report = validate(b"\0asm");
/// assert!(report.has(Rule::Malformed));
/// ```
pub fn validate(bytes: &[u8]) -> ValidationReport {
    validate_for(bytes, &V1)
}

/// Validates a function binary against one profile's ABI ([`validate`] is
/// this for [`V1`]).
///
/// ```
/// use ledger_core::abi::{Rule, V1, V2, validate_for};
///
/// let wasm = wat::parse_str(r#"
///     (module
///       (import "ledger" "kv_set" (func (param i32 i32 i32 i32 i64)))
///       (func (export "execute") (param i64 i64 i64 i64 i64 i64 i64 i64) (result i32)
///         i32.const 0))
/// "#).unwrap();
/// assert!(validate_for(&wasm, &V2).is_valid());
/// assert!(validate_for(&wasm, &V1).has(Rule::UnknownHostImport));
/// ```
pub fn validate_for(bytes: &[u8], profile: &'static Profile) -> ValidationReport {
    let mut pass = Pass { profile: ProfileRef(profile), ..Pass::default() };
    pass.run(bytes);
    pass.finish(bytes)
}

/// The profiles a binary satisfies (no error), oldest first: what
/// `cargo roda validate` reports when no profile is named.
///
/// ```
/// let v1_only = wat::parse_str(r#"(module (func (export "execute") (param i64 i64 i64 i64 i64 i64 i64 i64) (result i32) i32.const 0))"#).unwrap();
/// let names: Vec<&str> = ledger_core::abi::satisfied_profiles(&v1_only).iter().map(|p| p.name).collect();
/// assert_eq!(names, ["v1", "v2"]);
/// ```
pub fn satisfied_profiles(bytes: &[u8]) -> Vec<&'static Profile> {
    PROFILES.iter().filter(|profile| validate_for(bytes, profile).is_valid()).collect()
}

/// The profile a binary is written for, read from the binary alone: the
/// one profile it satisfies; or, when it satisfies none, the oldest whose
/// host module offers every host import it declares and that knows every
/// optional export (`register`) it makes. `None` when several profiles accept it
/// (a module using only what both have works on either), or none fits.
///
/// ```
/// use ledger_core::abi::{V2, inferred_profile};
///
/// let kv = wat::parse_str(r#"(module
///   (import "ledger" "kv_set" (func (param i32 i32 i32 i32 i64)))
///   (func (export "execute") (param i64 i64 i64 i64 i64 i64 i64 i64) (result i32) i32.const 0))"#).unwrap();
/// assert_eq!(inferred_profile(&kv).map(|p| p.name), Some(V2.name));
/// let plain = wat::parse_str(r#"(module
///   (func (export "execute") (param i64 i64 i64 i64 i64 i64 i64 i64) (result i32) i32.const 0))"#).unwrap();
/// assert_eq!(inferred_profile(&plain), None, "v1 and v2 both accept it");
/// ```
pub fn inferred_profile(bytes: &[u8]) -> Option<&'static Profile> {
    match satisfied_profiles(bytes).as_slice() {
        [only] => return Some(only),
        [_, _, ..] => return None,
        [] => {}
    }
    let report = validate_for(bytes, &V1);
    PROFILES.iter().find(|profile| {
        let imports_fit = report.imports.iter().all(|import| {
            import.module == profile.host_module && profile.host_imports.iter().any(|h| h.name == import.name)
        });
        let optional = |p: &Profile, name: &str| p.optional_exports.iter().any(|o| o.name == name);
        let exports_fit = report.exports.iter().all(|export| {
            optional(profile, &export.name) || !PROFILES.iter().any(|other| optional(other, &export.name))
        });
        imports_fit && exports_fit && !report.imports.is_empty()
    })
}

/// The profile a pass checks against; [`V1`] by default.
struct ProfileRef(&'static Profile);

impl Default for ProfileRef {
    fn default() -> Self {
        ProfileRef(&V1)
    }
}

/// State of the single pass over the module.
#[derive(Default)]
struct Pass {
    profile: ProfileRef,
    /// `register`'s kind and index, once the export section is read.
    register: Option<(ExternalKind, u32)>,
    /// Whether the module exports a memory named as the profile's
    /// [`memory_export`](Profile::memory_export).
    memory_exported: bool,
    violations: Vec<Violation>,
    imports: Vec<ImportInfo>,
    exports: Vec<ExportInfo>,
    /// Function types from the type section.
    types: Vec<FuncType>,
    /// Type index of every function, imported ones first.
    func_types: Vec<u32>,
    /// Number of imported globals, so defined globals get their real index.
    imported_globals: u32,
    /// `execute`'s kind and index, once the export section is read.
    execute: Option<(ExternalKind, u32)>,
    /// Initial bytes of every memory the module defines, and
    /// where the first memory is.
    initial_bytes: (u64, Option<usize>),
    /// Whether the module parsed and validated to the end.
    complete: bool,
    ops: OpTallies,
}

/// How many times a family of instructions occurs, and where first.
#[derive(Default)]
struct OpTally {
    count: usize,
    first: Option<(usize, &'static str)>,
}

impl OpTally {
    fn record(&mut self, offset: usize, name: &'static str) {
        self.count += 1;
        self.first.get_or_insert((offset, name));
    }

    fn merge(&mut self, other: OpTally) {
        self.count += other.count;
        self.first = match (self.first, other.first) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }
}

/// The instruction families the rules count.
#[derive(Default)]
struct OpTallies {
    float: OpTally,
    atomic: OpTally,
    relaxed_simd: OpTally,
}

impl OpTallies {
    fn merge(&mut self, other: OpTallies) {
        self.float.merge(other.float);
        self.atomic.merge(other.atomic);
        self.relaxed_simd.merge(other.relaxed_simd);
    }
}

type Body<'a> = (wasmparser::FuncToValidate<wasmparser::ValidatorResources>, wasmparser::FunctionBody<'a>);

/// Validates every function body and counts the instruction families, on all
/// cores: function bodies are independent, and a 4 MiB module is mostly code.
fn check_bodies(bodies: Vec<Body<'_>>) -> wasmparser::Result<OpTallies> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(bodies.len().div_ceil(64)).max(1);
    let chunk = bodies.len().div_ceil(threads).max(1);
    let mut chunks = bodies.into_iter().peekable();
    let results: Vec<wasmparser::Result<OpTallies>> = std::thread::scope(|scope| {
        let mut handles = Vec::new();
        while chunks.peek().is_some() {
            let mine: Vec<Body<'_>> = chunks.by_ref().take(chunk).collect();
            handles.push(scope.spawn(move || check_chunk(mine)));
        }
        handles.into_iter().map(|h| h.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))).collect()
    });
    let mut tallies = OpTallies::default();
    let mut first_error: Option<wasmparser::BinaryReaderError> = None;
    for result in results {
        match result {
            Ok(t) => tallies.merge(t),
            Err(e) if first_error.as_ref().is_none_or(|f| e.offset() < f.offset()) => first_error = Some(e),
            Err(_) => {}
        }
    }
    first_error.map_or(Ok(tallies), Err)
}

fn check_chunk(bodies: Vec<Body<'_>>) -> wasmparser::Result<OpTallies> {
    let mut tallies = OpTallies::default();
    let mut allocs = wasmparser::FuncValidatorAllocations::default();
    for (func, body) in bodies {
        // One read of the operators serves both the validator and the tally.
        let mut func = func.into_validator(allocs);
        let mut reader = body.get_binary_reader();
        func.read_locals(&mut reader)?;
        reader.set_features(FEATURES);
        let mut ops = wasmparser::OperatorsReader::new(reader);
        while !ops.eof() {
            let offset = ops.original_position();
            let op = ops.read()?;
            func.op(offset, &op)?;
            match classify(&op) {
                OpClass::Plain => {}
                OpClass::Float(name) => tallies.float.record(offset, name),
                OpClass::Atomic(name) => tallies.atomic.record(offset, name),
                OpClass::RelaxedSimd(name) => tallies.relaxed_simd.record(offset, name),
            }
        }
        ops.finish()?;
        allocs = func.into_allocations();
    }
    Ok(tallies)
}

impl Pass {
    fn push(
        &mut self,
        rule: Rule,
        found: String,
        allowed: impl Into<String>,
        fix: impl Into<String>,
        offset: Option<usize>,
    ) {
        self.violations.push(Violation { rule, found, allowed: allowed.into(), fix: fix.into(), offset });
    }

    fn malformed(&mut self, err: &wasmparser::BinaryReaderError, bytes: &[u8]) {
        let features = features_needed(bytes);
        if !features.is_empty() {
            self.push(
                Rule::UnsupportedFeature,
                format!("the module needs {}", features.join(", ")),
                "WebAssembly 2.0 plus multi-memory, relaxed SIMD, tail calls and extended constant expressions: what the server's wasmtime 26 accepts",
                "build without the target features that enable them (for Rust, no `-C target-feature=+...` beyond the defaults of wasm32-unknown-unknown); the server refuses the module at registration",
                Some(err.offset()),
            );
            return;
        }
        self.push(
            Rule::Malformed,
            format!("the binary does not parse as WebAssembly: {}", err.message()),
            "a WebAssembly 2.0 module (with multi-memory, relaxed SIMD, tail calls and extended constant expressions)",
            "rebuild the function (`cargo roda build`); check that the file is the compiled .wasm and not truncated",
            Some(err.offset()),
        );
    }

    fn run(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            self.push(
                Rule::Malformed,
                "an empty file (0 bytes)".into(),
                "a WebAssembly module starting with `\\0asm`",
                "point at the compiled .wasm; rebuild it with `cargo roda build`",
                None,
            );
            return;
        }
        if !bytes.starts_with(b"\0asm") {
            let head = &bytes[..bytes.len().min(8)];
            let text: String =
                head.iter().map(|&b| if b.is_ascii_graphic() || b == b' ' { b as char } else { '.' }).collect();
            let hex: Vec<String> = head.iter().map(|b| format!("{b:02x}")).collect();
            self.push(
                Rule::Malformed,
                format!("not a WebAssembly module: it starts with `{text}` ({})", hex.join(" ")),
                "a WebAssembly module, which starts with `\\0asm` (00 61 73 6d)",
                "point at the compiled .wasm (`cargo roda build` prints its path), not a source or text file; a .wat file is taken as text by its extension",
                Some(0),
            );
            return;
        }
        if bytes.len() > MAX_BINARY_SIZE {
            self.push(
                Rule::TooLarge,
                format!("{} bytes", bytes.len()),
                format!("at most {MAX_BINARY_SIZE} bytes (4 MiB), the server's gRPC message limit"),
                "build with opt-level \"z\", lto and strip; remove dependencies that pull in formatting or allocation",
                None,
            );
        }
        let mut validator = Validator::new_with_features(FEATURES);
        let mut bodies = Vec::new();
        for payload in Parser::new(0).parse_all(bytes) {
            let payload = match payload {
                Ok(payload) => payload,
                Err(err) => return self.malformed(&err, bytes),
            };
            let valid = match validator.payload(&payload) {
                Ok(valid) => valid,
                Err(err) => return self.malformed(&err, bytes),
            };
            if let Err(err) = self.section(&payload) {
                return self.malformed(&err, bytes);
            }
            match valid {
                ValidPayload::Func(func, body) => bodies.push((func, body)),
                ValidPayload::End(_) => self.complete = true,
                _ => {}
            }
        }
        match check_bodies(bodies) {
            Ok(ops) => self.ops = ops,
            Err(err) => self.malformed(&err, bytes),
        }
    }

    fn section(&mut self, payload: &Payload<'_>) -> wasmparser::Result<()> {
        match payload {
            Payload::TypeSection(reader) => {
                for ty in reader.clone().into_iter_err_on_gc_types() {
                    self.types.push(ty?);
                }
            }
            Payload::ImportSection(reader) => {
                for import in reader.clone().into_imports_with_offsets() {
                    let (offset, import) = import?;
                    self.import(offset, &import);
                }
            }
            Payload::FunctionSection(reader) => {
                for ty in reader.clone() {
                    self.func_types.push(ty?);
                }
            }
            Payload::MemorySection(reader) => {
                for memory in reader.clone().into_iter_with_offsets() {
                    let (offset, memory) = memory?;
                    if memory.shared {
                        self.shared_memory(offset, "defines");
                    }
                    let page = 1u64 << memory.page_size_log2.unwrap_or(16);
                    self.initial_bytes.0 = self.initial_bytes.0.saturating_add(memory.initial.saturating_mul(page));
                    self.initial_bytes.1.get_or_insert(offset);
                }
            }
            Payload::GlobalSection(reader) => {
                for (i, global) in reader.clone().into_iter_with_offsets().enumerate() {
                    let (offset, global) = global?;
                    let index = self.imported_globals + i as u32;
                    self.global(offset, index, global.ty);
                }
            }
            Payload::ExportSection(reader) => {
                for export in reader.clone() {
                    let export = export?;
                    if export.name == ENTRY_POINT.name {
                        self.execute = Some((export.kind, export.index));
                    }
                    if self.profile.0.optional_export(export.name).is_some() {
                        self.register = Some((export.kind, export.index));
                    }
                    if Some(export.name) == self.profile.0.memory_export && export.kind == ExternalKind::Memory {
                        self.memory_exported = true;
                    }
                    self.exports.push(ExportInfo { name: export.name.to_owned(), kind: kind_name(export.kind) });
                }
            }
            Payload::StartSection { func, range } => {
                self.push(
                    Rule::StartFunction,
                    format!(
                        "a `start` function (function {func}) that runs when the module is instantiated: an ee2b042 server runs it outside any transaction, so a credit or debit it makes lands on the live ledger with no rollback and no zero-sum check; an e14b146 server runs it inside the registration's transaction (moves that fail it fail the registration, yet the function stays live until a restart) and again, outside any transaction, on the first call after a restart"
                    ),
                    "no `start` function: all work happens inside `execute`",
                    "remove the start function (in Rust, avoid `#[start]`-style constructors; in WAT, drop `(start ...)`)",
                    Some(range.start),
                );
            }
            _ => {}
        }
        Ok(())
    }

    fn import(&mut self, offset: usize, import: &wasmparser::Import<'_>) {
        let (module, name) = (import.module, import.name);
        let func_type_index = match import.ty {
            TypeRef::Func(index) | TypeRef::FuncExact(index) => Some(index),
            _ => None,
        };
        let ty = match (import.ty, func_type_index.and_then(|i| self.types.get(i as usize))) {
            (_, Some(ft)) => {
                let mut text = String::from("func ");
                let _ = write_func_type(&mut text, ft);
                text
            }
            (TypeRef::Memory(_), _) => "memory".into(),
            (TypeRef::Table(_), _) => "table".into(),
            (TypeRef::Global(_), _) => "global".into(),
            (TypeRef::Tag(_), _) => "tag".into(),
            _ => "func".into(),
        };
        self.imports.push(ImportInfo { module: module.to_owned(), name: name.to_owned(), ty: ty.clone() });
        let (rule, fix) = match import.ty {
            TypeRef::Func(index) | TypeRef::FuncExact(index) => {
                self.func_types.push(index);
                if module == "env" && name == "abort" {
                    (
                        Rule::EnvAbort,
                        "AssemblyScript adds `env.abort` for `assert` and runtime errors: compile with `--use abort=` (or `\"use\": [\"abort=\"]` in asconfig.json) so a failed assertion traps instead".to_owned(),
                    )
                } else if module != self.profile.0.host_module {
                    (
                        Rule::ForeignImport,
                        format!(
                            "remove the dependency on `{module}` (a ledger function has no WASI, no `env`, no JS glue); build for wasm32-unknown-unknown with no_std"
                        ),
                    )
                } else if let Some(host) = self.profile.0.host_import(name) {
                    let expected = host.signature;
                    let matches = self
                        .types
                        .get(index as usize)
                        .is_some_and(|ft| same_signature(ft, expected.params, expected.results));
                    if !matches {
                        self.push(
                            Rule::HostImportSignature,
                            format!("`{module}.{name}` imported as {ty}"),
                            format!("`{module}.{name}`: func {expected}"),
                            format!(
                                "declare `{name}` with exactly {expected} (the ledger_guest crate does this for you)"
                            ),
                            Some(offset),
                        );
                    }
                    return;
                } else {
                    (
                        Rule::UnknownHostImport,
                        format!(
                            "use only {}; a server at {} has no `ledger.{name}`{}",
                            allowed_imports(self.profile.0),
                            self.profile.0.upstream_commit,
                            other_profiles_with(self.profile.0, name)
                        ),
                    )
                }
            }
            TypeRef::Memory(memory) => {
                if memory.shared {
                    self.shared_memory(offset, "imports");
                }
                (
                    Rule::ImportedMemory,
                    "define the memory in the module (the default for rustc and asc) instead of importing it"
                        .to_owned(),
                )
            }
            TypeRef::Table(_) => {
                (Rule::ImportedTable, "define the table in the module instead of importing it".to_owned())
            }
            TypeRef::Global(_) => {
                self.imported_globals += 1;
                (
                    Rule::ImportedGlobal,
                    "define the global in the module, or pass the value as a parameter of `execute`".to_owned(),
                )
            }
            // Unreachable in practice: without the exceptions feature the
            // validator rejects a tag import before this runs.
            TypeRef::Tag(_) => return,
        };
        self.push(
            rule,
            format!("import `{module}.{name}` ({ty})"),
            format!("only {}", allowed_imports(self.profile.0)),
            fix,
            Some(offset),
        );
    }

    fn shared_memory(&mut self, offset: usize, verb: &str) {
        self.push(
            Rule::SharedMemory,
            format!("the module {verb} a shared memory"),
            "an unshared memory: functions run single-threaded",
            "build without the `atomics` target feature (no `-C target-feature=+atomics`) and without `--enable-threads`",
            Some(offset),
        );
    }

    fn global(&mut self, offset: usize, index: u32, ty: wasmparser::GlobalType) {
        // rustc's `__stack_pointer` is the module's first global, a mutable
        // i32 restored by every function before it returns.
        let stack_pointer = index == 0 && ty.content_type == wasmparser::ValType::I32;
        if ty.mutable && !stack_pointer {
            self.push(
                Rule::MutableGlobal,
                format!("mutable global {index} ({})", ty.content_type),
                "immutable globals; the stack pointer (global 0, i32) is tolerated",
                "keep no state in globals or `static mut`: a server reuses the instance, so the value survives into later calls; pass state as parameters or read balances instead",
                Some(offset),
            );
        }
    }

    fn check_execute(&mut self) {
        let Some((kind, index)) = self.execute else {
            let exported: Vec<&str> =
                self.exports.iter().filter(|e| e.kind == "func").map(|e| e.name.as_str()).collect();
            let found = if exported.is_empty() {
                "no exported function".to_owned()
            } else {
                format!("no `execute` export (exported functions: {})", exported.join(", "))
            };
            self.push(
                Rule::MissingExecute,
                found,
                format!("an exported function `execute`: {}", ENTRY_POINT.signature),
                "in Rust use `#[ledger_guest::execute]` (or `#[unsafe(no_mangle)] pub extern \"C\" fn execute`); in AssemblyScript `export function execute(...)`",
                None,
            );
            return;
        };
        if kind != ExternalKind::Func {
            self.push(
                Rule::ExecuteNotFunction,
                format!("`execute` is exported as a {}", kind_name(kind)),
                format!("`execute` must be a function: {}", ENTRY_POINT.signature),
                "export a function named `execute`, and give the other item another name",
                None,
            );
            return;
        }
        let Some(ft) = self.func_types.get(index as usize).and_then(|t| self.types.get(*t as usize)) else {
            return;
        };
        if let Err(err) = super::check_execute_signature(
            ft.params().iter().map(|t| abi_type(*t)),
            ft.results().iter().map(|t| abi_type(*t)),
        ) {
            let mut found = String::from("`execute` has type ");
            let _ = write_func_type(&mut found, ft);
            let _ = write!(found, " ({err})");
            self.push(
                Rule::ExecuteSignature,
                found,
                format!("`execute`: {}", ENTRY_POINT.signature),
                "take exactly 8 i64 parameters (unused ones are passed as 0) and return one i32 status",
                None,
            );
        }
    }

    /// The optional exports and the memory the profile's imports need.
    fn check_profile_exports(&mut self) {
        let profile = self.profile.0;
        if let Some((kind, index)) = self.register
            && let Some(export) = profile.optional_exports.first()
        {
            let ft = self.func_types.get(index as usize).and_then(|t| self.types.get(*t as usize));
            let found = match (kind, ft) {
                (ExternalKind::Func, Some(ft))
                    if same_signature(ft, export.signature.params, export.signature.results) =>
                {
                    None
                }
                (ExternalKind::Func, Some(ft)) => {
                    let mut found = format!("`{}` has type ", export.name);
                    let _ = write_func_type(&mut found, ft);
                    Some(found)
                }
                (ExternalKind::Func, None) => None,
                (kind, _) => Some(format!("`{}` is exported as a {}", export.name, kind_name(kind))),
            };
            if let Some(found) = found {
                self.push(
                    Rule::RegisterSignature,
                    found,
                    format!("`{}`: a function {}", export.name, export.signature),
                    format!("export `{}` as a function that takes nothing and returns nothing", export.name),
                    None,
                );
            }
        }
        let imports = std::mem::take(&mut self.imports);
        let imported = |name: &str| imports.iter().any(|i| i.module == profile.host_module && i.name == name);
        let reads_names: Vec<&str> =
            profile.host_imports.iter().filter(|i| i.reads_name() && imported(i.name)).map(|i| i.name).collect();
        let register_only: Vec<&str> =
            profile.host_imports.iter().filter(|i| i.phase.in_register() && imported(i.name)).map(|i| i.name).collect();
        self.imports = imports;
        if let (Some(memory), false, false) = (profile.memory_export, reads_names.is_empty(), self.memory_exported) {
            self.push(
                Rule::ConstantsNeedMemory,
                format!("imports {} but exports no memory named `{memory}`", reads_names.join(" and ")),
                format!("an exported memory `{memory}`: the server reads constant names from it, and without it every such call traps (status 5)"),
                "export the memory as `memory` (rustc and asc do by default; keep `--export-memory` / do not rename it)",
                None,
            );
        }
        if let (false, None, Some(export)) = (register_only.is_empty(), self.register, profile.optional_exports.first())
        {
            self.push(
                Rule::RegisterOnlyImport,
                format!("imports {} but exports no `{}`", register_only.join(" and "), export.name),
                format!(
                    "{} only from `{}`: called from `execute` it fails the call with status 8",
                    register_only.join(" and "),
                    export.name
                ),
                format!("register the constants in an exported `{}` function (in Rust, `#[register]`)", export.name),
                None,
            );
        }
    }

    /// The manifest, when there is one, reads and names this profile.
    fn check_interface(&mut self, bytes: &[u8]) {
        match crate::interface::Interface::from_module(bytes) {
            Ok(None) => {}
            Ok(Some(interface)) => {
                if let Some(abi) = interface.abi.filter(|abi| abi != self.profile.0.name) {
                    self.push(
                        Rule::InterfaceAbi,
                        format!("a manifest written for ABI {abi}"),
                        format!("a manifest for ABI {}, the ABI the module is checked against", self.profile.0.name),
                        format!(
                            "build for ABI {abi} (`--abi {abi}` or Roda.toml's `abi`), or fix the manifest's `abi`"
                        ),
                        None,
                    );
                }
            }
            Err(error) => self.push(
                Rule::Interface,
                error.to_string(),
                "a `roda.interface` section in the manifest format (see `cargo roda inspect`)".to_owned(),
                Rule::Interface.fix(),
                None,
            ),
        }
    }

    fn finish(mut self, bytes: &[u8]) -> ValidationReport {
        if self.complete {
            self.check_execute();
            self.check_profile_exports();
        }
        if let (total, Some(offset)) = self.initial_bytes
            && total > crate::DEFAULT_MAX_MEMORY_BYTES as u64
        {
            self.push(
                Rule::MemoryBudget,
                format!("memories of {} MiB in total at instantiation", total >> 20),
                format!(
                    "at most {} MiB for one instance here: a server allocates it all for the instance it keeps per function, for as long as it runs; the simulator and `cargo roda dev` fail such calls with status 5 (raise `--max-instance-memory` to try it)",
                    crate::DEFAULT_MAX_MEMORY_BYTES >> 20
                ),
                "declare a smaller initial memory (one memory is enough) and grow only what a call needs",
                Some(offset),
            );
        }
        if self.complete {
            self.check_interface(bytes);
        }
        if self.complete && crate::crc32c(bytes) == 0 {
            self.push(
                Rule::ZeroCrc,
                "a binary whose CRC32C is 0".to_owned(),
                "any other CRC: a server's log records CRC 0 as an unregister: a server at ee2b042 never finishes registering such a binary and its registry stops answering (observed); one at e14b146 registers it, runs it, and forgets it at its next restart (read in its source); `cargo roda dev` refuses it",
                "change any byte: add or change a custom section, or rebuild with another setting",
                None,
            );
        }
        let ops = std::mem::take(&mut self.ops);
        let tallies =
            [(ops.atomic, Rule::Atomics), (ops.float, Rule::FloatInstructions), (ops.relaxed_simd, Rule::RelaxedSimd)];
        for (tally, rule) in tallies {
            let Some((offset, name)) = tally.first else { continue };
            let (allowed, fix) = match rule {
                Rule::Atomics => (
                    "no atomic instructions: functions run single-threaded",
                    "build without the `atomics` target feature; use plain loads and stores",
                ),
                Rule::FloatInstructions => (
                    "integer arithmetic; floats are accepted but NaN bit patterns differ between hosts",
                    "compute amounts in integers (e.g. basis points: amount * bps / 10_000); avoid f32/f64 and float formatting",
                ),
                _ => ("deterministic instructions only", "do not enable `relaxed-simd`; use plain SIMD or scalar code"),
            };
            let found = format!(
                "{} {} instruction(s), first `{}`",
                tally.count,
                rule.title(),
                name.trim_start_matches("visit_")
            );
            self.push(rule, found, allowed, fix, Some(offset));
        }
        self.violations.sort_by_key(|v| (std::cmp::Reverse(v.severity()), v.rule));
        ValidationReport {
            size: bytes.len(),
            crc32c: crc32c(bytes),
            imports: self.imports,
            exports: self.exports,
            violations: self.violations,
            profile: self.profile.0,
        }
    }
}

/// The features outside [`FEATURES`] that a module which fails validation
/// needs, by wasmparser's names: a minimal set that makes it valid. Empty
/// when the module is invalid whatever the features.
fn features_needed(bytes: &[u8]) -> Vec<String> {
    let valid_with = |features: WasmFeatures| Validator::new_with_features(features).validate_all(bytes).is_ok();
    let extra = WasmFeatures::all().difference(FEATURES);
    if !valid_with(FEATURES.union(extra)) {
        return Vec::new();
    }
    let mut needed = extra;
    for feature in extra.iter() {
        let without = needed.difference(feature);
        if valid_with(FEATURES.union(without)) {
            needed = without;
        }
    }
    needed.iter_names().map(|(name, _)| name.to_lowercase()).collect()
}

enum OpClass {
    Plain,
    Float(&'static str),
    Atomic(&'static str),
    RelaxedSimd(&'static str),
}

/// Sorts an instruction into the families the rules care about, from
/// wasmparser's own instruction table (so no instruction is forgotten).
fn classify(op: &wasmparser::Operator<'_>) -> OpClass {
    macro_rules! classify {
        ($( @$proposal:ident $op:ident $({ $($arg:ident: $argty:ty),* })? => $visit:ident ($($ann:tt)*))*) => {
            match op {
                $(
                    wasmparser::Operator::$op { .. } => classify!(@one $proposal, stringify!($visit)),
                )*
                _ => OpClass::Plain,
            }
        };
        (@one threads, $name:expr) => { OpClass::Atomic($name) };
        (@one relaxed_simd, $name:expr) => { OpClass::RelaxedSimd($name) };
        (@one $proposal:ident, $name:expr) => {{
            // Evaluated at compile time: one constant per instruction.
            const FLOAT: bool = mentions_float($name);
            if FLOAT { OpClass::Float($name) } else { OpClass::Plain }
        }};
    }
    wasmparser::for_each_operator!(classify)
}

/// Whether an instruction's name (`visit_f64_add`) mentions `f32` or `f64`.
const fn mentions_float(name: &str) -> bool {
    let bytes = name.as_bytes();
    let mut i = 0;
    while i + 3 <= bytes.len() {
        if bytes[i] == b'f'
            && ((bytes[i + 1] == b'3' && bytes[i + 2] == b'2') || (bytes[i + 1] == b'6' && bytes[i + 2] == b'4'))
        {
            return true;
        }
        i += 1;
    }
    false
}

fn abi_type(t: wasmparser::ValType) -> Option<ValType> {
    match t {
        wasmparser::ValType::I32 => Some(ValType::I32),
        wasmparser::ValType::I64 => Some(ValType::I64),
        _ => None,
    }
}

fn same_signature(ft: &FuncType, params: &[ValType], results: &[ValType]) -> bool {
    let same = |actual: &[wasmparser::ValType], expected: &[ValType]| {
        actual.len() == expected.len() && actual.iter().zip(expected).all(|(a, e)| abi_type(*a) == Some(*e))
    };
    same(ft.params(), params) && same(ft.results(), results)
}

fn write_func_type(out: &mut String, ft: &FuncType) -> std::fmt::Result {
    // Types outside the ABI's vocabulary are printed by wasmparser's own names.
    let render = |types: &[wasmparser::ValType]| -> String {
        let names: Vec<String> = types.iter().map(|t| t.to_string()).collect();
        names.join(", ")
    };
    if ft.params().iter().chain(ft.results()).all(|t| abi_type(*t).is_some()) {
        return write_signature(
            out,
            ft.params().iter().filter_map(|t| abi_type(*t)),
            ft.results().iter().filter_map(|t| abi_type(*t)),
        );
    }
    let results = match ft.results() {
        [one] => one.to_string(),
        many => format!("({})", render(many)),
    };
    write!(out, "({}) -> {results}", render(ft.params()))
}

fn kind_name(kind: ExternalKind) -> &'static str {
    match kind {
        ExternalKind::Func | ExternalKind::FuncExact => "func",
        ExternalKind::Table => "table",
        ExternalKind::Memory => "memory",
        ExternalKind::Global => "global",
        ExternalKind::Tag => "tag",
    }
}

fn allowed_imports(profile: &Profile) -> String {
    let mut out = String::new();
    for (i, import) in profile.host_imports.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        let _ = write!(out, "`{}.{}` {}", profile.host_module, import.name, import.signature);
    }
    out
}

/// ` (it is in v2: build with --abi v2)` when other profiles have the import.
fn other_profiles_with(profile: &Profile, name: &str) -> String {
    let others: Vec<&str> =
        PROFILES.iter().filter(|p| p.name != profile.name && p.host_import(name).is_some()).map(|p| p.name).collect();
    match others.as_slice() {
        [] => String::new(),
        names => format!(" (ABI {} has it: validate and deploy with `--abi {}`)", names.join(", "), names[0]),
    }
}
