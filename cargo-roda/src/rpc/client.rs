//! The gRPC client behind deploy, list, unregister, call and balance.

use std::path::PathBuf;
use std::time::Duration;

use ledger_core::{Operation, Status as LedgerStatus};
use tonic::metadata::MetadataValue;
use tonic::service::Interceptor;
use tonic::transport::{Certificate, Channel, ClientTlsConfig};
use tonic::{Code, Request};

use super::proto::{self, ledger_client::LedgerClient};

/// Where and how to reach a server.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// `http://host:port` or `https://host:port`.
    pub url: String,
    /// Extra CA certificate (PEM) for `https://`; system roots otherwise.
    pub ca_cert: Option<PathBuf>,
    /// Bearer token, sent as `authorization` metadata.
    pub token: Option<String>,
    /// Deadline for each request.
    pub timeout: Duration,
    /// How often a transient UNAVAILABLE is retried.
    pub retries: u32,
}

/// A failed RPC: the code, the server's text, and what to do.
#[derive(Debug, thiserror::Error)]
pub enum RpcError {
    /// The endpoint or its TLS settings are unusable.
    #[error("{0}")]
    Config(String),
    /// No connection.
    #[error("cannot connect to {url}: {message}; is a server running there? Start a local one with `cargo roda dev`")]
    Connect {
        /// The endpoint.
        url: String,
        /// Why.
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
}

impl RpcError {
    /// The gRPC code, for errors the server returned.
    pub fn code(&self) -> Option<Code> {
        match self {
            RpcError::Status { code, .. } => Some(*code),
            _ => None,
        }
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

/// Adds the bearer token to every request.
#[derive(Clone)]
pub struct Auth(Option<MetadataValue<tonic::metadata::Ascii>>);

impl Interceptor for Auth {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, tonic::Status> {
        if let Some(token) = &self.0 {
            request.metadata_mut().insert("authorization", token.clone());
        }
        Ok(request)
    }
}

type Inner = LedgerClient<tonic::service::interceptor::InterceptedService<Channel, Auth>>;
type HeadInner =
    super::head::ledger_client::LedgerClient<tonic::service::interceptor::InterceptedService<Channel, Auth>>;

/// A connected client.
pub struct Client {
    inner: Inner,
    /// The same connection, speaking HEAD's message shapes.
    head: HeadInner,
    /// Whether the server answered HEAD-style (a non-zero `term`).
    head_style: bool,
    retries: u32,
}

/// The result of a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallResult {
    /// Transaction id.
    pub tx_id: u64,
    /// Its status (`fail_reason`).
    pub status: LedgerStatus,
}

impl Client {
    /// Connects, with TLS for `https://` URLs.
    pub async fn connect(endpoint: &Endpoint) -> Result<Client, RpcError> {
        let mut channel = Channel::from_shared(endpoint.url.clone())
            .map_err(|e| {
                RpcError::Config(format!(
                    "`{}` is not a server URL ({e}); use http://host:port or https://host:port",
                    endpoint.url
                ))
            })?
            .timeout(endpoint.timeout)
            .connect_timeout(endpoint.timeout);
        if endpoint.url.starts_with("https://") {
            let mut tls = ClientTlsConfig::new().with_native_roots();
            if let Some(path) = &endpoint.ca_cert {
                let pem = std::fs::read(path)
                    .map_err(|e| RpcError::Config(format!("cannot read the CA certificate {}: {e}", path.display())))?;
                tls = tls.ca_certificate(Certificate::from_pem(pem));
            }
            channel = channel.tls_config(tls).map_err(|e| RpcError::Config(format!("TLS setup failed: {e}")))?;
        }
        // A server that is starting or restarting refuses connections for a
        // moment: retry with backoff like a transient UNAVAILABLE.
        let mut delay = Duration::from_millis(100);
        let mut attempt = 0;
        let channel = loop {
            match channel.connect().await {
                Ok(connected) => break connected,
                Err(_) if attempt < endpoint.retries => {
                    attempt += 1;
                    tokio::time::sleep(delay).await;
                    delay *= 2;
                }
                Err(e) => return Err(RpcError::Connect { url: endpoint.url.clone(), message: error_chain(&e) }),
            }
        };
        let token = match &endpoint.token {
            Some(token) => Some(
                format!("Bearer {token}")
                    .parse()
                    .map_err(|_| RpcError::Config("the token has characters a header cannot carry".into()))?,
            ),
            None => None,
        };
        let auth = Auth(token);
        Ok(Client {
            inner: LedgerClient::with_interceptor(channel.clone(), auth.clone()),
            head: super::head::ledger_client::LedgerClient::with_interceptor(channel, auth),
            head_style: false,
            retries: endpoint.retries,
        })
    }

    /// Runs an idempotent `call`, retrying a transient UNAVAILABLE with backoff.
    async fn retry<T, Fut>(&mut self, method: &'static str, mut call: impl FnMut(Inner) -> Fut) -> Result<T, RpcError>
    where
        Fut: Future<Output = Result<tonic::Response<T>, tonic::Status>>,
    {
        let mut delay = Duration::from_millis(100);
        for attempt in 0..=self.retries {
            match call(self.inner.clone()).await {
                Ok(response) => return Ok(response.into_inner()),
                Err(status) if status.code() == Code::Unavailable && attempt < self.retries => {
                    tokio::time::sleep(delay).await;
                    delay *= 2;
                }
                Err(status) => {
                    return Err(RpcError::Status { method, code: status.code(), message: status.message().to_owned() });
                }
            }
        }
        unreachable!("the last attempt returns")
    }

    /// Every live function.
    pub async fn list(&mut self) -> Result<Vec<proto::FunctionInfo>, RpcError> {
        let response = self
            .retry("ListFunctions", |mut c| async move { c.list_functions(proto::ListFunctionsRequest {}).await })
            .await?;
        Ok(response.functions)
    }

    /// Registers a function. Before a retry it checks `ListFunctions`: if
    /// the name now has a newer version with this binary's CRC, the earlier
    /// attempt landed and is not sent again (which would add a version).
    pub async fn register(
        &mut self,
        name: &str,
        binary: &[u8],
        override_existing: bool,
    ) -> Result<(u32, u32), RpcError> {
        let crc = ledger_core::crc32c(binary);
        let before = self.list().await?.into_iter().find(|f| f.name == name).map_or(0, |f| f.version);
        let request = proto::RegisterFunctionRequest { name: name.into(), binary: binary.to_vec(), override_existing };
        let mut delay = Duration::from_millis(100);
        for attempt in 0..=self.retries {
            match self.inner.register_function(request.clone()).await {
                Ok(response) => {
                    let response = response.into_inner();
                    return Ok((response.version, response.crc32c));
                }
                Err(status) if status.code() == Code::Unavailable && attempt < self.retries => {
                    tokio::time::sleep(delay).await;
                    delay *= 2;
                    if let Ok(live) = self.list().await
                        && let Some(f) = live.iter().find(|f| f.name == name && f.crc32c == crc && f.version > before)
                    {
                        return Ok((f.version, f.crc32c));
                    }
                }
                Err(status) => {
                    return Err(RpcError::Status {
                        method: "RegisterFunction",
                        code: status.code(),
                        message: status.message().to_owned(),
                    });
                }
            }
        }
        unreachable!("the last attempt returns")
    }

    /// Unregisters a function; returns the marker's version. Not retried: a
    /// first attempt that landed would make the retry fail with NOT_FOUND.
    pub async fn unregister(&mut self, name: &str) -> Result<u32, RpcError> {
        let request = proto::UnregisterFunctionRequest { name: name.into() };
        let response = self.inner.unregister_function(request).await.map_err(|s| RpcError::Status {
            method: "UnregisterFunction",
            code: s.code(),
            message: s.message().to_owned(),
        })?;
        Ok(response.into_inner().version)
    }

    /// Submits an operation and waits for it. The status is read the
    /// ee2b042 way (`fail_reason` in the response); a HEAD-style server,
    /// which answers with a `term` and no `fail_reason`, is asked for the
    /// transaction and the status read from its metadata.
    pub async fn submit(&mut self, op: &Operation, wait: proto::WaitLevel) -> Result<CallResult, RpcError> {
        let request =
            proto::SubmitAndWaitRequest { operation: Some(super::operation_to_proto(op)), wait_level: wait as i32 };
        // Not retried: without a user_ref a retry could apply it twice.
        let response = self
            .inner
            .submit_and_wait(request)
            .await
            .map_err(|s| RpcError::Status { method: "SubmitAndWait", code: s.code(), message: s.message().to_owned() })?
            .into_inner();
        self.head_style = response.term != 0;
        let fail_reason = match self.head_style {
            false => response.fail_reason,
            true => self.head_transaction(response.transaction_id).await?.0,
        };
        let status = LedgerStatus::from_code(u8::try_from(fail_reason).unwrap_or(u8::MAX));
        Ok(CallResult { tx_id: response.transaction_id, status })
    }

    /// A transaction from a HEAD-style server: its `fail_reason` and entries.
    async fn head_transaction(&mut self, tx_id: u64) -> Result<(u32, Vec<proto::TxEntryRecord>), RpcError> {
        use super::head;
        let response = self
            .head
            .get_transaction(head::GetTransactionRequest { tx_id })
            .await
            .map_err(|s| RpcError::Status {
                method: "GetTransaction",
                code: s.code(),
                message: s.message().to_owned(),
            })?
            .into_inner();
        let transaction = response.transaction.unwrap_or_default();
        let Some(head::wal_entry::Entry::Metadata(meta)) = transaction.meta.and_then(|m| m.entry) else {
            return Err(RpcError::Status {
                method: "GetTransaction",
                code: Code::DataLoss,
                message: format!("transaction {tx_id} came back without its metadata"),
            });
        };
        let entries = transaction
            .items
            .into_iter()
            .filter_map(|item| match item.entry {
                Some(head::wal_entry::Entry::TxEntry(e)) => Some(proto::TxEntryRecord {
                    account_id: e.account_id,
                    amount: e.amount,
                    kind: e.kind,
                    computed_balance: e.computed_balance,
                }),
                _ => None,
            })
            .collect();
        Ok((meta.fail_reason, entries))
    }

    /// A transaction's committed entries (asked the HEAD way when the
    /// server answered HEAD-style).
    pub async fn entries(&mut self, tx_id: u64) -> Result<Vec<proto::TxEntryRecord>, RpcError> {
        if self.head_style {
            return Ok(self.head_transaction(tx_id).await?.1);
        }
        let response =
            self.retry("GetTransaction", |mut c| async move {
                c.get_transaction(proto::GetTransactionRequest { tx_id }).await
            })
            .await?;
        Ok(response.entries)
    }

    /// Balances of accounts.
    pub async fn balances(&mut self, account_ids: &[u64]) -> Result<Vec<i64>, RpcError> {
        let request = proto::GetBalancesRequest { account_ids: account_ids.to_vec() };
        let response = self
            .retry("GetBalances", |mut c| {
                let request = request.clone();
                async move { c.get_balances(request).await }
            })
            .await?;
        Ok(response.balances)
    }
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
