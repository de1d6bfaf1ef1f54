//! A client of a roda-ledger server (or [`crate::dev`]): results are
//! ledger-core types, failures one typed [`RpcError`], and a transient
//! UNAVAILABLE is retried with backoff by one helper.

use std::future::Future;
use std::path::PathBuf;
use std::time::Duration;

use ledger_core::FunctionInfo;
use ledger_core::{Entry, EntryKind, Operation, Status};
use tonic::metadata::{Ascii, MetadataValue};
use tonic::service::Interceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Certificate, Channel, ClientTlsConfig};
use tonic::{Code, Request};

use crate::proto::{self, ledger_client::LedgerClient};
use crate::token::Token;
use crate::{head, operation_to_proto};

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
    #[error("`{url}` is not a server URL ({reason}); use http://host:port or https://host:port")]
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
    #[error("cannot connect to {url}: {message}; is a server running there? Start a local one with `cargo roda dev`")]
    Connect {
        /// The endpoint.
        url: String,
        /// Why, with every cause.
        message: String,
    },
    /// The server answered with an error status.
    #[error("{method} failed with {code:?}: {message}{}", hint(*.code))]
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

fn hint(code: Code) -> &'static str {
    match code {
        Code::AlreadyExists => "; pass --override to replace it (its version goes up by one)",
        Code::NotFound => "; `cargo roda list` shows what is registered",
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

/// How long `SubmitAndWait` waits before it answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitLevel {
    /// Until executed.
    Computed,
    /// Until durable.
    Committed,
    /// Until in a snapshot.
    Snapshot,
}

impl WaitLevel {
    fn to_proto(self) -> proto::WaitLevel {
        match self {
            WaitLevel::Computed => proto::WaitLevel::Computed,
            WaitLevel::Committed => proto::WaitLevel::Committed,
            WaitLevel::Snapshot => proto::WaitLevel::Snapshot,
        }
    }
}

/// The result of a submitted operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallResult {
    /// Transaction id.
    pub tx_id: u64,
    /// Its status (`fail_reason`).
    pub status: Status,
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
    /// Whether the server answered HEAD-style (a non-zero `term`).
    head_style: bool,
    retries: u32,
}

impl Client {
    /// Connects, with TLS for `https://` URLs, retrying a refused
    /// connection (a server starting up) like a transient UNAVAILABLE.
    ///
    /// # Errors
    ///
    /// [`RpcError::InvalidUrl`], [`RpcError::CaCert`] or [`RpcError::Tls`]
    /// for unusable settings; [`RpcError::Connect`] when no attempt connects.
    pub async fn connect(endpoint: &Endpoint) -> Result<Client, RpcError> {
        let invalid_url = |reason: String| RpcError::InvalidUrl { url: endpoint.url.clone(), reason };
        let mut channel = Channel::from_shared(endpoint.url.clone())
            .map_err(|e| invalid_url(e.to_string()))?
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
                    .map_err(|e| RpcError::Connect { url: endpoint.url.clone(), message: error_chain(&e) })
            }
        })
        .await?;
        let token = match &endpoint.token {
            // A `Token` holds printable ASCII only, which a header carries.
            Some(token) => Some(token.header_value().parse().map_err(|_| invalid_url("unusable token".into()))?),
            None => None,
        };
        let auth = Auth(token);
        Ok(Client {
            inner: LedgerClient::with_interceptor(channel.clone(), auth.clone()),
            head: head::ledger_client::LedgerClient::with_interceptor(channel, auth),
            head_style: false,
            retries: endpoint.retries,
        })
    }

    /// Runs an idempotent request with [`with_retries`].
    async fn idempotent<T, Fut>(&self, method: &'static str, call: impl Fn(Inner) -> Fut) -> Result<T, RpcError>
    where
        Fut: Future<Output = Result<tonic::Response<T>, tonic::Status>>,
    {
        with_retries(self.retries, RpcError::is_transient, |_| {
            let response = call(self.inner.clone());
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
            .idempotent("ListFunctions", |mut c| async move { c.list_functions(proto::ListFunctionsRequest {}).await })
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

    /// Submits an operation and waits for it. The status is read the
    /// ee2b042 way (`fail_reason` in the response); a HEAD-style server,
    /// which answers with a `term` and no `fail_reason`, is asked for the
    /// transaction and the status read from its metadata. Not retried:
    /// without a `user_ref` a retry could apply it twice.
    ///
    /// # Errors
    ///
    /// [`RpcError::Status`] when the server refuses the request (a failed
    /// transaction is a result, with its status, not an error).
    pub async fn submit(&mut self, op: &Operation, wait: WaitLevel) -> Result<CallResult, RpcError> {
        let request =
            proto::SubmitAndWaitRequest { operation: Some(operation_to_proto(op)), wait_level: wait.to_proto() as i32 };
        let response = self
            .inner
            .clone()
            .submit_and_wait(request)
            .await
            .map_err(|s| RpcError::from_status("SubmitAndWait", s))?
            .into_inner();
        self.head_style = response.term != 0;
        let fail_reason = match self.head_style {
            false => response.fail_reason,
            true => self.head_transaction(response.transaction_id).await?.0,
        };
        let status = Status::from_code(u8::try_from(fail_reason).unwrap_or(u8::MAX));
        Ok(CallResult { tx_id: response.transaction_id, status })
    }

    /// A transaction from a HEAD-style server: its `fail_reason` and entries.
    async fn head_transaction(&self, tx_id: u64) -> Result<(u32, Vec<Entry>), RpcError> {
        const METHOD: &str = "GetTransaction";
        let response = self
            .head
            .clone()
            .get_transaction(head::GetTransactionRequest { tx_id })
            .await
            .map_err(|s| RpcError::from_status(METHOD, s))?
            .into_inner();
        let transaction = response.transaction.unwrap_or_default();
        let Some(head::wal_entry::Entry::Metadata(meta)) = transaction.meta.and_then(|m| m.entry) else {
            return Err(RpcError::Malformed {
                method: METHOD,
                message: format!("transaction {tx_id} came back without its metadata"),
            });
        };
        let entries = transaction
            .items
            .into_iter()
            .filter_map(|item| match item.entry {
                Some(head::wal_entry::Entry::TxEntry(e)) => {
                    Some(entry(METHOD, e.account_id, e.amount, e.kind, e.computed_balance))
                }
                _ => None,
            })
            .collect::<Result<_, _>>()?;
        Ok((meta.fail_reason, entries))
    }

    /// A transaction's committed entries (asked the HEAD way when the
    /// server answered HEAD-style).
    ///
    /// # Errors
    ///
    /// [`RpcError::Status`], NOT_FOUND for an unknown transaction.
    pub async fn entries(&self, tx_id: u64) -> Result<Vec<Entry>, RpcError> {
        if self.head_style {
            return Ok(self.head_transaction(tx_id).await?.1);
        }
        let response = self
            .idempotent("GetTransaction", |mut c| async move {
                c.get_transaction(proto::GetTransactionRequest { tx_id }).await
            })
            .await?;
        response
            .entries
            .into_iter()
            .map(|e| entry("GetTransaction", e.account_id, e.amount, e.kind, e.computed_balance))
            .collect()
    }

    /// Balances of accounts, in the order asked.
    ///
    /// # Errors
    ///
    /// [`RpcError::Status`] when the server refuses.
    pub async fn balances(&self, account_ids: &[u64]) -> Result<Vec<i64>, RpcError> {
        let request = proto::GetBalancesRequest { account_ids: account_ids.to_vec() };
        let response = self
            .idempotent("GetBalances", |mut c| {
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

/// A wire entry as a ledger-core one.
fn entry(
    method: &'static str,
    account_id: u64,
    amount: u64,
    kind: i32,
    computed_balance: i64,
) -> Result<Entry, RpcError> {
    let kind = match proto::EntryKind::try_from(kind) {
        Ok(proto::EntryKind::Credit) => EntryKind::Credit,
        Ok(proto::EntryKind::Debit) => EntryKind::Debit,
        Err(_) => {
            return Err(RpcError::Malformed {
                method,
                message: format!("entry kind {kind} is neither credit nor debit"),
            });
        }
    };
    Ok(Entry { account_id, amount, kind, computed_balance })
}

/// An error and its causes, `: `-separated.
pub(crate) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
