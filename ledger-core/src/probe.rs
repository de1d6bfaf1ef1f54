//! Where a function's fuel goes and which of its code runs: an
//! instrumented copy of a module, and what its runs recorded.
//!
//! [`instrument`] rewrites a module so that it calls three host hooks
//! (module [`HOOK_MODULE`]): `enter` and `exit` around every function and
//! every call of a host import, `block` at the start of every basic block.
//! A ledger built with [`LedgerConfig::probe`](crate::LedgerConfig::probe)
//! runs that copy in place of each registered binary (the CRC, the version
//! and everything a call answers stay the original's), and each hook gives
//! back the fuel its own two instructions cost. A call through the copy
//! then consumes exactly the fuel the original does, so a profile's total
//! is the fuel the ledger charged.
//!
//! The fuel limit falls where it falls without the probes: wasmtime checks
//! fuel only at function entries, loop headers and bulk memory and table
//! operations, and reads as 0 fuel that went below 0 between checks, so
//! the copy runs with a large reserve above the budget, and the hooks that
//! follow those checks (`enter`, `loop`, `check`) make the check the
//! original makes, against the budget. Two differences are left: a bulk
//! operation that runs out of fuel traps just after it writes, not before
//! (the call fails all the same), and each hook is a host call, so a
//! call's native stack is a little deeper (a recursion that overflows near
//! [`Limits::max_stack_bytes`](crate::Limits::max_stack_bytes) may overflow
//! sooner).
//!
//! ```
//! use ledger_core::{Engine, IfRegistered, Ledger, LedgerConfig, Operation};
//!
//! let wasm = wat::parse_str(r#"
//!   (module
//!     (import "ledger" "credit" (func $credit (param i64 i64)))
//!     (func $helper (param i64) (call $credit (local.get 0) (i64.const 5)))
//!     (func (export "execute") (param i64 i64 i64 i64 i64 i64 i64 i64) (result i32)
//!       (call $helper (local.get 0))
//!       i32.const 0))
//! "#)?;
//! let mut ledger = Ledger::new(LedgerConfig { probe: true, ..LedgerConfig::default() })?;
//! ledger.register("credit5", &wasm, IfRegistered::Refuse)?;
//! let tx = ledger.submit(&Operation::Function { name: "credit5".into(), params: vec![1], user_ref: 0 });
//! let charged = tx.call.as_ref().unwrap().fuel_used;
//!
//! let recording = ledger.probes().remove(0)?;
//! assert_eq!(recording.total_fuel(), charged);
//! let stacks: Vec<String> = recording.folded().into_iter().map(|(stack, _)| stack).collect();
//! assert!(stacks.contains(&"execute;helper;ledger::credit".to_owned()), "{stacks:?}");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use wasm_encoder::reencode::{Error as ReencodeError, Reencode, RoundtripReencoder};
use wasm_encoder::{BlockType, CodeSection, Function, ImportSection, Instruction, SectionId};
use wasmparser::{FunctionBody, Operator, Parser, Payload, TypeRef};

/// The import module of the hooks an instrumented copy calls.
pub const HOOK_MODULE: &str = "roda_probe";

/// The hooks an instrumented copy imports from [`HOOK_MODULE`], in the
/// order of their imports (after the module's own): each takes an `i32`
/// (a function index, a block number, or 0) and returns nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hook {
    /// A guest function (the argument) begins, after wasmtime's fuel check.
    Enter,
    /// A function or a host import (the argument) returns.
    Exit,
    /// A basic block (the argument) begins.
    Block,
    /// A loop's body (the argument: its block) begins, after wasmtime's
    /// fuel check.
    Loop,
    /// A host import (the argument) is called.
    Host,
    /// A bulk operation ran, after wasmtime's fuel check (argument 0).
    Check,
}

impl Hook {
    /// Every hook, in import order.
    pub(crate) const ALL: [Hook; 6] = [Hook::Enter, Hook::Exit, Hook::Block, Hook::Loop, Hook::Host, Hook::Check];

    /// The import's name.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Hook::Enter => "enter",
            Hook::Exit => "exit",
            Hook::Block => "block",
            Hook::Loop => "loop",
            Hook::Host => "host",
            Hook::Check => "check",
        }
    }

    /// Whether the original checks its fuel where this hook runs, and so
    /// traps there when none is left.
    pub(crate) fn checks_fuel(self) -> bool {
        matches!(self, Hook::Enter | Hook::Loop | Hook::Check)
    }
}

/// The fuel a probing ledger's stores hold above the budget, so that fuel
/// used past the budget between two checks stays readable.
pub(crate) const HEADROOM: u64 = 1 << 40;

/// Fuel one hook call costs the copy (`i32.const` and `call`, one each),
/// and which the hook gives back.
pub(crate) const HOOK_FUEL: u64 = 2;

/// Why a module could not be instrumented.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot instrument the module with CRC32C {crc32c:08x} for profiling and coverage: {reason}")]
pub struct ProbeError {
    /// The module's CRC32C (0 until a ledger compiles it).
    pub crc32c: u32,
    /// What the instrumentation does not handle.
    pub reason: String,
}

impl ProbeError {
    fn new(reason: impl ToString) -> ProbeError {
        ProbeError { crc32c: 0, reason: reason.to_string() }
    }

    pub(crate) fn for_binary(self, crc32c: u32) -> ProbeError {
        ProbeError { crc32c, ..self }
    }
}

/// What the instrumented copy's hooks refer to: its functions (by their
/// index in the original module) and its basic blocks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleMap {
    /// Every function, imports first, by index in the original module.
    pub functions: Vec<FunctionName>,
    /// Every basic block of the defined functions, in code order.
    pub blocks: Vec<Block>,
    /// The size of the code section's contents: no block is at or past it.
    pub code_len: u32,
}

/// A function's name, and whether it is a host import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionName {
    /// From the name section (Rust names demangled, without their hash),
    /// else the export name, else `function[N]`; a host import is
    /// `module::name`.
    pub name: String,
    /// An import: the ledger's code, a leaf of every profile.
    pub host: bool,
}

/// A basic block: straight-line code that runs whole once entered (unless
/// it traps).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Block {
    /// The function it is in (index in the original module).
    pub function: u32,
    /// Where its first instruction is (a function's first block: where its
    /// body starts, locals included), from the start of the code section's
    /// contents: the addresses DWARF line tables use.
    pub code_offset: u32,
}

impl ModuleMap {
    /// The blocks of `function`, as a range of [`blocks`](ModuleMap::blocks).
    pub fn blocks_of(&self, function: u32) -> std::ops::Range<usize> {
        let start = self.blocks.partition_point(|block| block.function < function);
        let end = self.blocks.partition_point(|block| block.function <= function);
        start..end
    }

    /// The block holding the instruction at `code_offset`, if any.
    pub fn block_at(&self, code_offset: u32) -> Option<usize> {
        if code_offset >= self.code_len {
            return None;
        }
        self.blocks.partition_point(|block| block.code_offset <= code_offset).checked_sub(1)
    }

    /// The map with its functions named `names` instead: the
    /// [`function_names`] of a build of the same code that keeps its name
    /// section.
    #[must_use]
    pub fn named_from(&self, names: Vec<FunctionName>) -> ModuleMap {
        ModuleMap { functions: names, ..self.clone() }
    }
}

/// The fuel a stack of frames used itself, and how often it was entered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StackCost {
    /// Fuel used with this stack on top (its callees' not counted).
    pub fuel: u64,
    /// Times its last frame was entered from the one before.
    pub calls: u64,
}

/// What the runs of one binary recorded: fuel by call stack, and how often
/// each basic block ran.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recording {
    /// The CRC32C of the original binary.
    pub crc32c: u32,
    /// Its functions and blocks.
    pub map: Arc<ModuleMap>,
    /// Fuel by call stack: function indices from the outermost, an export
    /// the ledger called (`execute`, `register`, `start`), to the frame
    /// that used it. A host import is always a leaf.
    pub stacks: BTreeMap<Vec<u32>, StackCost>,
    /// Runs of each block, by index in [`ModuleMap::blocks`].
    pub blocks: Vec<u64>,
}

impl Recording {
    fn new(crc32c: u32, map: Arc<ModuleMap>) -> Recording {
        let blocks = vec![0; map.blocks.len()];
        Recording { crc32c, map, stacks: BTreeMap::new(), blocks }
    }

    /// All the fuel recorded.
    pub fn total_fuel(&self) -> u64 {
        self.stacks.values().map(|cost| cost.fuel).sum()
    }

    /// The fuel recorded under the outermost frame `name` (`execute`: what
    /// the calls were charged, `start` and `register` aside).
    pub fn fuel_under(&self, name: &str) -> u64 {
        self.stacks
            .iter()
            .filter(|(stack, _)| stack.first().is_some_and(|&root| self.name(root) == name))
            .map(|(_, cost)| cost.fuel)
            .sum()
    }

    /// The name of function `index`.
    pub fn name(&self, index: u32) -> &str {
        self.map.functions.get(index as usize).map_or("?", |function| function.name.as_str())
    }

    /// The profile in the "folded stacks" text format (frames from the
    /// outermost, joined by `;`, and the fuel each stack used itself): what
    /// flame graph writers and speedscope read. Stacks that used no fuel
    /// are left out.
    pub fn folded(&self) -> Vec<(String, u64)> {
        self.stacks
            .iter()
            .filter(|(_, cost)| cost.fuel > 0)
            .map(|(stack, cost)| {
                let names: Vec<&str> = stack.iter().map(|&index| self.name(index)).collect();
                (names.join(";"), cost.fuel)
            })
            .collect()
    }

    /// Fuel by function: what each used itself (its callees' not counted),
    /// most first.
    pub fn self_fuel(&self) -> Vec<(String, u64)> {
        let mut by_function: BTreeMap<u32, u64> = BTreeMap::new();
        for (stack, cost) in &self.stacks {
            if let Some(&top) = stack.last() {
                *by_function.entry(top).or_default() += cost.fuel;
            }
        }
        let mut named: Vec<(String, u64)> =
            by_function.into_iter().map(|(index, fuel)| (self.name(index).to_owned(), fuel)).collect();
        named.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        named
    }

    /// How often function `index` ran (a host import: was called).
    pub fn runs(&self, index: u32) -> u64 {
        match self.map.functions.get(index as usize) {
            Some(function) if function.host => {
                self.stacks.iter().filter(|(stack, _)| stack.last() == Some(&index)).map(|(_, cost)| cost.calls).sum()
            }
            Some(_) => self.map.blocks_of(index).next().map_or(0, |entry| self.blocks[entry]),
            None => 0,
        }
    }

    /// Whether function `index` ran (a host import: was called).
    pub fn ran(&self, index: u32) -> bool {
        self.runs(index) > 0
    }

    /// Adds what `other`, a recording of the same binary, recorded.
    ///
    /// # Panics
    ///
    /// When `other` is of another binary.
    pub fn merge(&mut self, other: &Recording) {
        assert_eq!(self.crc32c, other.crc32c, "recordings of two binaries");
        for (stack, cost) in &other.stacks {
            let mine = self.stacks.entry(stack.clone()).or_default();
            mine.fuel += cost.fuel;
            mine.calls += cost.calls;
        }
        for (mine, theirs) in self.blocks.iter_mut().zip(&other.blocks) {
            *mine += theirs;
        }
    }
}

/// One binary's recording, shared by the instances that run its copy.
#[derive(Debug)]
pub(crate) struct Probe {
    recording: Mutex<Tree>,
}

/// The recording as the hooks build it: a call tree, each node a stack.
#[derive(Debug)]
struct Tree {
    recording: Recording,
    /// Node 0 is the root (no frame).
    nodes: Vec<Node>,
    children: HashMap<(u32, u32), u32>,
    /// For coverage-guided fuzzing: the reach epoch each block last ran
    /// in, the current one, and how many blocks ran in it.
    seen: Vec<u32>,
    epoch: u32,
    reached: u64,
}

#[derive(Debug, Clone, Copy)]
struct Node {
    parent: u32,
    function: u32,
    cost: StackCost,
}

impl Probe {
    pub(crate) fn new(crc32c: u32, map: ModuleMap) -> Arc<Probe> {
        let root = Node { parent: 0, function: u32::MAX, cost: StackCost::default() };
        let seen = vec![0; map.blocks.len()];
        let tree = Tree {
            recording: Recording::new(crc32c, Arc::new(map)),
            nodes: vec![root],
            children: HashMap::new(),
            seen,
            epoch: 1,
            reached: 0,
        };
        Arc::new(Probe { recording: Mutex::new(tree) })
    }

    /// How many blocks ran since [`new_reach`](Probe::new_reach).
    pub(crate) fn reached(&self) -> u64 {
        self.tree().reached
    }

    /// Starts counting the blocks that run anew.
    pub(crate) fn new_reach(&self) {
        let mut tree = self.tree();
        tree.epoch += 1;
        tree.reached = 0;
    }

    pub(crate) fn crc32c(&self) -> u32 {
        self.tree().recording.crc32c
    }

    fn tree(&self) -> std::sync::MutexGuard<'_, Tree> {
        self.recording.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// What was recorded so far.
    pub(crate) fn recording(&self) -> Recording {
        let tree = self.tree();
        let mut recording = tree.recording.clone();
        for node in tree.nodes.iter().skip(1) {
            if node.cost == StackCost::default() {
                continue;
            }
            let mut stack = vec![node.function];
            let mut parent = node.parent as usize;
            while parent != 0 {
                stack.push(tree.nodes[parent].function);
                parent = tree.nodes[parent].parent as usize;
            }
            stack.reverse();
            recording.stacks.insert(stack, node.cost);
        }
        recording
    }
}

/// Where an instance's current call is in its binary's call tree: kept in
/// the instance's store.
pub(crate) struct Recorder {
    probe: Arc<Probe>,
    at: Position,
}

/// The node a call is at, and the fuel it had left at the last hook.
struct Position {
    node: u32,
    fuel: u64,
    /// The export the call entered: what wasmtime charges outside every
    /// function (entering the call) is counted as its.
    outer: Option<u32>,
    /// Fuel used before the export's first hook.
    before: u64,
}

impl Position {
    fn new(fuel: u64) -> Position {
        Position { node: 0, fuel, outer: None, before: 0 }
    }

    /// Counts what the current node used since the last hook.
    fn charge(&mut self, tree: &mut Tree, fuel: u64) {
        let used = self.fuel.saturating_sub(fuel);
        self.fuel = fuel;
        match (self.node, self.outer) {
            (_, _) if used == 0 => {}
            (0, None) => self.before += used,
            (0, Some(outer)) => tree.nodes[outer as usize].cost.fuel += used,
            (node, _) => tree.nodes[node as usize].cost.fuel += used,
        }
    }
}

impl Recorder {
    pub(crate) fn new(probe: Arc<Probe>) -> Recorder {
        Recorder { probe, at: Position::new(0) }
    }

    /// A call (or `start`) begins with `fuel`, at the root.
    pub(crate) fn begin(&mut self, fuel: u64) {
        self.at = Position::new(fuel);
    }

    /// The call ended with `fuel` left: what its last frame used since the
    /// last hook is counted (a trap leaves frames open; the next call
    /// begins at the root again).
    pub(crate) fn end(&mut self, fuel: u64) {
        self.at.charge(&mut self.probe.tree(), fuel);
    }

    /// `hook` ran with `argument`, `fuel` left (after its own cost was
    /// given back).
    pub(crate) fn hook(&mut self, hook: Hook, argument: u32, fuel: u64) {
        let mut tree = self.probe.tree();
        let at = &mut self.at;
        at.charge(&mut tree, fuel);
        match hook {
            Hook::Enter | Hook::Host => {
                let function = argument;
                let next = tree.nodes.len() as u32;
                let node = *tree.children.entry((at.node, function)).or_insert(next);
                if node == next {
                    tree.nodes.push(Node { parent: at.node, function, cost: StackCost::default() });
                }
                tree.nodes[node as usize].cost.calls += 1;
                if at.node == 0 {
                    tree.nodes[node as usize].cost.fuel += std::mem::take(&mut at.before);
                    at.outer = Some(node);
                }
                at.node = node;
            }
            Hook::Exit => {
                let function = argument;
                // Unwinds to the frame exited (every exit has its enter;
                // this only guards against a copy that lost one).
                let mut node = at.node;
                while node != 0 && tree.nodes[node as usize].function != function {
                    node = tree.nodes[node as usize].parent;
                }
                if node != 0 {
                    at.node = tree.nodes[node as usize].parent;
                }
            }
            Hook::Block | Hook::Loop => {
                if let Some(runs) = tree.recording.blocks.get_mut(argument as usize) {
                    *runs += 1;
                }
                let epoch = tree.epoch;
                if let Some(seen) = tree.seen.get_mut(argument as usize).filter(|seen| **seen != epoch) {
                    *seen = epoch;
                    tree.reached += 1;
                }
            }
            Hook::Check => {}
        }
    }
}

/// The instrumented copy of `wasm` and what its hooks refer to: see the
/// [module documentation](self).
///
/// # Errors
///
/// [`ProbeError`] when the module does not parse, or uses what the
/// instrumentation does not handle (legacy exception handling).
pub fn instrument(wasm: &[u8]) -> Result<(Vec<u8>, ModuleMap), ProbeError> {
    let shape = Shape::read(wasm).map_err(ProbeError::new)?;
    let mut rewriter = Rewriter { shape, blocks: Vec::new(), next_defined: 0, imports_added: false };
    let mut module = wasm_encoder::Module::new();
    rewriter.parse_core_module(&mut module, Parser::new(0), wasm).map_err(ProbeError::new)?;
    let Rewriter { shape, blocks, .. } = rewriter;
    Ok((module.finish(), ModuleMap { functions: shape.functions, blocks, code_len: shape.code_len }))
}

/// The names of `wasm`'s functions, imports first, as a [`ModuleMap`] of
/// it has them.
///
/// # Errors
///
/// [`ProbeError`] when the module does not parse.
pub fn function_names(wasm: &[u8]) -> Result<Vec<FunctionName>, ProbeError> {
    Ok(Shape::read(wasm).map_err(ProbeError::new)?.functions)
}

/// The code section's contents, which a build that adds debug information
/// or names leaves as they are: two builds whose code is the same have the
/// same blocks at the same offsets.
pub fn code_section(wasm: &[u8]) -> Option<&[u8]> {
    Parser::new(0).parse_all(wasm).find_map(|payload| match payload {
        Ok(Payload::CodeSectionStart { range, .. }) => wasm.get(range),
        _ => None,
    })
}

/// What the rewrite needs to know before it starts.
struct Shape {
    /// Types in the original type section.
    types: u32,
    /// The results of each function type, by type index.
    results: Vec<Vec<wasmparser::ValType>>,
    /// Function imports in the original.
    imported: u32,
    /// The type index of each defined function.
    defined_types: Vec<u32>,
    functions: Vec<FunctionName>,
    /// Where the code section's contents start, and their size.
    code_start: usize,
    code_len: u32,
    /// The result lists of more than one value among the defined
    /// functions: each gets a `() -> R` type, after the hooks' `(i32) -> ()`,
    /// for the block that wraps such a body.
    multi_value: Vec<Vec<wasmparser::ValType>>,
}

impl Shape {
    fn read(wasm: &[u8]) -> wasmparser::Result<Shape> {
        let mut shape = Shape {
            types: 0,
            results: Vec::new(),
            imported: 0,
            defined_types: Vec::new(),
            functions: Vec::new(),
            code_start: 0,
            code_len: 0,
            multi_value: Vec::new(),
        };
        let mut exports: HashMap<u32, String> = HashMap::new();
        let mut names: HashMap<u32, String> = HashMap::new();
        for payload in Parser::new(0).parse_all(wasm) {
            match payload? {
                Payload::TypeSection(types) => {
                    for ty in types.into_iter_err_on_gc_types() {
                        shape.types += 1;
                        shape.results.push(ty?.results().to_vec());
                    }
                }
                Payload::ImportSection(imports) => {
                    for import in imports.into_imports() {
                        let import = import?;
                        if let TypeRef::Func(_) = import.ty {
                            shape.imported += 1;
                            shape
                                .functions
                                .push(FunctionName { name: format!("{}::{}", import.module, import.name), host: true });
                        }
                    }
                }
                Payload::FunctionSection(functions) => {
                    for ty in functions {
                        shape.defined_types.push(ty?);
                    }
                }
                Payload::ExportSection(section) => {
                    for export in section {
                        let export = export?;
                        if export.kind == wasmparser::ExternalKind::Func {
                            exports.entry(export.index).or_insert_with(|| export.name.to_owned());
                        }
                    }
                }
                Payload::CodeSectionStart { range, .. } => {
                    shape.code_start = range.start;
                    shape.code_len = range.len() as u32;
                }
                Payload::CustomSection(section) => {
                    if let wasmparser::KnownCustom::Name(reader) = section.as_known() {
                        for subsection in reader {
                            if let Ok(wasmparser::Name::Function(map)) = subsection {
                                for naming in map.into_iter().flatten() {
                                    names.insert(naming.index, demangle(naming.name));
                                }
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        for defined in 0..shape.defined_types.len() as u32 {
            let index = shape.imported + defined;
            let name =
                names.remove(&index).or_else(|| exports.remove(&index)).unwrap_or_else(|| format!("function[{index}]"));
            shape.functions.push(FunctionName { name, host: false });
        }
        for &ty in &shape.defined_types {
            let results = &shape.results[ty as usize];
            if results.len() > 1 && !shape.multi_value.contains(results) {
                shape.multi_value.push(results.clone());
            }
        }
        Ok(shape)
    }

    fn hook_type(&self) -> u32 {
        self.types
    }

    /// The block type that wraps a body of function type `ty`.
    fn wrapper(&self, ty: u32) -> BlockType {
        let results = &self.results[ty as usize];
        match results.as_slice() {
            [] => BlockType::Empty,
            [one] => BlockType::Result(RoundtripReencoder.val_type(*one).expect("a core value type")),
            many => {
                let at = self.multi_value.iter().position(|r| r == many).expect("collected") as u32;
                BlockType::FunctionType(self.types + 1 + at)
            }
        }
    }
}

/// A Rust symbol demangled, without its hash; any other name as it is.
fn demangle(name: &str) -> String {
    format!("{:#}", rustc_demangle::demangle(name))
}

struct Rewriter {
    shape: Shape,
    blocks: Vec<Block>,
    next_defined: u32,
    imports_added: bool,
}

impl Rewriter {
    /// Calls `hook` with `argument`: its import follows the module's own.
    fn hook(&self, f: &mut Function, hook: Hook, argument: u32) {
        f.instruction(&Instruction::I32Const(argument as i32));
        f.instruction(&Instruction::Call(self.shape.imported + hook as u32));
    }

    fn add_hook_imports(&mut self, imports: &mut ImportSection) {
        for hook in Hook::ALL {
            imports.import(HOOK_MODULE, hook.name(), wasm_encoder::EntityType::Function(self.shape.hook_type()));
        }
        self.imports_added = true;
    }
}

/// Operations whose fuel grows with their operand: wasmtime checks fuel at
/// each, unless the operand is a constant that costs at most 128.
fn is_bulk(op: &Operator<'_>) -> bool {
    matches!(
        op,
        Operator::MemoryCopy { .. }
            | Operator::MemoryFill { .. }
            | Operator::MemoryInit { .. }
            | Operator::TableCopy { .. }
            | Operator::TableFill { .. }
            | Operator::TableInit { .. }
            | Operator::TableGrow { .. }
    )
}

impl Reencode for Rewriter {
    type Error = String;

    fn function_index(&mut self, func: u32) -> Result<u32, ReencodeError<String>> {
        let added = if func >= self.shape.imported { Hook::ALL.len() as u32 } else { 0 };
        Ok(func + added)
    }

    fn parse_type_section(
        &mut self,
        types: &mut wasm_encoder::TypeSection,
        section: wasmparser::TypeSectionReader<'_>,
    ) -> Result<(), ReencodeError<String>> {
        wasm_encoder::reencode::utils::parse_type_section(self, types, section)?;
        types.ty().function([wasm_encoder::ValType::I32], []);
        for results in &self.shape.multi_value {
            let results: Vec<_> =
                results.iter().map(|ty| RoundtripReencoder.val_type(*ty)).collect::<Result<_, _>>().map_err(|_| {
                    ReencodeError::UserError("a result type the instrumentation does not handle".into())
                })?;
            types.ty().function([], results);
        }
        Ok(())
    }

    fn parse_import_section(
        &mut self,
        imports: &mut ImportSection,
        section: wasmparser::ImportSectionReader<'_>,
    ) -> Result<(), ReencodeError<String>> {
        wasm_encoder::reencode::utils::parse_import_section(self, imports, section)?;
        self.add_hook_imports(imports);
        Ok(())
    }

    fn intersperse_section_hook(
        &mut self,
        module: &mut wasm_encoder::Module,
        _after: Option<SectionId>,
        before: Option<SectionId>,
    ) -> Result<(), ReencodeError<String>> {
        // A module with no imports gets an import section for the hooks,
        // where one belongs: after the types.
        if !self.imports_added && !matches!(before, Some(SectionId::Type | SectionId::Import)) {
            let mut imports = ImportSection::new();
            self.add_hook_imports(&mut imports);
            module.section(&imports);
        }
        Ok(())
    }

    fn parse_custom_section(
        &mut self,
        _module: &mut wasm_encoder::Module,
        _section: wasmparser::CustomSectionReader<'_>,
    ) -> Result<(), ReencodeError<String>> {
        // Names, DWARF and manifests describe the original: the map keeps
        // what the recording needs.
        Ok(())
    }

    fn parse_function_body(
        &mut self,
        code: &mut CodeSection,
        body: FunctionBody<'_>,
    ) -> Result<(), ReencodeError<String>> {
        let defined = self.next_defined;
        self.next_defined += 1;
        let index = self.shape.imported + defined;
        let ty = *self
            .shape
            .defined_types
            .get(defined as usize)
            .ok_or_else(|| ReencodeError::UserError("more function bodies than functions".to_owned()))?;
        let mut f = self.new_function_with_parsed_locals(&body)?;
        // The body runs inside a block of the function's result type, so
        // that a branch to the function's outermost label reaches the exit
        // hook; `return` and tail calls get their own.
        self.hook(&mut f, Hook::Enter, index);
        f.instruction(&Instruction::Block(self.shape.wrapper(ty)));
        let mut reader = body.get_operators_reader()?;
        let mut body_start = Some(body.range().start);
        let mut depth = 0u32;
        let mut block_starts = true;
        let mut loop_starts = false;
        // The operand of a bulk operation, when an `i32.const` pushed it.
        let mut constant = None;
        while !reader.eof() {
            let (op, offset) = reader.read_with_offset()?;
            if block_starts {
                let code_offset = (body_start.take().unwrap_or(offset) - self.shape.code_start) as u32;
                let hook = if loop_starts { Hook::Loop } else { Hook::Block };
                self.hook(&mut f, hook, self.blocks.len() as u32);
                self.blocks.push(Block { function: index, code_offset });
                block_starts = false;
                loop_starts = false;
            }
            if is_bulk(&op) {
                let small = constant.is_some_and(|units: i32| (0..=128).contains(&units));
                f.instruction(&self.instruction(op)?);
                if !small {
                    self.hook(&mut f, Hook::Check, 0);
                }
                constant = None;
                continue;
            }
            constant = match op {
                Operator::I32Const { value } => Some(value),
                _ => None,
            };
            match op {
                Operator::End if depth == 0 => {
                    f.instruction(&Instruction::End);
                    self.hook(&mut f, Hook::Exit, index);
                    f.instruction(&Instruction::End);
                    continue;
                }
                Operator::Call { function_index } if function_index < self.shape.imported => {
                    self.hook(&mut f, Hook::Host, function_index);
                    f.instruction(&self.instruction(op)?);
                    self.hook(&mut f, Hook::Exit, function_index);
                    continue;
                }
                Operator::Return | Operator::ReturnCall { .. } | Operator::ReturnCallIndirect { .. } => {
                    self.hook(&mut f, Hook::Exit, index);
                    block_starts = true;
                }
                Operator::Loop { .. } => {
                    depth += 1;
                    block_starts = true;
                    loop_starts = true;
                }
                Operator::Block { .. } | Operator::If { .. } | Operator::TryTable { .. } => {
                    depth += 1;
                    block_starts = true;
                }
                Operator::End => {
                    depth -= 1;
                    block_starts = true;
                }
                Operator::Else
                | Operator::BrIf { .. }
                | Operator::Br { .. }
                | Operator::BrTable { .. }
                | Operator::Unreachable
                | Operator::Throw { .. }
                | Operator::ThrowRef => block_starts = true,
                Operator::Try { .. }
                | Operator::Catch { .. }
                | Operator::CatchAll
                | Operator::Delegate { .. }
                | Operator::Rethrow { .. } => {
                    return Err(ReencodeError::UserError("legacy exception handling (`try`) is not supported".into()));
                }
                _ => {}
            }
            f.instruction(&self.instruction(op)?);
        }
        code.function(&f);
        Ok(())
    }
}
