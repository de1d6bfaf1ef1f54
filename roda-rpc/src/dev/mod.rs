//! A local ledger server on ledger-core, wire-compatible with a roda-ledger
//! server at ee2b042 (ABI v1, `dev/ee2b042.rs`), or at e14b146 with
//! [`DevConfig::wire`] (ABI v2, `dev/head.rs`), for the methods it serves,
//! with the same status codes and messages: [`start`] it in-process, stop it with
//! [`DevHandle::shutdown`] (or by dropping the handle). `cargo roda dev` is
//! this plus flags and signal handling.
//!
//! A shutdown interrupts a function call that is running (it fails with
//! status 5, like any trap, and is answered) and then stops serving.
//!
//! Every difference from a real server is chosen and listed, with its
//! reason, in the repository's `docs/differences.md`. Two of them are
//! switches here: [`DevConfig::pipeline_delay`] makes submission, commit and
//! the snapshot lag as a server's stages do (instant by default), and
//! [`DevConfig::shuffle_functions`] lists functions in a new order on every
//! call, as a server's arbitrary order may be.

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use ledger_core::{AnyOperation, Engine, Installed, Interrupter, LedgerConfig, SetupError};
use ledger_core::{ErrorCode, FunctionInfo, IfRegistered, Registered, RegistryError};
use tonic::{Request, Status};

use crate::store::{Durable, Recovery, Store, StoreError};
use crate::token::Token;

mod ee2b042;
mod head;

pub use crate::Wire;

/// How to run the server.
#[derive(Debug, Clone)]
pub struct DevConfig {
    /// Where to listen; port 0 picks a free port ([`DevHandle::local_addr`]).
    pub listen: SocketAddr,
    /// The ledger's settings.
    pub ledger: LedgerConfig,
    /// Where to keep data; in memory when `None`.
    pub data_dir: Option<PathBuf>,
    /// Serve TLS with this identity.
    pub tls: Option<ServerTls>,
    /// A bearer token every request must carry.
    pub token: Option<Token>,
    /// Called with what happens while serving (see [`DevEvent`]).
    pub on_event: Option<EventHook>,
    /// `None` (the default): every operation is computed, committed and on
    /// the snapshot before `SubmitOperation` answers, and every read is
    /// current. `Some(d)`: as on a server, `SubmitOperation` answers at
    /// once; the operation is computed `d` later, committed `2d` later and
    /// on the snapshot `3d` later, and balances and transactions are read
    /// from the snapshot, so client code can be tested against that race.
    pub pipeline_delay: Option<Duration>,
    /// List functions in a new order on every `ListFunctions` (sorted by
    /// name otherwise): a server's order is arbitrary.
    pub shuffle_functions: bool,
    /// Which server to be: ee2b042's wire on the ABI v1 engine (the
    /// default), or HEAD's (e14b146) on the ABI v2 engine.
    pub wire: Wire,
    /// HEAD only: answer as a cluster's follower does, refusing every write
    /// with FAILED_PRECONDITION "node is not a leader; writes are not
    /// accepted" and saying `is_leader: false`; reads answer. For testing
    /// how a client finds the leader.
    pub follower: bool,
}

impl Default for DevConfig {
    /// In memory, on a free loopback port, no TLS, no token.
    fn default() -> Self {
        DevConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            ledger: LedgerConfig::default(),
            data_dir: None,
            tls: None,
            token: None,
            on_event: None,
            pipeline_delay: None,
            shuffle_functions: false,
            wire: Wire::Ee2b042,
            follower: false,
        }
    }
}

impl DevConfig {
    /// Whether the server would listen beyond this machine without a token:
    /// anyone who reaches the port can register functions and move money.
    pub fn open_beyond_loopback(&self) -> bool {
        self.token.is_none() && !self.listen.ip().is_loopback()
    }
}

/// TLS material for the server.
#[derive(Clone)]
pub struct ServerTls {
    /// PEM certificate chain.
    pub cert: Vec<u8>,
    /// PEM private key.
    pub key: Vec<u8>,
}

impl std::fmt::Debug for ServerTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerTls").field("cert", &format_args!("{} bytes", self.cert.len())).finish_non_exhaustive()
    }
}

/// Something that happened in a running server.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DevEvent {
    /// A function call is about to run as transaction `tx_id`.
    CallStarted {
        /// The function.
        name: String,
        /// Its transaction.
        tx_id: u64,
    },
}

/// A callback for [`DevEvent`]s; it runs on the server's threads, so it
/// must return quickly.
#[derive(Clone)]
pub struct EventHook(pub Arc<dyn Fn(&DevEvent) + Send + Sync>);

impl std::fmt::Debug for EventHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EventHook")
    }
}

/// Why the server could not start, or failed while serving.
#[derive(Debug, thiserror::Error)]
pub enum DevError {
    /// The data directory cannot be used.
    #[error("cannot start: {0}")]
    Store(#[from] StoreError),
    /// The ledger could not be set up.
    #[error("cannot start: {0}")]
    Ledger(#[from] SetupError),
    /// The address cannot be listened on.
    #[error("cannot listen on {address}: {source}")]
    Listen {
        /// The address.
        address: SocketAddr,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The async runtime could not start.
    #[error("cannot start the async runtime: {0}")]
    Runtime(std::io::Error),
    /// The TLS identity is unusable.
    #[error("cannot serve TLS: {0}")]
    Tls(String),
    /// Serving failed.
    #[error("server error: {0}")]
    Serve(String),
    /// A setting the chosen wire does not offer.
    #[error("{0}")]
    Unsupported(&'static str),
}

/// Operations that are accepted and not answered yet, and whether the
/// server is closing.
#[derive(Default)]
struct Activity {
    /// (operations in flight, closing)
    state: Mutex<(usize, bool)>,
    changed: Condvar,
}

/// Counts one accepted operation until dropped.
struct Counted<'a>(&'a Activity);

impl Drop for Counted<'_> {
    fn drop(&mut self) {
        self.0.lock().0 -= 1;
        self.0.changed.notify_all();
    }
}

/// How long a stopping server waits for idle connections to close.
const IDLE_GRACE: Duration = Duration::from_secs(1);

/// How often a closing server interrupts calls that started since.
const INTERRUPT_EVERY: Duration = Duration::from_millis(10);

impl Activity {
    fn lock(&self) -> MutexGuard<'_, (usize, bool)> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Counts an operation in, unless the server is closing.
    fn enter(&self) -> Result<Counted<'_>, Status> {
        let mut state = self.lock();
        if state.1 {
            return Err(Status::unavailable("the server is shutting down"));
        }
        state.0 += 1;
        self.changed.notify_all();
        Ok(Counted(self))
    }

    /// Refuses new operations and interrupts running calls until none is
    /// left. One counted in but still waiting for the ledger starts after an
    /// interrupt, so interrupts repeat until it is gone too.
    fn close(&self, interrupter: &Interrupter) {
        let mut state = self.lock();
        state.1 = true;
        while state.0 > 0 {
            interrupter.interrupt();
            state = self.changed.wait_timeout(state, INTERRUPT_EVERY).unwrap_or_else(PoisonError::into_inner).0;
        }
    }
}

/// The data directory of a running server, if it has one, and whether a
/// write to it failed.
struct Log<E: Durable> {
    store: Option<Store<E>>,
    /// Set when a write to disk failed: the ledger in memory may be ahead of
    /// the log, so no further write is accepted.
    broken: Option<String>,
}

impl<E: Durable> Log<E> {
    fn writable(&self) -> Result<(), Status> {
        match &self.broken {
            Some(why) => {
                Err(Status::internal(format!("the data directory failed earlier ({why}); restart the server")))
            }
            None => Ok(()),
        }
    }

    /// Marks the log broken by `error`: every later write is refused.
    fn fail(&mut self, what: &str, error: StoreError) -> Status {
        self.broken = Some(error.to_string());
        Status::internal(format!("cannot write {what}: {error}"))
    }

    /// Appends a record, fsynced; a failure stops every later write.
    fn persist(&mut self, record: &E::LogRecord) -> Result<(), Status> {
        let Some(store) = &mut self.store else { return Ok(()) };
        let written = store.append(record);
        written.map_err(|e| self.fail("the log", e))
    }

    /// Writes a function's binary (empty for an unregister), fsynced; a
    /// failure stops every later write, as any failed write to the data
    /// directory does.
    fn write_function(&mut self, name: &str, version: u32, bytes: &[u8]) -> Result<(), Status> {
        let Some(store) = &self.store else { return Ok(()) };
        let written = store.write_function(name, version, bytes);
        written.map_err(|e| self.fail("the function", e))
    }
}

/// The ledger a server serves and its data directory: what every wire
/// does with operations and registrations, whatever the engine.
struct Core<E: Durable> {
    ledger: E,
    log: Log<E>,
}

impl<E: Durable> Core<E> {
    /// A ledger built elsewhere (a fork), in memory.
    fn in_memory(ledger: E) -> Core<E> {
        Core { ledger, log: Log { store: None, broken: None } }
    }

    /// The ledger, recovered from the data directory when there is one.
    fn open(config: &DevConfig) -> Result<(Core<E>, Recovery), DevError> {
        let (store, ledger, recovery) = match &config.data_dir {
            Some(dir) => {
                let (store, ledger, recovery) = Store::<E>::open(dir, config.ledger.clone())?;
                (Some(store), ledger, recovery)
            }
            None => (None, E::new(config.ledger.clone())?, Recovery::default()),
        };
        Ok((Core { ledger, log: Log { store, broken: None } }, recovery))
    }

    /// Runs an operation and logs it; returns what it did.
    fn compute(&mut self, mut op: E::Operation, on_event: Option<&EventHook>) -> Result<E::Transaction, Status> {
        self.log.writable()?;
        if let (Some(name), Some(hook)) = (op.called(), on_event) {
            (hook.0)(&DevEvent::CallStarted { name: name.to_owned(), tx_id: self.ledger.next_tx_id() });
        }
        let transaction = self.ledger.submit(&op);
        if let Some(name) = op.called_mut() {
            *name = loggable_name(std::mem::take(name));
        }
        self.log.persist(&E::log_record(Some(op), &transaction))?;
        Ok(transaction)
    }
}

/// What a wire's service keeps under its lock: the [`Core`], and what the
/// wire adds.
trait Served: Send + 'static {
    /// The engine it serves.
    type Engine: Durable;

    /// The ledger and its log.
    fn core(&mut self) -> &mut Core<Self::Engine>;

    /// Brings the ledger up to date before the registry changes (v1's
    /// delayed pipeline computes what was submitted before).
    fn before_registry_change(&mut self);

    /// What the pipeline shows once a registration or an unregister is
    /// written (ee2b042's commit index drops to 0).
    fn after_registry_change(&mut self);
}

/// Locks `state`, whatever a panic elsewhere left it as: a panic must not
/// take the server down with it.
fn lock<S>(state: &Mutex<S>) -> MutexGuard<'_, S> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Registers a function as a server of either wire does: the name checked
/// under the lock (a taken one compiles nothing; a bad binary under it
/// still gets the server's binary error), the binary compiled with no lock
/// held (a large module takes long), then under the lock again: what was
/// submitted before computed, the checks again (another registration may
/// have taken the name meanwhile), the binary written durably, the function
/// made live (v2: its `register()` runs), its record logged. Counted in
/// flight, off the async threads: `register()` runs for as long as its fuel
/// lasts.
async fn register<S: Served>(
    state: Arc<Mutex<S>>,
    control: Arc<Control>,
    name: String,
    binary: Vec<u8>,
    if_registered: IfRegistered,
) -> Result<Registered, Status> {
    let compiler = {
        let mut state = lock(&state);
        let core = state.core();
        core.log.writable()?;
        core.ledger.refuse_taken_name(&name, &binary, if_registered).map_err(registry_status)?;
        core.ledger.compiler()
    };
    off_the_async_threads(move || {
        let compiled = compiler.compile(&binary).map_err(|e| registry_status(e.into()))?;
        let _counted = control.activity.enter()?;
        let mut state = lock(&state);
        state.before_registry_change();
        let core = state.core();
        core.log.writable()?;
        let prepared = core.ledger.prepare_compiled(&name, compiled, if_registered).map_err(registry_status)?;
        // Durable before it is live: the binary, then (once it ran) its record.
        core.log.write_function(&name, prepared.registered().version, &binary)?;
        let Installed { outcome, record } = core.ledger.install(prepared);
        core.log.persist(&record)?;
        state.after_registry_change();
        outcome.map_err(registry_status)
    })
    .await
}

/// Unregisters a function as a server of either wire does: its marker
/// (an empty binary of the next version) written durably, then the
/// function removed and the removal logged.
async fn unregister<S: Served>(state: Arc<Mutex<S>>, control: Arc<Control>, name: String) -> Result<u32, Status> {
    off_the_async_threads(move || {
        let _counted = control.activity.enter()?;
        let mut state = lock(&state);
        state.before_registry_change();
        let core = state.core();
        core.log.writable()?;
        let version = core.ledger.check_unregister(&name).map_err(registry_status)?;
        core.log.write_function(&name, version, &[])?;
        let (version, record) = core.ledger.unregister(&name).map_err(registry_status)?;
        core.log.persist(&record)?;
        state.after_registry_change();
        Ok(version)
    })
    .await
}

/// Runs `work` on a blocking thread (a function call runs for as long as
/// its fuel lasts) and answers with what it gives.
async fn off_the_async_threads<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, Status> + Send + 'static,
) -> Result<T, Status> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| Status::internal(format!("the operation did not finish: {e}")))?
}

/// What the handle controls in a service of either wire: the operations in
/// flight, and the calls to interrupt when stopping.
struct Control {
    activity: Activity,
    interrupter: Interrupter,
}

/// A service ready to serve: its routes, its [`Control`], what recovery
/// found, and what a stop must finish before the server goes (a delayed
/// pipeline's queue).
struct Built {
    routes: tonic::service::Routes,
    control: Arc<Control>,
    recovery: Recovery,
    drain: Option<Drain>,
    /// HEAD: whether it answers as a follower, changeable while serving.
    follower: Option<Arc<std::sync::atomic::AtomicBool>>,
}

/// `routes` with gRPC reflection beside them, answering with the wire's
/// descriptors as both servers do (`grpcurl list` names the service).
fn with_reflection(
    routes: tonic::service::Routes,
    descriptors: &'static [u8],
) -> Result<tonic::service::Routes, DevError> {
    let reflection = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(descriptors)
        .build_v1()
        .map_err(|e| DevError::Serve(format!("cannot describe the service for reflection: {e}")))?;
    Ok(routes.add_service(reflection))
}

/// Finishes what was accepted before a stop.
type Drain = Box<dyn FnOnce() -> Result<(), DevError> + Send>;

/// A called function's name as the log keeps it. A call of a name no
/// function can have fails with status 5, as on a server; its name (which
/// may be megabytes) is not kept: the log holds only what could be
/// registered.
fn loggable_name(name: String) -> String {
    match name.len() > ledger_core::abi::MAX_NAME_LEN || ledger_core::abi::validate_function_name(&name).is_err() {
        true => String::new(),
        false => name,
    }
}

fn registry_status(err: RegistryError) -> Status {
    let message = err.to_string();
    match err.code() {
        ErrorCode::InvalidArgument => Status::invalid_argument(message),
        ErrorCode::AlreadyExists => Status::already_exists(message),
        ErrorCode::NotFound => Status::not_found(message),
        ErrorCode::Internal => Status::internal(message),
    }
}

/// The live functions in the order `ListFunctions` gives them: sorted by
/// name, or shuffled on every call when asked (a server's order is
/// arbitrary).
fn listed(mut functions: Vec<FunctionInfo>, shuffled: bool) -> impl Iterator<Item = FunctionInfo> {
    if shuffled {
        shuffle(&mut functions);
    }
    functions.into_iter()
}

/// Shuffles with a seed the standard library draws at random for every
/// hasher (no random-number crate needed for a listing's order).
fn shuffle<T>(items: &mut [T]) {
    use std::hash::{BuildHasher, RandomState};
    let seed = RandomState::new();
    for i in (1..items.len()).rev() {
        let j = (seed.hash_one(i) % (i as u64 + 1)) as usize;
        items.swap(i, j);
    }
}

/// A running server; it stops when dropped.
pub struct DevHandle {
    local_addr: SocketAddr,
    tls: bool,
    recovery: Recovery,
    control: Arc<Control>,
    stop: tokio::sync::watch::Sender<bool>,
    thread: Option<std::thread::JoinHandle<Result<(), tonic::transport::Error>>>,
    drain: Option<Drain>,
    follower: Option<Arc<std::sync::atomic::AtomicBool>>,
}

/// Opens the ledger (recovering it from the data directory, if set), binds
/// the address and serves on threads of its own until the handle is shut
/// down or dropped. Works from synchronous and asynchronous code alike.
///
/// # Errors
///
/// [`DevError::Store`] for a data directory that cannot be used,
/// [`DevError::Listen`] for an address that cannot be bound,
/// [`DevError::Tls`] for an unusable TLS identity.
pub fn start(config: DevConfig) -> Result<DevHandle, DevError> {
    let built = match config.wire {
        Wire::Ee2b042 if config.follower => {
            return Err(DevError::Unsupported(
                "an ee2b042 server has no cluster: only the HEAD wire serves as a follower",
            ));
        }
        Wire::Ee2b042 => ee2b042::build(&config)?,
        Wire::Head => head::build(&config, None)?,
    };
    serve_built(config, built)
}

/// Serves a fork of a live ledger ([`crate::fork`]) on the HEAD wire, in
/// memory: what it was given, then what clients send.
///
/// # Errors
///
/// [`DevError::Unsupported`] for the ee2b042 wire or a data directory (a
/// fork lives in memory); otherwise as [`start`].
pub fn start_fork(config: DevConfig, ledger: ledger_core::v2::Ledger) -> Result<DevHandle, DevError> {
    if config.wire != Wire::Head {
        return Err(DevError::Unsupported("a fork is of a HEAD (e14b146) ledger: serve it on the HEAD wire"));
    }
    if config.data_dir.is_some() {
        return Err(DevError::Unsupported(
            "a fork lives in memory: leave the data directory out (the ledger it was forked from keeps the history)",
        ));
    }
    let built = head::build(&config, Some(ledger))?;
    serve_built(config, built)
}

/// Binds the address and serves `built` on threads of its own.
fn serve_built(config: DevConfig, built: Built) -> Result<DevHandle, DevError> {
    let Built { routes, control, recovery, drain, follower } = built;
    let listener = std::net::TcpListener::bind(config.listen)
        .and_then(|l| l.set_nonblocking(true).map(|()| l))
        .map_err(|source| DevError::Listen { address: config.listen, source })?;
    let local_addr = listener.local_addr().map_err(|source| DevError::Listen { address: config.listen, source })?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("roda-dev")
        .enable_all()
        .build()
        .map_err(DevError::Runtime)?;
    let listener = {
        let _entered = runtime.enter();
        tokio::net::TcpListener::from_std(listener)
            .map_err(|source| DevError::Listen { address: config.listen, source })?
    };
    let mut builder = tonic::transport::Server::builder();
    if let Some(tls) = &config.tls {
        let identity = tonic::transport::Identity::from_pem(&tls.cert, &tls.key);
        builder = builder
            .tls_config(tonic::transport::ServerTlsConfig::new().identity(identity))
            .map_err(|e| DevError::Tls(crate::client::error_chain(&e)))?;
    }
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let thread = std::thread::Builder::new()
        .name("roda-dev-server".into())
        .spawn(move || {
            let mut graceful = stopped.clone();
            let mut forced = stopped;
            runtime.block_on(async move {
                let serving = serve(builder, routes, listener, async move {
                    _ = graceful.wait_for(|stop| *stop).await;
                });
                tokio::select! {
                    result = serving => result,
                    // Every operation was answered before the stop; what a
                    // graceful stop still waits for is an idle client that
                    // does not answer its GOAWAY. Dropping the runtime
                    // closes those connections.
                    _ = async move {
                        _ = forced.wait_for(|stop| *stop).await;
                        tokio::time::sleep(IDLE_GRACE).await;
                    } => Ok(()),
                }
            })
        })
        .map_err(DevError::Runtime)?;
    Ok(DevHandle {
        local_addr,
        tls: config.tls.is_some(),
        recovery,
        control,
        stop,
        thread: Some(thread),
        drain,
        follower,
    })
}

impl DevHandle {
    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// `http://ADDRESS` or, with TLS, `https://ADDRESS`.
    pub fn url(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}", self.local_addr)
    }

    /// What recovering the data directory found (a dropped torn tail, for
    /// one); empty without a data directory.
    pub fn recovery(&self) -> &Recovery {
        &self.recovery
    }

    /// HEAD only: from now on, answer as a cluster's follower (`true`) or
    /// as its leader: a leadership change, for testing how clients follow
    /// it. Returns whether this server could change (an ee2b042 one has no
    /// cluster).
    pub fn set_follower(&self, follower: bool) -> bool {
        match &self.follower {
            Some(flag) => {
                flag.store(follower, std::sync::atomic::Ordering::Relaxed);
                true
            }
            None => false,
        }
    }

    /// Operations accepted and not answered yet.
    pub fn operations_in_flight(&self) -> usize {
        self.control.activity.lock().0
    }

    /// Blocks until at least `count` operations are in flight: a test's way
    /// to know a call is running, with no sleep.
    pub fn wait_for_operations_in_flight(&self, count: usize) {
        let activity = &self.control.activity;
        let state = activity.lock();
        drop(
            activity.changed.wait_while(state, |(running, _)| *running < count).unwrap_or_else(PoisonError::into_inner),
        );
    }

    /// Interrupts running calls (they are answered with status 5), stops
    /// accepting requests, and waits until the server has stopped.
    ///
    /// # Errors
    ///
    /// [`DevError::Serve`] when serving had failed.
    pub fn shutdown(mut self) -> Result<(), DevError> {
        self.stop()
    }

    fn stop(&mut self) -> Result<(), DevError> {
        let Some(thread) = self.thread.take() else { return Ok(()) };
        self.control.activity.close(&self.control.interrupter);
        if let Some(drain) = self.drain.take() {
            drain()?;
        }
        self.stop.send_replace(true);
        match thread.join() {
            Ok(result) => result.map_err(|e| DevError::Serve(crate::client::error_chain(&e))),
            Err(_) => Err(DevError::Serve("the server thread panicked".into())),
        }
    }
}

impl Drop for DevHandle {
    fn drop(&mut self) {
        // Errors were for `shutdown` to report; a drop only stops.
        let _ = self.stop();
    }
}

impl std::fmt::Debug for DevHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevHandle").field("url", &self.url()).finish_non_exhaustive()
    }
}

/// Refuses a request without the token, when there is one.
#[derive(Clone)]
struct TokenCheck(Option<Token>);

impl tonic::service::Interceptor for TokenCheck {
    fn call(&mut self, request: Request<()>) -> Result<Request<()>, Status> {
        let Some(token) = &self.0 else { return Ok(request) };
        let presented = request.metadata().get("authorization").map(|v| v.as_bytes());
        match presented.is_some_and(|presented| token.matches_header(presented)) {
            true => Ok(request),
            false => Err(Status::unauthenticated("a valid `authorization: Bearer <token>` header is required")),
        }
    }
}

/// Serves until `shutdown` completes.
async fn serve(
    mut builder: tonic::transport::Server,
    routes: tonic::service::Routes,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()>,
) -> Result<(), tonic::transport::Error> {
    builder
        .add_routes(routes)
        .serve_with_incoming_shutdown(tonic::transport::server::TcpIncoming::from(listener), shutdown)
        .await
}
