//! A function's interface manifest: the `roda.interface` custom section.
//!
//! The section names what the bare ABI leaves as numbers: the parameters of
//! `execute` (name and [`ParamKind`]), the function's own statuses, the
//! constants `register()` defines, and the ABI it was written for. A server
//! ignores it (custom sections carry no code) and its CRC32C covers it like
//! any other byte. `ledger-guest`'s `#[execute]`, `#[status]` and
//! `#[register]` write it from the Rust source; `cargo roda build` adds it
//! to AssemblyScript and WAT modules from `Roda.toml`'s `[interface]`.
//!
//! # Format
//!
//! UTF-8 JSON lines (each line one object; the order of lines carries no
//! meaning, so the linker may concatenate the macros' fragments as it
//! likes):
//!
//! ```text
//! {"roda.interface":1,"abi":"v1"}
//! {"function":"collateral_check","doc":"Lends ...","params":[{"name":"lender","kind":"account"}]}
//! {"status":"UNDERCOLLATERALIZED","code":140,"doc":"The collateral ..."}
//! {"constant":"calls"}
//! ```
//!
//! One header line (`roda.interface` is the format, [`FORMAT`]; `abi` is
//! optional), at most one `function` line, any number of `status` and
//! `constant` lines. `doc` is optional.
//!
//! ```
//! use ledger_core::interface::{Interface, Param, ParamKind};
//!
//! let interface = Interface {
//!     abi: Some("v1".into()),
//!     function: Some("pay".into()),
//!     params: vec![Param { name: "to".into(), kind: ParamKind::Account }],
//!     ..Interface::default()
//! };
//! let module = wat::parse_str("(module)").unwrap();
//! let with = interface.embed(&module).unwrap();
//! assert_eq!(Interface::from_module(&with).unwrap(), Some(interface));
//! assert_eq!(Interface::from_module(&module).unwrap(), None);
//! ```

use std::collections::BTreeSet;

pub use ledger_abi::interface::{FORMAT, ParamKind, SECTION};
use serde::{Deserialize, Serialize};
use wasmparser::{Parser, Payload};

use crate::Status;

/// What a manifest says about a function.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Interface {
    /// The ABI profile it was written for (`v1`, `v2`), when it says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub abi: Option<String>,
    /// The function's name in its source (not the name it is registered
    /// under, which the server decides).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub function: Option<String>,
    /// Its documentation.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub doc: String,
    /// The parameters, in slot order.
    pub params: Vec<Param>,
    /// The function's own statuses, by code.
    pub statuses: Vec<NamedStatus>,
    /// The constants its `register()` defines, in name order.
    pub constants: Vec<String>,
}

/// A parameter of `execute`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Param {
    /// Its name in the source.
    pub name: String,
    /// What its slot holds.
    #[serde(with = "kind")]
    pub kind: ParamKind,
}

/// A status the function returns, with its name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NamedStatus {
    /// The name (`COLLATERAL_SHORT`).
    pub name: String,
    /// The status.
    #[serde(serialize_with = "code")]
    pub status: Status,
    /// Its documentation.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub doc: String,
}

fn code<S: serde::Serializer>(status: &Status, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_u8(status.code())
}

mod kind {
    use super::ParamKind;

    pub fn serialize<S: serde::Serializer>(kind: &ParamKind, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(kind.name())
    }

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<ParamKind, D::Error> {
        let name = <String as serde::Deserialize>::deserialize(deserializer)?;
        ParamKind::from_name(&name).ok_or_else(|| {
            let kinds: Vec<&str> = ParamKind::ALL.iter().map(|k| k.name()).collect();
            serde::de::Error::custom(format!("unknown parameter kind `{name}`: one of {}", kinds.join(", ")))
        })
    }
}

/// Why a manifest cannot be read or written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InterfaceError {
    /// The module does not parse far enough to find its sections.
    #[error("the module does not parse: {0}")]
    Module(String),
    /// A line that is not one of the format's objects.
    #[error("line {line} of the `roda.interface` section is not a manifest line ({message}): found `{text}`")]
    Line {
        /// 1-based line in the section.
        line: usize,
        /// The line, cut to 80 characters.
        text: String,
        /// What the JSON reader said.
        message: String,
    },
    /// No header line, or more than one.
    #[error("the `roda.interface` section has {0} header lines (`{{\"roda.interface\":1,...}}`); it needs exactly one")]
    Header(usize),
    /// A format this crate does not read.
    #[error("the `roda.interface` section is format {0}; this tool reads format {FORMAT}: update cargo-roda")]
    Format(u32),
    /// Something declared twice, or a rule of the format broken.
    #[error("the `roda.interface` section {0}")]
    Rule(String),
    /// `embed` on a module that has a manifest already.
    #[error("the module has a `roda.interface` section already: declare the interface once")]
    Present,
}

/// Why parameters given by name do not make a call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParamError {
    /// A name the function does not take.
    #[error("the function takes no parameter `{name}`: it takes {takes}")]
    Unknown {
        /// The name given.
        name: String,
        /// The names it takes, in slot order.
        takes: String,
    },
    /// A name given twice.
    #[error("`{0}` is given twice")]
    Twice(String),
    /// Parameters not given.
    #[error("missing `{names}`: the function takes {takes}; give each by name")]
    Missing {
        /// The names missing.
        names: String,
        /// The names it takes, in slot order.
        takes: String,
    },
    /// A value the parameter's kind refuses before the function runs.
    #[error("`{name}` ({kind}) takes {accepts}; got {value}")]
    Refused {
        /// The parameter.
        name: String,
        /// Its kind.
        kind: &'static str,
        /// What the kind accepts.
        accepts: &'static str,
        /// The value given.
        value: i64,
    },
}

/// One line of the section.
enum Line {
    Header(Header),
    Function(FunctionLine),
    Status(StatusLine),
    Constant(ConstantLine),
}

impl Line {
    /// Reads a line by the key that says what it is, so that an error is
    /// the one of that kind of line.
    fn parse(text: &str) -> Result<Line, String> {
        let value: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let has = |key: &str| value.get(key).is_some();
        let read = |e: serde_json::Error| e.to_string();
        if has("roda.interface") {
            serde_json::from_value(value).map(Line::Header).map_err(read)
        } else if has("function") {
            serde_json::from_value(value).map(Line::Function).map_err(read)
        } else if has("status") {
            serde_json::from_value(value).map(Line::Status).map_err(read)
        } else if has("constant") {
            serde_json::from_value(value).map(Line::Constant).map_err(read)
        } else {
            Err("an object with `roda.interface`, `function`, `status` or `constant`".into())
        }
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Header {
    #[serde(rename = "roda.interface")]
    format: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    abi: Option<String>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FunctionLine {
    function: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    doc: String,
    #[serde(default)]
    params: Vec<Param>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StatusLine {
    status: String,
    code: u8,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    doc: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConstantLine {
    constant: String,
}

impl Interface {
    /// The manifest of `module`, or `None` when it has no `roda.interface`
    /// section. Several sections of that name read as one.
    ///
    /// # Errors
    ///
    /// [`InterfaceError`] when the module does not parse up to its
    /// sections, or the section breaks the format.
    pub fn from_module(module: &[u8]) -> Result<Option<Interface>, InterfaceError> {
        let mut text = Vec::new();
        let mut found = false;
        for payload in Parser::new(0).parse_all(module) {
            match payload.map_err(|e| InterfaceError::Module(e.message().to_owned()))? {
                Payload::CustomSection(section) if section.name() == SECTION => {
                    found = true;
                    text.extend_from_slice(section.data());
                    text.push(b'\n');
                }
                _ => {}
            }
        }
        if !found {
            return Ok(None);
        }
        Interface::parse(&String::from_utf8_lossy(&text)).map(Some)
    }

    /// The bytes the module's `roda.interface` sections take, headers
    /// included: what the manifest adds to its size (0 when it has none or
    /// does not parse).
    pub fn size_in(module: &[u8]) -> usize {
        manifest_sections(module).map_or(0, |sections| sections.iter().map(|range| range.len()).sum())
    }

    /// Reads a section's text.
    ///
    /// # Errors
    ///
    /// [`InterfaceError`] for a line that is not the format's, a missing or
    /// repeated header, a later format, or a name declared twice.
    pub fn parse(text: &str) -> Result<Interface, InterfaceError> {
        let mut interface = Interface::default();
        let mut headers = 0;
        let mut functions = 0;
        for (index, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            let parsed = Line::parse(line).map_err(|message| InterfaceError::Line {
                line: index + 1,
                text: line.chars().take(80).collect(),
                message,
            })?;
            match parsed {
                Line::Header(header) => {
                    headers += 1;
                    if header.format > FORMAT {
                        return Err(InterfaceError::Format(header.format));
                    }
                    interface.abi = header.abi;
                }
                Line::Function(function) => {
                    functions += 1;
                    interface.function = Some(function.function);
                    interface.doc = function.doc;
                    interface.params = function.params;
                }
                Line::Status(status) => interface.statuses.push(NamedStatus {
                    name: status.status,
                    status: Status::from_code(status.code),
                    doc: status.doc,
                }),
                Line::Constant(constant) => interface.constants.push(constant.constant),
            }
        }
        if headers != 1 {
            return Err(InterfaceError::Header(headers));
        }
        if functions > 1 {
            return Err(InterfaceError::Rule(format!("has {functions} `function` lines; a module has one `execute`")));
        }
        interface.statuses.sort_by_key(|s| s.status.code());
        interface.constants.sort();
        interface.check()?;
        Ok(interface)
    }

    /// Checks the rules a written manifest must keep too: at most eight
    /// parameters, no name twice, no code twice.
    ///
    /// # Errors
    ///
    /// [`InterfaceError::Rule`], saying which rule and what broke it.
    pub fn check(&self) -> Result<(), InterfaceError> {
        let rule = |message: String| Err(InterfaceError::Rule(message));
        if self.params.len() > ledger_abi::PARAM_COUNT {
            return rule(format!(
                "declares {} parameters; `execute` takes {}",
                self.params.len(),
                ledger_abi::PARAM_COUNT
            ));
        }
        if let Some(name) = first_repeat(self.params.iter().map(|p| p.name.as_str())) {
            return rule(format!("declares the parameter `{name}` twice"));
        }
        if let Some(name) = first_repeat(self.statuses.iter().map(|s| s.name.as_str())) {
            return rule(format!("declares the status `{name}` twice"));
        }
        for pair in self.statuses.windows(2) {
            if pair[0].status == pair[1].status {
                return rule(format!(
                    "names the status code {} twice (`{}` and `{}`)",
                    pair[0].status.code(),
                    pair[0].name,
                    pair[1].name
                ));
            }
        }
        if let Some(name) = first_repeat(self.constants.iter().map(String::as_str)) {
            return rule(format!("declares the constant `{name}` twice"));
        }
        for name in self.params.iter().map(|p| &p.name).chain(self.statuses.iter().map(|s| &s.name)) {
            if !is_identifier(name) {
                return rule(format!(
                    "names something `{name}`: names are ASCII letters, digits and `_`, starting with a letter or `_`"
                ));
            }
        }
        Ok(())
    }

    /// The section's text, one line per declaration, in a fixed order.
    pub fn to_text(&self) -> String {
        let mut lines = vec![line(&Header { format: FORMAT, abi: self.abi.clone() })];
        if self.function.is_some() || !self.params.is_empty() {
            lines.push(line(&FunctionLine {
                function: self.function.clone().unwrap_or_default(),
                doc: self.doc.clone(),
                params: self.params.clone(),
            }));
        }
        lines.extend(
            self.statuses
                .iter()
                .map(|s| line(&StatusLine { status: s.name.clone(), code: s.status.code(), doc: s.doc.clone() })),
        );
        lines.extend(self.constants.iter().map(|c| line(&ConstantLine { constant: c.clone() })));
        lines.concat()
    }

    /// `module` with this manifest appended as a `roda.interface` section.
    ///
    /// # Errors
    ///
    /// [`InterfaceError::Present`] when the module has one already,
    /// [`InterfaceError::Module`] when it does not parse, and
    /// [`InterfaceError::Rule`] when the manifest breaks a rule.
    pub fn embed(&self, module: &[u8]) -> Result<Vec<u8>, InterfaceError> {
        self.check()?;
        if Interface::from_module(module)?.is_some() {
            return Err(InterfaceError::Present);
        }
        let payload = self.to_text();
        let mut body = Vec::new();
        leb128(&mut body, SECTION.len());
        body.extend_from_slice(SECTION.as_bytes());
        body.extend_from_slice(payload.as_bytes());
        let mut out = module.to_vec();
        out.push(0); // custom section id
        leb128(&mut out, body.len());
        out.extend_from_slice(&body);
        Ok(out)
    }

    /// `module` with its manifest in one canonical section at its end, or
    /// `None` when it has none. The linker concatenates the lines the
    /// macros write in an order that depends on symbol names, which depend
    /// on where the crate was built; the canonical form is the same
    /// wherever it was.
    ///
    /// # Errors
    ///
    /// [`InterfaceError`] when the module or its manifest does not read.
    pub fn canonicalize(module: &[u8]) -> Result<Option<Vec<u8>>, InterfaceError> {
        let Some(interface) = Interface::from_module(module)? else { return Ok(None) };
        let mut without = Vec::with_capacity(module.len());
        let mut kept = 0;
        for section in manifest_sections(module)? {
            without.extend_from_slice(&module[kept..section.start]);
            kept = section.end;
        }
        without.extend_from_slice(&module[kept..]);
        interface.embed(&without).map(Some)
    }

    /// The name this manifest gives `status`, if it gives one.
    pub fn status_name(&self, status: Status) -> Option<&str> {
        self.statuses.iter().find(|s| s.status == status).map(|s| s.name.as_str())
    }

    /// A status named by the manifest (`COLLATERAL_SHORT`), exactly as
    /// written.
    pub fn status_by_name(&self, name: &str) -> Option<Status> {
        self.statuses.iter().find(|s| s.name == name).map(|s| s.status)
    }

    /// The slot of the parameter named `name`, and the parameter.
    pub fn param(&self, name: &str) -> Option<(usize, &Param)> {
        self.params.iter().enumerate().find(|(_, p)| p.name == name)
    }

    /// The slots of `execute` from parameters given by name: every
    /// parameter once. A value its kind refuses is placed all the same (the
    /// function refuses it, as a test may want); [`check_values`](Interface::check_values)
    /// says which.
    ///
    /// ```
    /// use ledger_core::interface::{Interface, Param, ParamKind};
    ///
    /// let interface = Interface {
    ///     params: vec![
    ///         Param { name: "to".into(), kind: ParamKind::Account },
    ///         Param { name: "amount".into(), kind: ParamKind::Amount },
    ///     ],
    ///     ..Interface::default()
    /// };
    /// assert_eq!(interface.slots([("amount", 100), ("to", 7)]).unwrap(), [7, 100]);
    /// let slots = interface.slots([("to", 7), ("amount", -1)]).unwrap();
    /// let err = interface.check_values(&slots).unwrap_err();
    /// assert!(err.to_string().starts_with("`amount` (amount) takes 0 or more"));
    /// let err = interface.slots([("to", 7)]).unwrap_err();
    /// assert_eq!(err.to_string(), "missing `amount`: the function takes to, amount; give each by name");
    /// ```
    ///
    /// # Errors
    ///
    /// [`ParamError`] for a name the function does not take, one given
    /// twice, or one missing.
    pub fn slots<'a>(&self, named: impl IntoIterator<Item = (&'a str, i64)>) -> Result<Vec<i64>, ParamError> {
        let takes = || self.params.iter().map(|p| p.name.clone()).collect::<Vec<_>>().join(", ");
        let mut slots: Vec<Option<i64>> = vec![None; self.params.len()];
        for (name, value) in named {
            let Some((slot, _)) = self.param(name) else {
                return Err(ParamError::Unknown { name: name.to_owned(), takes: takes() });
            };
            if slots[slot].replace(value).is_some() {
                return Err(ParamError::Twice(name.to_owned()));
            }
        }
        let missing: Vec<&str> =
            self.params.iter().zip(&slots).filter(|(_, v)| v.is_none()).map(|(p, _)| p.name.as_str()).collect();
        if !missing.is_empty() {
            return Err(ParamError::Missing { names: missing.join("`, `"), takes: takes() });
        }
        Ok(slots.into_iter().flatten().collect())
    }

    /// Whether each slot holds a value its parameter's kind accepts (a
    /// negative amount fails the call before the function runs).
    ///
    /// # Errors
    ///
    /// [`ParamError::Refused`] for the first that does not.
    pub fn check_values(&self, slots: &[i64]) -> Result<(), ParamError> {
        for (param, &value) in self.params.iter().zip(slots) {
            param.kind.accepts(value).map_err(|accepts| ParamError::Refused {
                name: param.name.clone(),
                kind: param.kind.name(),
                accepts,
                value,
            })?;
        }
        Ok(())
    }

    /// `status` as the ledger names it, then as the function does:
    /// `USER(140) = COLLATERAL_SHORT`; the ledger's name alone when the
    /// manifest gives none.
    ///
    /// ```
    /// use ledger_core::Status;
    /// use ledger_core::interface::{Interface, NamedStatus};
    ///
    /// let interface = Interface {
    ///     statuses: vec![NamedStatus { name: "COLLATERAL_SHORT".into(), status: Status::user(140), doc: String::new() }],
    ///     ..Interface::default()
    /// };
    /// assert_eq!(interface.describe(Status::user(140)), "USER(140) = COLLATERAL_SHORT");
    /// assert_eq!(interface.describe(Status::NONE), "NONE");
    /// ```
    pub fn describe(&self, status: Status) -> String {
        describe(status, self.status_name(status))
    }
}

/// The constants `module`'s `register()` defines, as a v2 server runs it at
/// registration (in a fresh simulator), in name order; `None` when the
/// module does not register as a v2 function.
///
/// ```
/// let module = wat::parse_str(r#"(module
///   (import "ledger" "kv_register_constant" (func $define (param i32)))
///   (memory (export "memory") 1)
///   (data (i32.const 16) "calls\00")
///   (func (export "register") (call $define (i32.const 16)))
///   (func (export "execute") (param i64 i64 i64 i64 i64 i64 i64 i64) (result i32) i32.const 0))"#).unwrap();
/// assert_eq!(ledger_core::interface::registered_constants(&module), Some(vec!["calls".to_owned()]));
/// ```
pub fn registered_constants(module: &[u8]) -> Option<Vec<String>> {
    let config = crate::LedgerConfig { keep_history: false, ..crate::LedgerConfig::default() };
    let mut ledger = crate::v2::Ledger::new(config).ok()?;
    ledger.register_function("interface", module, crate::IfRegistered::Refuse).ok()?;
    let mut names: Vec<String> =
        ledger.state().constants().map(|(name, _)| String::from_utf8_lossy(name).into_owned()).collect();
    names.sort();
    Some(names)
}

/// `status`, followed by the function's own name for it when it has one.
pub fn describe(status: Status, name: Option<&str>) -> String {
    match name {
        Some(name) if name != status.to_string() => format!("{status} = {name}"),
        _ => status.to_string(),
    }
}

fn line<T: Serialize>(value: &T) -> String {
    let mut text = serde_json::to_string(value).expect("manifest lines are plain data");
    text.push('\n');
    text
}

/// The bytes of each `roda.interface` section of `module`, header (id and
/// size) included. Sections follow one another, so a section's header
/// starts where the previous section's contents end (after the 8-byte
/// preamble for the first).
fn manifest_sections(module: &[u8]) -> Result<Vec<std::ops::Range<usize>>, InterfaceError> {
    let mut sections = Vec::new();
    let mut previous_end = 8;
    for payload in Parser::new(0).parse_all(module) {
        let payload = payload.map_err(|e| InterfaceError::Module(e.message().to_owned()))?;
        let Some((_, contents)) = payload.as_section() else { continue };
        if matches!(&payload, Payload::CustomSection(section) if section.name() == SECTION) {
            sections.push(previous_end..contents.end);
        }
        previous_end = contents.end;
    }
    Ok(sections)
}

fn leb128(out: &mut Vec<u8>, mut value: usize) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

fn first_repeat<'a>(names: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let mut seen = BTreeSet::new();
    names.into_iter().find(|name| !seen.insert(*name))
}

fn is_identifier(name: &str) -> bool {
    name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Interface {
        Interface {
            abi: Some("v2".into()),
            function: Some("collateral_check".into()),
            doc: "Lends \"against\" collateral.\nSecond line.".into(),
            params: vec![
                Param { name: "lender".into(), kind: ParamKind::Account },
                Param { name: "amount".into(), kind: ParamKind::Amount },
            ],
            statuses: vec![
                NamedStatus { name: "UNDERCOLLATERALIZED".into(), status: Status::user(140), doc: "Short.".into() },
                NamedStatus { name: "LENDER_SHORT".into(), status: Status::user(141), doc: String::new() },
            ],
            constants: vec!["calls".into(), "spent".into()],
        }
    }

    #[test]
    fn text_round_trips_whatever_the_line_order() {
        let interface = sample();
        let text = interface.to_text();
        assert_eq!(Interface::parse(&text).unwrap(), interface);
        let mut lines: Vec<&str> = text.lines().collect();
        lines.reverse();
        assert_eq!(Interface::parse(&lines.join("\n")).unwrap(), interface, "order carries no meaning");
    }

    #[test]
    fn embedding_twice_is_refused_and_the_section_survives_validation() {
        let module = wat::parse_str(
            "(module (func (export \"execute\") (param i64 i64 i64 i64 i64 i64 i64 i64) (result i32) i32.const 0))",
        )
        .unwrap();
        let with = sample().embed(&module).unwrap();
        assert!(crate::abi::validate(&with).is_valid());
        assert_eq!(Interface::size_in(&with), with.len() - module.len());
        assert_eq!(Interface::size_in(&module), 0);
        assert_eq!(sample().embed(&with), Err(InterfaceError::Present));
    }

    #[test]
    fn the_canonical_form_is_one_section_whatever_the_order_of_the_lines() {
        let module = wat::parse_str(
            r#"(module
                (@custom "roda.interface" "{\"status\":\"A\",\"code\":140}\n")
                (func (export "execute") (param i64 i64 i64 i64 i64 i64 i64 i64) (result i32) i32.const 0)
                (@custom "other" "kept")
                (@custom "roda.interface" "{\"roda.interface\":1,\"abi\":\"v1\"}\n"))"#,
        )
        .unwrap();
        let canonical = Interface::canonicalize(&module).unwrap().unwrap();
        assert_eq!(Interface::from_module(&canonical).unwrap(), Interface::from_module(&module).unwrap());
        assert_eq!(Interface::canonicalize(&canonical).unwrap().unwrap(), canonical, "idempotent");
        let sections: Vec<String> = Parser::new(0)
            .parse_all(&canonical)
            .filter_map(|p| match p.unwrap() {
                Payload::CustomSection(s) => Some(s.name().to_owned()),
                _ => None,
            })
            .collect();
        assert_eq!(sections, ["other", SECTION]);
        assert!(crate::abi::validate(&canonical).is_valid());
        let none = wat::parse_str("(module)").unwrap();
        assert_eq!(Interface::canonicalize(&none).unwrap(), None);
    }

    #[test]
    fn broken_manifests_say_what_is_wrong() {
        let header = "{\"roda.interface\":1}\n";
        let cases = [
            ("", "0 header lines"),
            ("{\"roda.interface\":2}", "format 2"),
            ("{\"roda.interface\":1}\n{\"roda.interface\":1}", "2 header lines"),
            (&format!("{header}{{\"status\":\"A\",\"code\":300}}"), "line 2"),
            (&format!("{header}{{\"constant\":\"c\",\"extra\":1}}"), "not a manifest line"),
            (
                &format!("{header}{{\"function\":\"f\",\"params\":[{{\"name\":\"a\",\"kind\":\"float\"}}]}}"),
                "unknown parameter kind `float`",
            ),
            (
                &format!("{header}{{\"status\":\"A\",\"code\":140}}\n{{\"status\":\"B\",\"code\":140}}"),
                "code 140 twice",
            ),
            (
                &format!("{header}{{\"status\":\"A\",\"code\":140}}\n{{\"status\":\"A\",\"code\":141}}"),
                "status `A` twice",
            ),
            (
                &format!(
                    "{header}{{\"function\":\"f\",\"params\":[{{\"name\":\"a\",\"kind\":\"i64\"}},{{\"name\":\"a\",\"kind\":\"i64\"}}]}}"
                ),
                "parameter `a` twice",
            ),
            (&format!("{header}{{\"function\":\"f\"}}\n{{\"function\":\"g\"}}"), "2 `function` lines"),
            (&format!("{header}{{\"status\":\"no spaces\",\"code\":140}}"), "names are ASCII"),
            (&format!("{header}{{\"constant\":\"c\"}}\n{{\"constant\":\"c\"}}"), "constant `c` twice"),
        ];
        for (text, expected) in cases {
            let err = Interface::parse(text).unwrap_err().to_string();
            assert!(err.contains(expected), "{text:?}: {err}");
        }
        let nine = (0..9).map(|i| format!("{{\"name\":\"p{i}\",\"kind\":\"i64\"}}")).collect::<Vec<_>>().join(",");
        let err = Interface::parse(&format!("{header}{{\"function\":\"f\",\"params\":[{nine}]}}")).unwrap_err();
        assert!(err.to_string().contains("declares 9 parameters"), "{err}");
        assert!(matches!(Interface::from_module(b"\0asm\x01\0\0\0\x01"), Err(InterfaceError::Module(_))));
    }
}
