//! Which files the window's commands may read or write: those the owner picked in a dialog
//! (or dropped on the window) during this run, and those inside the shop's own folders.

use std::collections::HashSet;
use std::path::{Component, Path, PathBuf};
use std::sync::Mutex;

use shopcast_core::ErrorCode;

use crate::error::ApiError;

/// The allow-list behind every command that takes a path. A script in the page can call any
/// command, so a path is trusted only when Rust saw the owner choose it.
#[derive(Debug, Default)]
pub struct FileAccess {
    /// The shop's folders (data folder with media and exports, log folder), resolved.
    shop_folders: Vec<PathBuf>,
    /// Files a dialog returned or the owner dropped, exactly as given: a granted file does
    /// not open its siblings.
    granted: Mutex<HashSet<PathBuf>>,
}

impl FileAccess {
    pub fn new(shop_folders: &[&Path]) -> FileAccess {
        FileAccess {
            // A folder that cannot be resolved yet (not created) is kept as given.
            shop_folders: shop_folders
                .iter()
                .map(|dir| dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf()))
                .collect(),
            granted: Mutex::default(),
        }
    }

    /// Records a file the owner chose in a dialog or dropped on the window.
    pub fn grant(&self, path: &Path) {
        if let Some(path) = plain(path) {
            self.granted.lock().expect("lock").insert(path);
        }
    }

    /// The path, if a command may use it; otherwise the error the page shows.
    pub fn check(&self, path: &Path) -> Result<PathBuf, ApiError> {
        let Some(plain) = plain(path) else {
            return Err(refused(path, "it is not a full path without “..” steps"));
        };
        if self.granted.lock().expect("lock").contains(&plain) {
            return Ok(plain);
        }
        // Inside the shop's folders only once symlinks are resolved: a link in media/
        // pointing at /etc/passwd stays outside.
        match resolve(&plain) {
            Some(real) if self.shop_folders.iter().any(|dir| real.starts_with(dir)) => Ok(plain),
            _ => Err(refused(
                path,
                "it was not chosen in a dialog and is not in the shop's folders",
            )),
        }
    }
}

/// `path` when it is absolute and has no `..` steps (`Path` already drops inner `.` steps).
fn plain(path: &Path) -> Option<PathBuf> {
    let ok = path.is_absolute()
        && path
            .components()
            .all(|c| !matches!(c, Component::CurDir | Component::ParentDir));
    ok.then(|| path.to_path_buf())
}

/// Where `path` really is: the file itself when it exists, else its folder (a file about to
/// be written) joined with the name; None when neither exists.
fn resolve(path: &Path) -> Option<PathBuf> {
    if let Ok(real) = path.canonicalize() {
        return Some(real);
    }
    // A dangling symlink must not pass as "a new file in this folder".
    if path.symlink_metadata().is_ok() {
        return None;
    }
    let folder = path.parent()?.canonicalize().ok()?;
    Some(folder.join(path.file_name()?))
}

fn refused(path: &Path, why: &str) -> ApiError {
    ApiError {
        code: ErrorCode::PathNotAllowed,
        message: format!(
            "Shopcast will not use {}: {why}. Choose the file again with the button.",
            path.display()
        ),
        field: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shop() -> (tempfile::TempDir, FileAccess) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("shop/media")).unwrap();
        let access = FileAccess::new(&[&dir.path().join("shop")]);
        (dir, access)
    }

    fn code(result: Result<PathBuf, ApiError>) -> ErrorCode {
        result.expect_err("refused").code
    }

    #[test]
    fn a_granted_file_is_allowed_and_its_siblings_are_not() {
        let (dir, access) = shop();
        let chosen = dir.path().join("Desktop/catalog.csv");
        let sibling = dir.path().join("Desktop/other.csv");
        std::fs::create_dir_all(chosen.parent().unwrap()).unwrap();
        std::fs::write(&chosen, "sku,name,price\n").unwrap();
        std::fs::write(&sibling, "secret").unwrap();
        assert_eq!(code(access.check(&chosen)), ErrorCode::PathNotAllowed);
        access.grant(&chosen);
        assert_eq!(access.check(&chosen).unwrap(), chosen);
        assert_eq!(code(access.check(&sibling)), ErrorCode::PathNotAllowed);
        assert_eq!(
            code(access.check(chosen.parent().unwrap())),
            ErrorCode::PathNotAllowed
        );
    }

    #[test]
    fn a_granted_save_target_that_does_not_exist_yet_is_allowed() {
        let (dir, access) = shop();
        let target = dir.path().join("no-such-folder/sales.csv");
        access.grant(&target);
        // The export then fails with its own io error; the policy does not hide it.
        assert_eq!(access.check(&target).unwrap(), target);
    }

    #[test]
    fn files_under_the_shop_folders_are_allowed() {
        let (dir, access) = shop();
        let photo = dir.path().join("shop/media/ab.img");
        std::fs::write(&photo, b"png").unwrap();
        assert!(access.check(&photo).is_ok());
        assert!(access.check(&dir.path().join("shop")).is_ok());
        // A new file in a shop folder (an export written there).
        assert!(access.check(&dir.path().join("shop/export.csv")).is_ok());
    }

    #[test]
    fn system_files_relative_paths_and_dot_dot_escapes_are_refused() {
        let (dir, access) = shop();
        let refused = [
            PathBuf::from("/etc/passwd"),
            PathBuf::from("catalog.csv"),
            dir.path().join("shop/../outside.csv"),
            dir.path().join("shop/media/../../outside.csv"),
        ];
        for path in refused {
            let error = access.check(&path).expect_err(&path.display().to_string());
            assert_eq!(error.code, ErrorCode::PathNotAllowed);
            assert!(error.message.contains(&path.display().to_string()));
        }
        // Granting an escape does not make it usable either.
        let escape = dir.path().join("shop/../outside.csv");
        access.grant(&escape);
        assert_eq!(code(access.check(&escape)), ErrorCode::PathNotAllowed);
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_in_the_shop_folders_pointing_out_are_refused() {
        let (dir, access) = shop();
        let outside = dir.path().join("outside.txt");
        std::fs::write(&outside, "not the shop's").unwrap();
        let link = dir.path().join("shop/media/link.img");
        std::os::unix::fs::symlink(&outside, &link).unwrap();
        assert_eq!(code(access.check(&link)), ErrorCode::PathNotAllowed);
        let to_etc = dir.path().join("shop/passwd");
        std::os::unix::fs::symlink("/etc/passwd", &to_etc).unwrap();
        assert_eq!(code(access.check(&to_etc)), ErrorCode::PathNotAllowed);
        // A folder link pointing out: a new file "inside" it is outside too.
        let folder_link = dir.path().join("shop/exports");
        std::os::unix::fs::symlink(dir.path(), &folder_link).unwrap();
        assert_eq!(
            code(access.check(&folder_link.join("new.csv"))),
            ErrorCode::PathNotAllowed
        );
        // A dangling link is not "a new file".
        let dangling = dir.path().join("shop/dangling.csv");
        std::os::unix::fs::symlink(dir.path().join("gone/x.csv"), &dangling).unwrap();
        assert_eq!(code(access.check(&dangling)), ErrorCode::PathNotAllowed);
    }
}
