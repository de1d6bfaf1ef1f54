//! Watching a project's sources: `cargo roda dev --watch` rebuilds and
//! re-registers when they change, `cargo roda test --watch` runs again.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::Duration;

use notify::event::ModifyKind;
use notify::{Event, EventKind, RecommendedWatcher, RecursiveMode, Watcher as _};

/// How long the files must be quiet before a batch of changes is reported:
/// an editor's save is several events (a temporary file, a rename).
pub const DEBOUNCE: Duration = Duration::from_millis(200);

/// Directories whose changes are a build's or a tool's, never the
/// source's: the outputs of cargo, `cargo roda build` and npm, the
/// deployment records, git.
pub const IGNORED: &[&str] = &["target", "build", "node_modules", ".roda", ".git"];

/// Why the project cannot be watched.
#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    /// The operating system's watcher refused.
    #[error("cannot watch {}: {message}", .path.display())]
    Watch {
        /// The directory.
        path: PathBuf,
        /// What the watcher said.
        message: String,
    },
    /// The watcher stopped.
    #[error("the file watcher stopped")]
    Stopped,
}

/// The changes under a project directory, debounced.
pub struct Watcher {
    root: PathBuf,
    events: Receiver<notify::Result<Event>>,
    _watcher: RecommendedWatcher,
}

impl Watcher {
    /// Watches everything under `root` but the [`IGNORED`] directories.
    ///
    /// # Errors
    ///
    /// [`WatchError::Watch`] when the system's watcher cannot be set up
    /// (out of inotify watches, say).
    pub fn new(root: &Path) -> Result<Watcher, WatchError> {
        let failed = |e: notify::Error| WatchError::Watch { path: root.to_path_buf(), message: e.to_string() };
        // Events name paths under the path watched: the canonical one, so
        // that they compare with it.
        let root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
        let (sender, events) = channel();
        let mut watcher = notify::recommended_watcher(sender).map_err(failed)?;
        watcher.watch(&root, RecursiveMode::Recursive).map_err(failed)?;
        Ok(Watcher { root, events, _watcher: watcher })
    }

    /// Blocks until a source file changes; the changed files that still
    /// exist (an editor's temporary files come and go), relative to the
    /// project, in name order: empty when only removals changed it.
    ///
    /// # Errors
    ///
    /// [`WatchError::Stopped`] when the watcher stops.
    pub fn next_change(&self) -> Result<Vec<PathBuf>, WatchError> {
        let mut changed = Vec::new();
        // The first change, then whatever follows it until DEBOUNCE passes
        // without one.
        while changed.is_empty() {
            let event = self.events.recv().map_err(|_| WatchError::Stopped)?;
            self.collect(event, &mut changed);
        }
        loop {
            match self.events.recv_timeout(DEBOUNCE) {
                Ok(event) => self.collect(event, &mut changed),
                Err(RecvTimeoutError::Timeout) => break,
                Err(RecvTimeoutError::Disconnected) => return Err(WatchError::Stopped),
            }
        }
        changed.sort();
        changed.dedup();
        changed.retain(|path| self.root.join(path).exists());
        Ok(changed)
    }

    /// Adds the source files `event` changed. Reading a file is an event
    /// too (the build reads them all), and so is a change of its metadata
    /// (an access time): neither is a change of the source.
    fn collect(&self, event: notify::Result<Event>, changed: &mut Vec<PathBuf>) {
        let changes = |kind: &EventKind| match kind {
            EventKind::Modify(ModifyKind::Metadata(_)) => false,
            EventKind::Create(_) | EventKind::Modify(_) | EventKind::Remove(_) => true,
            _ => false,
        };
        match event {
            Ok(event) if changes(&event.kind) => {
                changed.extend(event.paths.iter().filter_map(|path| source_file(&self.root, path)));
            }
            Ok(_) => {}
            // A watcher error (an overflowed queue) may hide a change.
            Err(_) => changed.push(PathBuf::from(".")),
        }
    }
}

/// What [`Watcher::next_change`] found, said: `changed: src/lib.rs,
/// Roda.toml`, or `files removed`.
///
/// ```
/// use std::path::PathBuf;
/// assert_eq!(cargo_roda::watch::describe(&[PathBuf::from("a.wat"), PathBuf::from("tests/t.toml")]), "changed: a.wat, tests/t.toml");
/// assert_eq!(cargo_roda::watch::describe(&[]), "files removed");
/// ```
pub fn describe(changed: &[PathBuf]) -> String {
    if changed.is_empty() {
        return "files removed".into();
    }
    let changed: Vec<String> = changed.iter().map(|path| path.display().to_string()).collect();
    format!("changed: {}", changed.join(", "))
}

/// `path` relative to `root`, when it is a source file: outside every
/// [`IGNORED`] directory, and not an editor's backup or swap file.
///
/// ```
/// use std::path::Path;
/// use cargo_roda::watch::source_file;
///
/// let root = Path::new("/p");
/// assert_eq!(source_file(root, Path::new("/p/src/lib.rs")), Some("src/lib.rs".into()));
/// assert_eq!(source_file(root, Path::new("/p/target/release/f.wasm")), None);
/// assert_eq!(source_file(root, Path::new("/p/src/.lib.rs.swp")), None);
/// assert_eq!(source_file(root, Path::new("/p/function.wat~")), None);
/// ```
pub fn source_file(root: &Path, path: &Path) -> Option<PathBuf> {
    let relative = path.strip_prefix(root).ok()?;
    let first = relative.components().next()?.as_os_str().to_str()?;
    let name = relative.file_name()?.to_str()?;
    let scratch = name.starts_with('.') && name.ends_with(".swp") || name.ends_with('~') || name.starts_with(".#");
    (!IGNORED.contains(&first) && !scratch).then(|| relative.to_path_buf())
}
