//! A client of a roda-ledger server (or [`crate::dev`]): results are
//! ledger-core types, failures one typed [`RpcError`], and a transient
//! UNAVAILABLE is retried with backoff by one helper.

use std::future::Future;
use std::path::PathBuf;
use std::time::Duration;

use ledger_core::v2::Operation;
use ledger_core::{Entry, FunctionInfo, Status};
use tonic::metadata::{Ascii, MetadataValue};
use tonic::service::Interceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Certificate, Channel, ClientTlsConfig};
use tonic::{Code, Request};

use crate::proto::{self, ledger_client::LedgerClient};
use crate::results::{
    AccountBalance, CallResult, CommittedTransaction, LinkedBalance, LogPage, PipelineIndex, committed, entry,
};
use crate::token::Token;
use crate::{Wire, head, operation_to_proto};

/// The first pause before a retry; each further one doubles it.
const FIRST_BACKOFF: Duration = Duration::from_millis(100);

/// Where and how to reach a server.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// `http://host:port` or `https://host:port`.
    pub url: String,
    /// Extra CA certificate (PEM) for `https://`; system roots otherwise.
    pub ca_cert: Option<PathBuf>,
    /// Bearer token, sent as `authorization` metadata.
    pub token: Option<Token>,
    /// Deadline for each request.
    pub timeout: Duration,
    /// How often a transient failure is retried.
    pub retries: u32,
}

impl Endpoint {
    /// `url` with no token, no extra CA, a 10 s deadline and 3 retries.
    pub fn new(url: impl Into<String>) -> Endpoint {
        Endpoint { url: url.into(), ca_cert: None, token: None, timeout: Duration::from_secs(10), retries: 3 }
    }

    /// Whether a token would travel unencrypted (`http://`) to a host that
    /// is not this machine's loopback, where anyone on the path can read it.
    ///
    /// ```
    /// use roda_rpc::client::Endpoint;
    /// use roda_rpc::token::Token;
    ///
    /// let mut endpoint = Endpoint::new("http://ledger.example:50051");
    /// assert!(!endpoint.token_in_clear_beyond_loopback(), "no token, nothing to leak");
    /// endpoint.token = Some(Token::new("t")?);
    /// assert!(endpoint.token_in_clear_beyond_loopback());
    /// endpoint.url = "http://127.0.0.1:50051".into();
    /// assert!(!endpoint.token_in_clear_beyond_loopback());
    /// endpoint.url = "https://ledger.example:50051".into();
    /// assert!(!endpoint.token_in_clear_beyond_loopback());
    /// # Ok::<_, roda_rpc::token::TokenError>(())
    /// ```
    pub fn token_in_clear_beyond_loopback(&self) -> bool {
        if self.token.is_none() || self.url.starts_with("https://") {
            return false;
        }
        let host = self.url.parse::<tonic::codegen::http::Uri>().ok().and_then(|uri| uri.host().map(str::to_owned));
        !host.is_some_and(|host| is_loopback_host(&host))
    }
}

/// `localhost`, `127.0.0.0/8` or `::1`.
pub(crate) fn is_loopback_host(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost") || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// A failed RPC: what failed, the server's text, and what to do.
#[derive(Debug, thiserror::Error)]
pub enum RpcError {
    /// The URL is not one a channel can use.
    #[error("{reason}")]
    InvalidUrl {
        /// The URL given.
        url: String,
        /// Why.
        reason: String,
    },
    /// The CA certificate file could not be read.
    #[error("cannot read the CA certificate {}: {source}", .path.display())]
    CaCert {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// TLS could not be set up.
    #[error("TLS setup failed: {0}")]
    Tls(String),
    /// No connection.
    #[error("cannot connect to {url}: {failure}")]
    Connect {
        /// The endpoint.
        url: String,
        /// Why.
        failure: ConnectFailure,
    },
    /// The server answered with an error status.
    #[error("{method} failed with {code:?}: {message}{}", hint(.method, *.code, .message))]
    Status {
        /// The method.
        method: &'static str,
        /// The gRPC code.
        code: Code,
        /// The server's text.
        message: String,
    },
    /// The server answered, but with something this client cannot read.
    #[error("{method} returned a malformed response: {message}")]
    Malformed {
        /// The method.
        method: &'static str,
        /// What was wrong.
        message: String,
    },
    /// The server's wire has no such thing (an ee2b042 server opens no
    /// accounts, keeps no KV and has no cluster).
    #[error("{what} needs a roda-ledger HEAD server (e14b146); {url} speaks the {wire} wire")]
    NotOnWire {
        /// What was asked.
        what: &'static str,
        /// The server.
        url: String,
        /// Its wire.
        wire: Wire,
    },
    /// A cluster was given no node.
    #[error("no server URL given")]
    NoNodes,
    /// No node of a cluster says it leads (an election may be under way).
    #[error("no node leads, so no write can be made ({}); an election takes seconds: try again, or raise --timeout", .nodes.join("; "))]
    NoLeader {
        /// What each node said.
        nodes: Vec<String>,
    },
    /// A write without a `user_ref` failed in a way that may still have
    /// applied it; it was not sent again, which could apply it twice.
    #[error(
        "the write to {url} may have been applied ({send}); it was not sent again, which could apply it twice: check with `cargo roda tx` or a balance, and give operations a --user-ref so a retry is deduplicated"
    )]
    WriteUncertain {
        /// The node it went to.
        url: String,
        /// The failure.
        send: Box<RpcError>,
    },
    /// A register failed in a way that may still let it land (a deadline,
    /// a lost connection), and `ListFunctions` did not show it landed: it
    /// was not sent again, which could add a version.
    #[error(
        "RegisterFunction of `{name}` may still land on the server ({send}){}; it was not sent again, so as not to add a version: run `cargo roda list`, and deploy again only if it is not there",
        match .check { Some(check) => format!("; ListFunctions could not check it ({check})"), None => "; ListFunctions does not show it yet".into() }
    )]
    RegisterUncertain {
        /// The function.
        name: String,
        /// The failure of the send.
        send: Box<RpcError>,
        /// The failure of the check, when it failed.
        check: Option<Box<RpcError>>,
    },
}

/// Why a connection could not be made, as far as it can be told.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnectFailure {
    /// Nothing listens at the address.
    #[error(
        "nothing listens there (connection refused); start a local server with `cargo roda dev`, or check the host and port"
    )]
    Refused,
    /// An `https://` URL, and the server answered in plain text.
    #[error("the server does not speak TLS; use http:// for it (https:// is for servers started with a certificate)")]
    NotTls,
    /// Anything else, with its causes (each once).
    #[error("{0}")]
    Other(String),
}

impl ConnectFailure {
    /// Tells what stopped a connection from its chain of causes: typed
    /// causes (an I/O error's kind, a TLS error) are recognised by
    /// downcasting, never by their text.
    pub fn of(error: &(dyn std::error::Error + 'static)) -> ConnectFailure {
        let mut cause = Some(error);
        while let Some(current) = cause {
            if let Some(io) = current.downcast_ref::<std::io::Error>() {
                if io.kind() == std::io::ErrorKind::ConnectionRefused {
                    return ConnectFailure::Refused;
                }
                if io.get_ref().and_then(|inner| inner.downcast_ref::<rustls::Error>()).is_some_and(is_not_tls) {
                    return ConnectFailure::NotTls;
                }
            }
            if current.downcast_ref::<rustls::Error>().is_some_and(is_not_tls) {
                return ConnectFailure::NotTls;
            }
            cause = current.source();
        }
        ConnectFailure::Other(error_chain(error))
    }
}

/// A TLS record a plain-text peer sent: not TLS at all.
fn is_not_tls(error: &rustls::Error) -> bool {
    matches!(error, rustls::Error::InvalidMessage(rustls::InvalidMessage::InvalidContentType))
}

/// Checks that `url` is one a client connects to: `http://` or `https://`,
/// a host and a port.
///
/// ```
/// use roda_rpc::client::check_server_url;
///
/// assert!(check_server_url("http://127.0.0.1:50051").is_ok());
/// assert!(check_server_url("127.0.0.1:50051").unwrap_err().contains("write http://127.0.0.1:50051"));
/// assert!(check_server_url("htp://ledger:50051").unwrap_err().contains("scheme `htp`"));
/// ```
///
/// # Errors
///
/// What is wrong and the fix, in words.
pub fn check_server_url(url: &str) -> Result<(), String> {
    let Some((scheme, rest)) = url.split_once("://") else {
        return Err(format!("`{url}` has no scheme: write http://{url} (or https://{url} for a server with TLS)"));
    };
    if scheme != "http" && scheme != "https" {
        return Err(format!(
            "`{url}`: scheme `{scheme}` is not one a server speaks: use http://{rest} or https://{rest}"
        ));
    }
    let uri: tonic::codegen::http::Uri = url.parse().map_err(|e| format!("`{url}` is not a URL: {e}"))?;
    match (uri.host(), uri.port_u16()) {
        (Some(host), Some(_)) if !host.is_empty() => Ok(()),
        (Some(host), None) if !host.is_empty() => Err(format!(
            "`{url}` has no port: a roda-ledger server listens on 50051 by default, e.g. {scheme}://{host}:50051"
        )),
        _ => Err(format!("`{url}` has no host: write {scheme}://HOST:PORT")),
    }
}

impl RpcError {
    /// The gRPC code, for errors the server returned.
    pub fn code(&self) -> Option<Code> {
        match self {
            RpcError::Status { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// A failure that a later attempt may not meet: no connection yet, or
    /// UNAVAILABLE.
    pub fn is_transient(&self) -> bool {
        matches!(self, RpcError::Connect { .. }) || self.code() == Some(Code::Unavailable)
    }

    fn from_status(method: &'static str, status: tonic::Status) -> RpcError {
        RpcError::Status { method, code: status.code(), message: status.message().to_owned() }
    }
}

fn hint(method: &str, code: Code, message: &str) -> &'static str {
    match code {
        Code::NotFound if method.starts_with("GetTransaction") => {
            "; this node has no such transaction: ids rise by one per transaction, and a follower holds only what it has replicated so far"
        }
        Code::FailedPrecondition if message.contains("not a leader") => {
            "; this node follows: name every node of the cluster (--server URL,URL,... or `servers` in the profile) and writes go to the leader"
        }
        Code::Internal if message.contains("function registration failed") => {
            "; the function's register() failed: FailReason(8) is a data verb (credit, KV, flags) called in it, 10 a constant name over 32 bytes, 5 a trap; `cargo roda test` shows what it did"
        }
        Code::FailedPrecondition if message.contains("PROGRAMMED") => {
            "; a linked account's balance shows under its parent's (`cargo roda balance PARENT`)"
        }
        Code::AlreadyExists => "; pass --override to replace it (its version goes up by one)",
        Code::NotFound if method.contains("Function") => "; `cargo roda list` shows what is registered",
        Code::InvalidArgument => "; `cargo roda validate` explains what the server refused",
        Code::OutOfRange => "; the module is over the server's 4 MiB message limit",
        Code::Unauthenticated | Code::PermissionDenied => {
            "; set RODA_TOKEN (or --token-file) to a token the server accepts"
        }
        Code::Unavailable => "; the server is down or unreachable (retried already)",
        Code::DeadlineExceeded => "; the server did not answer in time: raise --timeout",
        Code::Unimplemented => "; this server does not offer the method (an older or newer roda-ledger?)",
        _ => "",
    }
}

/// Runs `attempt` (given its number, from 0) until it succeeds, fails with
/// an error `retryable` refuses, or `retries` failures have been retried,
/// with doubling pauses in between. The one retry loop of this crate.
async fn with_retries<T, Fut>(
    retries: u32,
    retryable: fn(&RpcError) -> bool,
    mut attempt: impl FnMut(u32) -> Fut,
) -> Result<T, RpcError>
where
    Fut: Future<Output = Result<T, RpcError>>,
{
    let mut delay = FIRST_BACKOFF;
    let mut number = 0;
    loop {
        match attempt(number).await {
            Err(error) if retryable(&error) && number < retries => {
                tokio::time::sleep(delay).await;
                delay *= 2;
                number += 1;
            }
            result => return result,
        }
    }
}

/// Adds the bearer token to every request.
#[derive(Clone)]
struct Auth(Option<MetadataValue<Ascii>>);

impl Interceptor for Auth {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, tonic::Status> {
        if let Some(token) = &self.0 {
            request.metadata_mut().insert("authorization", token.clone());
        }
        Ok(request)
    }
}

type Inner = LedgerClient<InterceptedService<Channel, Auth>>;
type HeadInner = head::ledger_client::LedgerClient<InterceptedService<Channel, Auth>>;

/// How long a submission waits before it answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitLevel {
    /// Until executed.
    Computed,
    /// Until durable on the node.
    Committed,
    /// Until in a snapshot (reads see it).
    Snapshot,
    /// Until durable on a quorum of the cluster (HEAD only).
    ClusterCommit,
}

impl WaitLevel {
    /// The level in ee2b042's enum, which has no cluster commit (`submit`
    /// refuses that level on the ee2b042 wire before it gets here).
    fn to_proto(self) -> proto::WaitLevel {
        match self {
            WaitLevel::Computed => proto::WaitLevel::Computed,
            WaitLevel::Committed => proto::WaitLevel::Committed,
            WaitLevel::Snapshot | WaitLevel::ClusterCommit => proto::WaitLevel::Snapshot,
        }
    }
}

/// The size of a `RegisterFunction` request on the wire, which a server
/// limits to [`ledger_core::abi::MAX_BINARY_SIZE`] bytes as a whole.
pub fn register_request_len(name: &str, binary: &[u8], override_existing: bool) -> usize {
    prost::Message::encoded_len(&proto::RegisterFunctionRequest {
        name: name.into(),
        binary: binary.to_vec(),
        override_existing,
    })
}

/// A connected client. Cloning shares the connection.
#[derive(Clone)]
pub struct Client {
    inner: Inner,
    /// The same connection, speaking HEAD's message shapes.
    head: HeadInner,
    /// The wire the server speaks, found when connecting.
    wire: Wire,
    url: String,
    retries: u32,
}

impl Client {
    /// Connects, with TLS for `https://` URLs, retrying a refused
    /// connection (a server starting up) like a transient UNAVAILABLE, and
    /// finds which wire the server speaks: it asks `GetTerms`, a method only
    /// HEAD has (an ee2b042 server answers UNIMPLEMENTED, which goes no
    /// further).
    ///
    /// # Errors
    ///
    /// [`RpcError::InvalidUrl`], [`RpcError::CaCert`] or [`RpcError::Tls`]
    /// for unusable settings; [`RpcError::Connect`] when no attempt
    /// connects; [`RpcError::Status`] when the server refuses the question
    /// (a missing token).
    pub async fn connect(endpoint: &Endpoint) -> Result<Client, RpcError> {
        let invalid_url = |reason: String| RpcError::InvalidUrl { url: endpoint.url.clone(), reason };
        check_server_url(&endpoint.url).map_err(&invalid_url)?;
        let mut channel = Channel::from_shared(endpoint.url.clone())
            .map_err(|e| invalid_url(format!("`{}` is not a server URL: {e}", endpoint.url)))?
            .timeout(endpoint.timeout)
            .connect_timeout(endpoint.timeout);
        if endpoint.url.starts_with("https://") {
            let mut tls = ClientTlsConfig::new().with_native_roots();
            if let Some(path) = &endpoint.ca_cert {
                let pem = std::fs::read(path).map_err(|source| RpcError::CaCert { path: path.clone(), source })?;
                tls = tls.ca_certificate(Certificate::from_pem(pem));
            }
            channel = channel.tls_config(tls).map_err(|e| RpcError::Tls(error_chain(&e)))?;
        }
        let channel = with_retries(endpoint.retries, RpcError::is_transient, |_| {
            let channel = channel.clone();
            async move {
                channel
                    .connect()
                    .await
                    .map_err(|e| RpcError::Connect { url: endpoint.url.clone(), failure: ConnectFailure::of(&e) })
            }
        })
        .await?;
        let token = match &endpoint.token {
            // A `Token` holds printable ASCII only, which a header carries.
            Some(token) => Some(
                token.header_value().parse().map_err(|_| invalid_url("the token cannot be sent as a header".into()))?,
            ),
            None => None,
        };
        let auth = Auth(token);
        let mut client = Client {
            inner: LedgerClient::with_interceptor(channel.clone(), auth.clone()),
            head: head::ledger_client::LedgerClient::with_interceptor(channel, auth),
            wire: Wire::Ee2b042,
            url: endpoint.url.clone(),
            retries: endpoint.retries,
        };
        client.wire = client.detect_wire().await?;
        Ok(client)
    }

    async fn detect_wire(&self) -> Result<Wire, RpcError> {
        let asked = self
            .idempotent(&self.head, "GetTerms (asking which wire the server speaks)", |mut c| async move {
                c.get_terms(head::GetTermsRequest { from_term: 0, limit: 1 }).await
            })
            .await;
        match asked {
            Ok(_) => Ok(Wire::Head),
            Err(err) if err.code() == Some(Code::Unimplemented) => Ok(Wire::Ee2b042),
            Err(err) => Err(err),
        }
    }

    /// The wire the server speaks.
    pub fn wire(&self) -> Wire {
        self.wire
    }

    /// The server's URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Refuses what the server's wire does not have.
    fn require_head(&self, what: &'static str) -> Result<(), RpcError> {
        match self.wire {
            Wire::Head => Ok(()),
            Wire::Ee2b042 => Err(RpcError::NotOnWire { what, url: self.url.clone(), wire: self.wire }),
        }
    }

    /// Runs an idempotent request with [`with_retries`], on `stub` (the
    /// connection in ee2b042's shapes, or in HEAD's).
    async fn idempotent<S: Clone, T, Fut>(
        &self,
        stub: &S,
        method: &'static str,
        call: impl Fn(S) -> Fut,
    ) -> Result<T, RpcError>
    where
        Fut: Future<Output = Result<tonic::Response<T>, tonic::Status>>,
    {
        with_retries(self.retries, RpcError::is_transient, |_| {
            let response = call(stub.clone());
            async move { response.await.map(tonic::Response::into_inner).map_err(|s| RpcError::from_status(method, s)) }
        })
        .await
    }

    /// Every live function.
    ///
    /// # Errors
    ///
    /// [`RpcError::Status`] when the server refuses.
    pub async fn list(&self) -> Result<Vec<FunctionInfo>, RpcError> {
        let response = self
            .idempotent(&self.inner, "ListFunctions", |mut c| async move {
                c.list_functions(proto::ListFunctionsRequest {}).await
            })
            .await?;
        Ok(response
            .functions
            .into_iter()
            .map(|f| FunctionInfo { name: f.name, version: f.version, crc32c: f.crc32c })
            .collect())
    }

    /// Registers a function; returns its name, new version and the CRC32C
    /// the server computed.
    ///
    /// Never adds a version by sending twice. A transient UNAVAILABLE is
    /// retried, but each retry first asks `ListFunctions`: a newer version
    /// with this binary's CRC means the earlier send landed. A deadline or a
    /// lost answer (the server may still be committing) is checked once and
    /// never re-sent. When a check fails, nothing is re-sent.
    ///
    /// # Errors
    ///
    /// [`RpcError::Status`] when the server refuses (a taken name without
    /// `override_existing`, bad bytes); [`RpcError::RegisterUncertain`] when
    /// it may have landed and was not sent again.
    pub async fn register(&self, name: &str, binary: &[u8], override_existing: bool) -> Result<FunctionInfo, RpcError> {
        const METHOD: &str = "RegisterFunction";
        let crc = ledger_core::crc32c(binary);
        let before = self.list().await?.into_iter().find(|f| f.name == name).map_or(0, |f| f.version);
        let landed = |live: Vec<FunctionInfo>| {
            live.into_iter().find(|f| f.name == name && f.crc32c == crc && f.version > before)
        };
        let uncertain = |send: RpcError, check: Option<RpcError>| RpcError::RegisterUncertain {
            name: name.into(),
            send: Box::new(send),
            check: check.map(Box::new),
        };
        let request = proto::RegisterFunctionRequest { name: name.into(), binary: binary.to_vec(), override_existing };
        // The UNAVAILABLE of the last send, which the next attempt checks.
        let unavailable = std::sync::Mutex::new(None::<RpcError>);
        let unavailable = &unavailable;
        with_retries(self.retries, RpcError::is_transient, |attempt| {
            let request = request.clone();
            async move {
                let previous = lock(unavailable).take();
                if attempt > 0
                    && let Some(send) = previous
                {
                    match self.list().await {
                        Ok(live) => {
                            if let Some(registered) = landed(live) {
                                return Ok(registered);
                            }
                        }
                        Err(check) => return Err(uncertain(send, Some(check))),
                    }
                }
                let status = match self.inner.clone().register_function(request).await {
                    Ok(response) => {
                        let response = response.into_inner();
                        return Ok(FunctionInfo {
                            name: name.into(),
                            version: response.version,
                            crc32c: response.crc32c,
                        });
                    }
                    Err(status) => status,
                };
                match status.code() {
                    Code::DeadlineExceeded | Code::Cancelled | Code::Unknown => {
                        let send = RpcError::from_status(METHOD, status);
                        match self.list().await {
                            Ok(live) => landed(live).ok_or_else(|| uncertain(send, None)),
                            Err(check) => Err(uncertain(send, Some(check))),
                        }
                    }
                    Code::Unavailable => {
                        *lock(unavailable) = Some(RpcError::from_status(METHOD, status.clone()));
                        Err(RpcError::from_status(METHOD, status))
                    }
                    _ => Err(RpcError::from_status(METHOD, status)),
                }
            }
        })
        .await
    }

    /// Unregisters a function; returns the marker's version. Not retried: a
    /// first attempt that landed would make the retry fail with NOT_FOUND.
    ///
    /// # Errors
    ///
    /// [`RpcError::Status`], NOT_FOUND for a name that is not live.
    pub async fn unregister(&self, name: &str) -> Result<u32, RpcError> {
        let request = proto::UnregisterFunctionRequest { name: name.into() };
        let response = self
            .inner
            .clone()
            .unregister_function(request)
            .await
            .map_err(|s| RpcError::from_status("UnregisterFunction", s))?;
        Ok(response.into_inner().version)
    }

    /// Submits an operation and waits for it; a v1 operation converts
    /// (`&ledger_core::Operation`). From an ee2b042 server the status is the
    /// response's `fail_reason`. A HEAD server has the status in the
    /// transaction, which it returns once on the snapshot
    /// (`SubmitAndWaitResult`): every level up to [`WaitLevel::Snapshot`]
    /// waits for the snapshot there, and [`WaitLevel::ClusterCommit`] for a
    /// quorum. Not retried: without a `user_ref` a retry could apply it
    /// twice.
    ///
    /// # Errors
    ///
    /// [`RpcError::Status`] when the server refuses the request (a failed
    /// transaction is a result, with its status, not an error);
    /// [`RpcError::NotOnWire`] for an OpenAccount or a cluster wait on an
    /// ee2b042 server.
    pub async fn submit(&self, op: impl Into<Operation>, wait: WaitLevel) -> Result<CallResult, RpcError> {
        let op = op.into();
        if self.wire == Wire::Head {
            const METHOD: &str = "SubmitAndWaitResult";
            let request = head::SubmitAndWaitResultRequest {
                operation: Some(head_operation(op)),
                cluster_wait: wait == WaitLevel::ClusterCommit,
            };
            let response = self
                .head
                .clone()
                .submit_and_wait_result(request)
                .await
                .map_err(|s| RpcError::from_status(METHOD, s))?
                .into_inner();
            let transaction = committed(METHOD, response.transaction.unwrap_or_default())?;
            return Ok(CallResult {
                tx_id: transaction.tx_id,
                status: transaction.status,
                term: response.term,
                transaction: Some(transaction),
            });
        }
        if wait == WaitLevel::ClusterCommit {
            self.require_head("waiting for a cluster commit")?;
        }
        let operation = match ledger_core::Operation::try_from(op) {
            Ok(operation) => operation_to_proto(&operation),
            Err(ledger_core::v2::NotInV1(what)) => {
                return Err(RpcError::NotOnWire { what, url: self.url.clone(), wire: self.wire });
            }
        };
        let request = proto::SubmitAndWaitRequest { operation: Some(operation), wait_level: wait.to_proto() as i32 };
        let response = self
            .inner
            .clone()
            .submit_and_wait(request)
            .await
            .map_err(|s| RpcError::from_status("SubmitAndWait", s))?
            .into_inner();
        let status = Status::from_code(u8::try_from(response.fail_reason).unwrap_or(u8::MAX));
        Ok(CallResult { tx_id: response.transaction_id, status, term: response.term, transaction: None })
    }

    /// A committed transaction (HEAD).
    ///
    /// # Errors
    ///
    /// [`RpcError::Status`], NOT_FOUND for an unknown transaction;
    /// [`RpcError::NotOnWire`] on an ee2b042 server (use
    /// [`entries`](Client::entries)).
    pub async fn transaction(&self, tx_id: u64) -> Result<CommittedTransaction, RpcError> {
        const METHOD: &str = "GetTransaction";
        self.require_head("reading a whole transaction")?;
        let response = self
            .idempotent(&self.head, METHOD, |mut c| async move {
                c.get_transaction(head::GetTransactionRequest { tx_id }).await
            })
            .await?;
        committed(METHOD, response.transaction.unwrap_or_default())
    }

    /// A page of the server's log (`GetLog`, HEAD): the whole transactions
    /// from `from_tx_id` up to `to_tx_id` (0: no end), at most `limit`
    /// records (0: the server's default, 1,000; it caps at 10,000), and the
    /// id to ask for next (0: no more). Records past the last metadata (a
    /// server sends the next transaction's when a range ends) are left out.
    ///
    /// # Errors
    ///
    /// [`RpcError::Status`] (INVALID_ARGUMENT for `to_tx_id < from_tx_id`);
    /// [`RpcError::NotOnWire`] on an ee2b042 server.
    pub async fn log(&self, from_tx_id: u64, to_tx_id: u64, limit: u32) -> Result<LogPage, RpcError> {
        const METHOD: &str = "GetLog";
        self.require_head("reading the log")?;
        let response = self
            .idempotent(&self.head, METHOD, |mut c| async move {
                c.get_log(head::GetLogRequest { from_tx_id, to_tx_id, limit }).await
            })
            .await?;
        let mut transactions = Vec::new();
        let mut items = Vec::new();
        for record in response.records {
            match record.entry {
                Some(head::wal_entry::Entry::Metadata(_)) => {
                    let transaction =
                        head::CommitedTransaction { meta: Some(record), items: std::mem::take(&mut items) };
                    transactions.push(committed(METHOD, transaction)?);
                }
                _ => items.push(record),
            }
        }
        Ok(LogPage { transactions, next_tx_id: response.next_tx_id, last_commit_tx_id: response.last_commit_tx_id })
    }

    /// A transaction's committed entries, from either wire.
    ///
    /// # Errors
    ///
    /// [`RpcError::Status`], NOT_FOUND for an unknown transaction.
    pub async fn entries(&self, tx_id: u64) -> Result<Vec<Entry>, RpcError> {
        if self.wire == Wire::Head {
            return Ok(self.transaction(tx_id).await?.entries().copied().collect());
        }
        let response = self
            .idempotent(&self.inner, "GetTransaction", |mut c| async move {
                c.get_transaction(proto::GetTransactionRequest { tx_id }).await
            })
            .await?;
        response
            .entries
            .into_iter()
            .map(|e| entry("GetTransaction", e.account_id, e.amount, e.kind, e.computed_balance))
            .collect()
    }

    /// One account: its balance and, from a HEAD server, its flags and (when
    /// `include_linked`) its linked accounts' balances.
    ///
    /// # Errors
    ///
    /// [`RpcError::Status`]: FAILED_PRECONDITION from a HEAD server for a
    /// linked (programmed) account, which only its parent's
    /// `include_linked` shows.
    pub async fn balance(&self, account_id: u64, include_linked: bool) -> Result<AccountBalance, RpcError> {
        if self.wire == Wire::Ee2b042 {
            let balance = self.balances(&[account_id]).await?[0];
            return Ok(AccountBalance { balance, flags: None, linked: Vec::new() });
        }
        let response = self
            .idempotent(&self.head, "GetBalance", |mut c| async move {
                c.get_balance(head::GetBalanceRequest { account_id, include_linked }).await
            })
            .await?;
        let linked = response
            .linked
            .into_iter()
            .map(|l| match u16::try_from(l.type_id) {
                Ok(link_type) => Ok(LinkedBalance { link_type, balance: l.balance }),
                Err(_) => Err(RpcError::Malformed {
                    method: "GetBalance",
                    message: format!("link type {} is over 16 bits", l.type_id),
                }),
            })
            .collect::<Result<_, _>>()?;
        Ok(AccountBalance { balance: response.balance, flags: Some(response.flags), linked })
    }

    /// The value under a KV key in the server's string form (`/`-joined
    /// integers and constant names, all four components: the server does not
    /// pad); `None` when nothing was written there.
    ///
    /// # Errors
    ///
    /// [`RpcError::Status`], INVALID_ARGUMENT for a key the server cannot
    /// parse; [`RpcError::NotOnWire`] on an ee2b042 server.
    pub async fn kv_get(&self, key: &str) -> Result<Option<i64>, RpcError> {
        const METHOD: &str = "GetKv";
        self.require_head("reading KV")?;
        let request = head::GetKvRequest { key: Some(head::WalKvKeyPath { items: Vec::new(), str: key.to_owned() }) };
        let response = self
            .idempotent(&self.head, METHOD, |mut c| {
                let request = request.clone();
                async move { c.get_kv(request).await }
            })
            .await?;
        match (response.found, response.value.and_then(|v| v.kind)) {
            (false, _) => Ok(None),
            (true, Some(head::wal_kv_value::Kind::Integer(value))) => Ok(Some(value)),
            (true, other) => {
                Err(RpcError::Malformed { method: METHOD, message: format!("found, with value {other:?}") })
            }
        }
    }

    /// Where the node's pipeline is, and whether it leads.
    ///
    /// # Errors
    ///
    /// [`RpcError::Status`] when the server refuses.
    pub async fn pipeline_index(&self) -> Result<PipelineIndex, RpcError> {
        if self.wire == Wire::Ee2b042 {
            let r = self
                .idempotent(&self.inner, "GetPipelineIndex", |mut c| async move {
                    c.get_pipeline_index(proto::GetPipelineIndexRequest {}).await
                })
                .await?;
            return Ok(PipelineIndex {
                compute: r.compute_index,
                commit: r.commit_index,
                snapshot: r.snapshot_index,
                term: 0,
                cluster_commit: 0,
                is_leader: true,
            });
        }
        let r = self
            .idempotent(&self.head, "GetPipelineIndex", |mut c| async move {
                c.get_pipeline_index(head::GetPipelineIndexRequest {}).await
            })
            .await?;
        Ok(PipelineIndex {
            compute: r.compute_index,
            commit: r.commit_index,
            snapshot: r.snapshot_index,
            term: r.term,
            cluster_commit: r.cluster_commit_index,
            is_leader: r.is_leader,
        })
    }

    /// Balances of accounts, in the order asked.
    ///
    /// # Errors
    ///
    /// [`RpcError::Status`] when the server refuses.
    pub async fn balances(&self, account_ids: &[u64]) -> Result<Vec<i64>, RpcError> {
        let request = proto::GetBalancesRequest { account_ids: account_ids.to_vec() };
        let response = self
            .idempotent(&self.inner, "GetBalances", |mut c| {
                let request = request.clone();
                async move { c.get_balances(request).await }
            })
            .await?;
        if response.balances.len() != account_ids.len() {
            return Err(RpcError::Malformed {
                method: "GetBalances",
                message: format!("{} balances for {} accounts", response.balances.len(), account_ids.len()),
            });
        }
        Ok(response.balances)
    }
}

fn lock<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// An operation in HEAD's shape.
fn head_operation(op: Operation) -> head::submit_and_wait_result_request::Operation {
    use head::submit_and_wait_result_request::Operation as P;
    match op {
        Operation::Deposit { account, amount, user_ref } => P::Deposit(head::Deposit { account, amount, user_ref }),
        Operation::Withdrawal { account, amount, user_ref } => {
            P::Withdrawal(head::Withdrawal { account, amount, user_ref })
        }
        Operation::Transfer { from, to, amount, user_ref } => {
            P::Transfer(head::Transfer { from, to, amount, user_ref })
        }
        Operation::OpenAccount { count, user_ref } => P::OpenAccount(head::OpenAccount { count, user_ref }),
        Operation::Function { name, params, user_ref } => P::Function(head::Function { name, params, user_ref }),
    }
}

/// An error and its causes, `: `-joined; a cause that only repeats what is
/// already said (libraries often print their source within their own text)
/// is left out.
pub(crate) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let said = cause.to_string();
        if !text.ends_with(&said) {
            text.push_str(": ");
            text.push_str(&said);
        }
        source = cause.source();
    }
    text
}
