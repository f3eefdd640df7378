//! API tokens: random, shown once, stored only as a hash.

use crate::TokenHash;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// The prefix of every token, so that a leaked one is recognisable.
const PREFIX: &str = "strata_";

/// A new random token (256 bits) and its hash.
pub fn new_token() -> (String, TokenHash) {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let token = format!(
        "{PREFIX}{}",
        bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
    );
    let hash = hash_token(&token);
    (token, hash)
}

/// The hash a token is stored and looked up by. Tokens are long random
/// strings, not passwords: one SHA-256 is enough and keeps lookups fast.
pub fn hash_token(token: &str) -> TokenHash {
    TokenHash(Sha256::digest(token.as_bytes()).to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_hashed() {
        let (a, hash_a) = new_token();
        let (b, _) = new_token();
        assert_ne!(a, b);
        assert!(a.starts_with(PREFIX) && a.len() == PREFIX.len() + 64);
        assert_eq!(hash_token(&a), hash_a);
        assert_ne!(hash_a.0, a.as_bytes());
        assert_eq!(hash_a.0.len(), 32);
    }
}
