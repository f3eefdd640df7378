//! A temporary folder of input files written from text, removed when dropped.

use std::path::{Path, PathBuf};

/// A temporary folder of files written from text.
pub struct Files {
    dir: tempfile::TempDir,
}

impl Default for Files {
    fn default() -> Files {
        Files {
            dir: tempfile::tempdir().expect("a temporary folder can be created"),
        }
    }
}

impl Files {
    /// An empty folder.
    pub fn new() -> Files {
        Files::default()
    }

    /// Writes a file and returns its path.
    pub fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, contents).expect("a test file can be written");
        path
    }

    /// The path of `name` in the folder, written or not.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}
