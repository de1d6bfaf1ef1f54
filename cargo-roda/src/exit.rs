//! The documented exit codes of `cargo roda`.

/// What a `cargo roda` process exits with.
///
/// | code | meaning |
/// |---|---|
/// | 0 | success |
/// | 1 | any other error (I/O, project file, environment) |
/// | 2 | usage error (bad flags or arguments) |
/// | 3 | a module failed validation |
/// | 4 | the build failed |
/// | 5 | a test or scenario failed |
/// | 6 | an RPC to a ledger server failed |
/// | 7 | a transaction was made and failed (`call`, `deposit`, `accounts open`: its status is not NONE, or not `--expect`ed) |
/// | 8 | `verify`: the rebuilt source, the deployment record and the server do not agree |
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExitCode {
    /// 0: success.
    Success,
    /// 1: any other error.
    Error,
    /// 2: usage error.
    Usage,
    /// 3: a module failed validation.
    InvalidModule,
    /// 4: the build failed.
    BuildFailed,
    /// 5: a test failed.
    TestFailed,
    /// 6: an RPC failed.
    RpcFailed,
    /// 7: the server made the transaction, and it failed.
    TransactionFailed,
    /// 8: a verification found a difference.
    NotVerified,
}

impl ExitCode {
    /// Every code, in numeric order.
    pub const ALL: [ExitCode; 9] = [
        ExitCode::Success,
        ExitCode::Error,
        ExitCode::Usage,
        ExitCode::InvalidModule,
        ExitCode::BuildFailed,
        ExitCode::TestFailed,
        ExitCode::RpcFailed,
        ExitCode::TransactionFailed,
        ExitCode::NotVerified,
    ];

    /// The process exit status.
    pub const fn code(self) -> u8 {
        match self {
            ExitCode::Success => 0,
            ExitCode::Error => 1,
            ExitCode::Usage => 2,
            ExitCode::InvalidModule => 3,
            ExitCode::BuildFailed => 4,
            ExitCode::TestFailed => 5,
            ExitCode::RpcFailed => 6,
            ExitCode::TransactionFailed => 7,
            ExitCode::NotVerified => 8,
        }
    }

    /// What the code means, for help texts.
    pub const fn meaning(self) -> &'static str {
        match self {
            ExitCode::Success => "success",
            ExitCode::Error => "any other error (I/O, project file, environment)",
            ExitCode::Usage => "usage error (bad flags or arguments)",
            ExitCode::InvalidModule => "a module failed validation, or deploy refused to send it (--force sends it)",
            ExitCode::BuildFailed => "the build failed",
            ExitCode::TestFailed => "a test or scenario failed",
            ExitCode::RpcFailed => "an RPC to a ledger server failed",
            ExitCode::TransactionFailed => {
                "the server made the transaction and it failed: its status is not NONE (call: or not the --expect'ed one)"
            }
            ExitCode::NotVerified => {
                "verify: the source rebuilt, the deployment record and the server do not agree (see the fields that differ)"
            }
        }
    }

    /// The table, as `--help` prints it.
    pub fn table() -> String {
        let mut out = String::from("Exit codes:\n");
        for code in ExitCode::ALL {
            out.push_str(&format!("  {}  {}\n", code.code(), code.meaning()));
        }
        out
    }
}
