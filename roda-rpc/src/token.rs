//! Bearer tokens: never empty, never printed, compared in constant time.

/// A bearer token, sent and checked as `authorization: Bearer <token>`.
///
/// It is never empty, its `Debug` shows no part of it, and a server
/// compares it in constant time.
///
/// ```
/// use roda_rpc::token::{Token, TokenError};
///
/// let token = Token::new("s3cr3t")?;
/// assert_eq!(format!("{token:?}"), "Token(<redacted>)");
/// assert!(token.matches_header(b"Bearer s3cr3t"));
/// assert!(!token.matches_header(b"Bearer s3cr3"));
/// assert!(matches!(Token::new(""), Err(TokenError::Empty)));
/// # Ok::<_, TokenError>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

/// Why a token is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Empty or only whitespace: it would authenticate as `Bearer ` against
    /// a server configured the same way.
    #[error("the token is empty; set it to the server's token (a non-empty string)")]
    Empty,
    /// A character a header cannot carry.
    #[error(
        "the token has a character at byte {position} that a header cannot carry; use printable ASCII without spaces"
    )]
    Unprintable {
        /// Where, in bytes.
        position: usize,
    },
}

impl Token {
    /// A token from its text, surrounding whitespace (a file's trailing
    /// newline) removed.
    ///
    /// # Errors
    ///
    /// [`TokenError::Empty`] for an empty text, [`TokenError::Unprintable`]
    /// for a control character, a space or non-ASCII inside it.
    pub fn new(text: &str) -> Result<Token, TokenError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(TokenError::Empty);
        }
        if let Some(position) = text.bytes().position(|b| !b.is_ascii_graphic()) {
            return Err(TokenError::Unprintable { position });
        }
        Ok(Token(text.to_owned()))
    }

    /// The `authorization` header value that carries it.
    pub(crate) fn header_value(&self) -> String {
        format!("Bearer {}", self.0)
    }

    /// Whether an `authorization` header value carries this token, compared
    /// in constant time (for headers of the expected length).
    pub fn matches_header(&self, presented: &[u8]) -> bool {
        let expected = self.header_value();
        let expected = expected.as_bytes();
        if presented.len() != expected.len() {
            return false;
        }
        let difference = presented.iter().zip(expected).fold(0u8, |acc, (a, b)| acc | (a ^ b));
        std::hint::black_box(difference) == 0
    }
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}
