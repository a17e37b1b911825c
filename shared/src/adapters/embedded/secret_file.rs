//! Secret files created once (mode 0600) and shared by every process that opens
//! the same data directory.

use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// The file's content; on first use, `create` makes it. Two processes starting at
/// once agree on one content: it is written to a private file, then linked into
/// place, which fails if the other process got there first.
pub fn read_or_create(path: &Path, create: impl FnOnce() -> io::Result<String>) -> io::Result<String> {
    if !path.exists() {
        let draft = path.with_extension(format!("new-{}", uuid::Uuid::new_v4().simple()));
        let content = create()?;
        let mut file = fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&draft)?;
        file.write_all(content.as_bytes())?;
        file.sync_all()?;
        let linked = fs::hard_link(&draft, path);
        fs::remove_file(&draft)?;
        match linked {
            Err(error) if error.kind() != io::ErrorKind::AlreadyExists => return Err(error),
            _ => {}
        }
    }
    fs::read_to_string(path)
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn created_once_private_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret");
        assert_eq!(read_or_create(&path, || Ok("first".into())).unwrap(), "first");
        assert_eq!(read_or_create(&path, || Ok("second".into())).unwrap(), "first");
        assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1, "no draft left behind");
    }

    #[test]
    fn concurrent_creators_agree() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret");
        let contents: Vec<String> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..8)
                .map(|n| {
                    let path = path.clone();
                    scope.spawn(move || read_or_create(&path, || Ok(format!("writer {n}"))).unwrap())
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert!(contents.iter().all(|c| *c == contents[0]), "{contents:?}");
    }
}
