//! The demo tenant's secrets for a whole test run. Every test seeds a store of its own, and
//! making the seed's secrets (nine argon2 hashes, three RSA key generations) was about
//! two thirds of a test's start. scripts/test names a file in its scratch directory in
//! `ACCOUNTCENTRAL_DEMO_SECRETS`: the first test to seed makes the secrets and writes them
//! there, and every other test reads them. Without it, each test makes its own.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use accountcentral_local::seed::{DemoKeys, DemoSecrets};
use dkim_engine::key::DkimKeyPair;
use serde_json::{Value, json};
use shared::domain::secret::{ExposeSecret, SecretString};
use shared::error::AppError;

/// The file the run keeps the secrets in, if any.
const CACHE_VARIABLE: &str = "ACCOUNTCENTRAL_DEMO_SECRETS";

/// The run's secrets: read from its file, or made (and written there for the next tests).
pub fn for_this_run() -> Result<DemoSecrets, AppError> {
    let Some(path) = std::env::var_os(CACHE_VARIABLE).map(PathBuf::from) else {
        return DemoSecrets::generate();
    };
    if let Some(secrets) = std::fs::read(&path).ok().and_then(|bytes| decode(&bytes)) {
        return Ok(secrets);
    }
    let secrets = DemoSecrets::generate()?;
    write(&path, &encode(&secrets)).map_err(AppError::internal)?;
    Ok(secrets)
}

/// Writes a file of its own and renames it into place, so that a test starting at the same
/// time reads the whole file or none (two tests that both made secrets: the last one wins).
/// Only the owner may read it: it holds the demo keys' private halves.
fn write(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let partial = path.with_extension(format!("{}.partial", std::process::id()));
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&partial)?
        .write_all(contents)?;
    std::fs::rename(&partial, path)
}

fn encode(secrets: &DemoSecrets) -> Vec<u8> {
    let key = |pair: &DkimKeyPair| json!([pair.private_pem().expose_secret(), pair.public_key().p_value()]);
    let DemoKeys {
        platform,
        acme_rsa,
        acme_ed25519,
        fbl,
    } = &secrets.keys;
    json!({
        "passwords": secrets.passwords.iter().map(|(secret, hash)| json!([secret.expose_secret(), hash])).collect::<Vec<_>>(),
        "sftpPasswordHashes": secrets.sftp_password_hashes,
        "keys": [key(platform), key(acme_rsa), key(acme_ed25519), key(fbl)],
    })
    .to_string()
    .into_bytes()
}

/// The secrets in `bytes`, or `None` when they are not whole (a file from another version).
fn decode(bytes: &[u8]) -> Option<DemoSecrets> {
    let value: Value = serde_json::from_slice(bytes).ok()?;
    let pair = |value: &Value| Some((value.get(0)?.as_str()?.to_owned(), value.get(1)?.as_str()?.to_owned()));
    let pairs = |name: &str| value.get(name)?.as_array()?.iter().map(pair).collect::<Option<Vec<_>>>();
    let passwords: Vec<_> = pairs("passwords")?
        .into_iter()
        .map(|(secret, hash)| (SecretString::from(secret), hash))
        .collect();
    let sftp_password_hashes: Vec<_> = value
        .get("sftpPasswordHashes")?
        .as_array()?
        .iter()
        .map(|hash| hash.as_str().map(str::to_owned))
        .collect::<Option<_>>()?;
    let keys = pairs("keys")?
        .into_iter()
        .map(|(private_pem, public_key)| DkimKeyPair::from_pem(&private_pem, &public_key).ok())
        .collect::<Option<Vec<_>>>()?;
    let [platform, acme_rsa, acme_ed25519, fbl] = <[DkimKeyPair; 4]>::try_from(keys).ok()?;
    Some(DemoSecrets {
        passwords: passwords.try_into().ok()?,
        sftp_password_hashes: sftp_password_hashes.try_into().ok()?,
        keys: DemoKeys {
            platform,
            acme_rsa,
            acme_ed25519,
            fbl,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_read_back_are_those_written() {
        let secrets = DemoSecrets::generate().unwrap();
        let read = decode(&encode(&secrets)).expect("whole secrets");
        for ((secret, hash), (read_secret, read_hash)) in secrets.passwords.iter().zip(&read.passwords) {
            assert_eq!(secret.expose_secret(), read_secret.expose_secret());
            assert_eq!(hash, read_hash);
        }
        assert_eq!(secrets.sftp_password_hashes, read.sftp_password_hashes);
        let keys = |keys: &DemoKeys| {
            [&keys.platform, &keys.acme_rsa, &keys.acme_ed25519, &keys.fbl].map(|pair| pair.private_pem().expose_secret().to_owned())
        };
        assert_eq!(keys(&secrets.keys), keys(&read.keys));
    }

    #[test]
    fn a_partial_file_is_not_read() {
        let encoded = encode(&DemoSecrets::generate().unwrap());
        assert!(decode(&encoded[..encoded.len() / 2]).is_none());
        assert!(decode(br#"{"passwords": []}"#).is_none());
    }
}
