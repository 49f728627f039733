//! Which files the window's commands may read, write, open or show: those the owner picked in a
//! dialog (or dropped on the window) during this run, and the shop's photos in media/.

use std::collections::HashSet;
use std::path::{Component, Path, PathBuf};
use std::sync::Mutex;

use shopcast_core::ErrorCode;

use crate::error::ApiError;

/// What Shopcast itself writes (exports, signs, QR images, photos): the only kinds `open_path`
/// hands to the system, so a file the page wrote as `x.desktop` or `x.bat` is never run.
const OPENABLE: &[&str] = &["pdf", "csv", "png", "svg", "jpg", "jpeg", "webp"];

/// The allow-list behind every command that takes a path. A script in the page can call any
/// command, so a path is trusted only when Rust saw the owner choose it; the shop's own files
/// (database, secrets, backups, window lock) are never read, written or opened through it.
#[derive(Debug)]
pub struct FileAccess {
    /// The shop's data folder: nothing in it is usable except media/.
    data: Folder,
    /// The shop's photos: readable and openable without a dialog, never written.
    media: Folder,
    /// The log folder: only shown in the file manager.
    logs: Folder,
    /// Files a dialog returned or the owner dropped, exactly as given: a granted file does
    /// not open its siblings.
    granted: Mutex<HashSet<PathBuf>>,
}

/// A folder as the app names it (what the page is told) and where it really is.
#[derive(Debug)]
struct Folder {
    given: PathBuf,
    /// Resolved when it exists; else as given.
    real: PathBuf,
}

impl Folder {
    fn new(dir: &Path) -> Folder {
        Folder {
            given: dir.to_path_buf(),
            real: dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf()),
        }
    }

    /// Textually inside (or equal to) this folder, by either of its names.
    fn holds(&self, path: &Path) -> bool {
        path.starts_with(&self.given) || path.starts_with(&self.real)
    }

    fn is(&self, path: &Path) -> bool {
        path == self.given || path == self.real
    }
}

/// What a command does with the path; each use has its own rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Use {
    /// Import a catalog, add a photo: a granted file or a photo in media/.
    Read,
    /// Exports, signs, QR images: a granted file only.
    Write,
    /// Open in the system's viewer: as Read, and only kinds Shopcast writes.
    Open,
    /// Reveal in the file manager: as Read, or the data or log folder itself.
    Show,
}

impl FileAccess {
    pub fn new(data_dir: &Path, log_dir: &Path) -> FileAccess {
        FileAccess {
            data: Folder::new(data_dir),
            media: Folder::new(&data_dir.join("media")),
            logs: Folder::new(log_dir),
            granted: Mutex::default(),
        }
    }

    /// Records a file the owner chose in a dialog or dropped on the window.
    pub fn grant(&self, path: &Path) {
        if let Some(path) = plain(path) {
            self.granted.lock().expect("lock").insert(path);
        }
    }

    /// The path, if a command may read it (catalog import, photo by path).
    pub fn check_read(&self, path: &Path) -> Result<PathBuf, ApiError> {
        self.check(path, Use::Read)
    }

    /// The path, if a command may write it (exports, signs, QR images).
    pub fn check_write(&self, path: &Path) -> Result<PathBuf, ApiError> {
        self.check(path, Use::Write)
    }

    /// The path, if it may be opened in the system's viewer.
    pub fn check_open(&self, path: &Path) -> Result<PathBuf, ApiError> {
        self.check(path, Use::Open)
    }

    /// The path, if it may be shown in the file manager.
    pub fn check_show(&self, path: &Path) -> Result<PathBuf, ApiError> {
        self.check(path, Use::Show)
    }

    fn check(&self, path: &Path, use_: Use) -> Result<PathBuf, ApiError> {
        // Everything up to the canonicalize below is textual: a page-sent path touches the
        // disk (or, on Windows, a network share) only once it is known to be one of ours.
        let Some(plain) = plain(path) else {
            return Err(refused(
                path,
                "it is not a full path on this computer without “..” steps",
            ));
        };
        if use_ == Use::Show && (self.data.is(&plain) || self.logs.is(&plain)) {
            return Ok(plain);
        }
        if self.is_shop_file(&plain) {
            return Err(refused(path, "it is one of the shop's own files"));
        }
        if use_ == Use::Open && !openable(&plain) {
            return Err(refused(
                path,
                "Shopcast only opens the PDFs, CSVs and images it writes",
            ));
        }
        let granted = self.granted.lock().expect("lock").contains(&plain);
        let in_media = use_ != Use::Write && self.media.holds(&plain);
        if !granted && !in_media {
            return Err(refused(
                path,
                "it was not chosen in a dialog and is not one of the shop's photos",
            ));
        }
        // Now where it really is: a link in media/ pointing at /etc/passwd stays outside, and
        // a granted link must not lead into the shop's database or secrets.
        match resolve(&plain) {
            Where::At(real) if self.is_shop_file(&real) => {
                Err(refused(path, "it is one of the shop's own files"))
            }
            Where::At(real) if use_ == Use::Open && !openable(&real) => Err(refused(
                path,
                "Shopcast only opens the PDFs, CSVs and images it writes",
            )),
            Where::At(real) if granted || real.starts_with(&self.media.real) => Ok(plain),
            // A save target whose folder does not exist: the write fails with its own error.
            Where::NoFolder if granted => Ok(plain),
            _ => Err(refused(
                path,
                "it was not chosen in a dialog and is not one of the shop's photos",
            )),
        }
    }

    /// In the data folder (database, secrets, backups, window lock, logs beside it) but not a
    /// photo in media/.
    fn is_shop_file(&self, path: &Path) -> bool {
        (self.data.holds(path) || self.logs.holds(path)) && !self.media.holds(path)
    }
}

/// `path` when it is absolute, has no `..` steps (`Path` already drops inner `.` steps) and
/// is on a local drive: no UNC share (`\\server\share`) or `\\?\` / `\\.\` device path.
fn plain(path: &Path) -> Option<PathBuf> {
    let ok = path.is_absolute()
        && path.components().all(|c| match c {
            Component::Prefix(prefix) => matches!(prefix.kind(), std::path::Prefix::Disk(_)),
            Component::CurDir | Component::ParentDir => false,
            Component::RootDir | Component::Normal(_) => true,
        });
    ok.then(|| path.to_path_buf())
}

/// The file name ends in one of the kinds Shopcast writes.
fn openable(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| OPENABLE.contains(&e.to_ascii_lowercase().as_str()))
}

/// Where a path really is, once symlinks are followed.
enum Where {
    /// The file itself when it exists, else its folder (a file about to be written) joined
    /// with the name.
    At(PathBuf),
    /// Its folder does not exist either.
    NoFolder,
    /// A link to nothing: it must not pass as "a new file in this folder".
    Dangling,
}

fn resolve(path: &Path) -> Where {
    if let Ok(real) = path.canonicalize() {
        return Where::At(real);
    }
    if path.symlink_metadata().is_ok() {
        return Where::Dangling;
    }
    match (path.parent().map(Path::canonicalize), path.file_name()) {
        (Some(Ok(folder)), Some(name)) => Where::At(folder.join(name)),
        _ => Where::NoFolder,
    }
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

    /// A shop folder with the files a real one holds, and a Desktop beside it.
    fn shop() -> (tempfile::TempDir, FileAccess) {
        let dir = tempfile::tempdir().unwrap();
        let shop = dir.path().join("shop");
        for folder in ["media", "secrets", "backups", "logs"] {
            std::fs::create_dir_all(shop.join(folder)).unwrap();
        }
        for file in SHOP_FILES {
            std::fs::write(shop.join(file), "the shop's").unwrap();
        }
        std::fs::write(shop.join("media/ab.img"), b"png").unwrap();
        std::fs::create_dir_all(dir.path().join("Desktop")).unwrap();
        let access = FileAccess::new(&shop, &shop.join("logs"));
        (dir, access)
    }

    const SHOP_FILES: &[&str] = &[
        "shopcast.sqlite",
        "shopcast.sqlite-wal",
        "shopcast.sqlite-shm",
        "secrets/stripe",
        "backups/shopcast-0007.sqlite",
        "window.lock",
        "window.addr",
        "logs/shopcast.log",
    ];

    fn code(result: Result<PathBuf, ApiError>) -> ErrorCode {
        result.expect_err("refused").code
    }

    fn all_uses(access: &FileAccess, path: &Path) -> [Result<PathBuf, ApiError>; 4] {
        [
            access.check_read(path),
            access.check_write(path),
            access.check_open(path),
            access.check_show(path),
        ]
    }

    #[test]
    fn a_granted_file_is_allowed_and_its_siblings_are_not() {
        let (dir, access) = shop();
        let chosen = dir.path().join("Desktop/catalog.csv");
        let sibling = dir.path().join("Desktop/other.csv");
        std::fs::write(&chosen, "sku,name,price\n").unwrap();
        std::fs::write(&sibling, "secret").unwrap();
        assert_eq!(code(access.check_read(&chosen)), ErrorCode::PathNotAllowed);
        access.grant(&chosen);
        for result in all_uses(&access, &chosen) {
            assert_eq!(result.unwrap(), chosen);
        }
        for result in all_uses(&access, &sibling) {
            assert_eq!(code(result), ErrorCode::PathNotAllowed);
        }
        assert_eq!(
            code(access.check_show(chosen.parent().unwrap())),
            ErrorCode::PathNotAllowed
        );
    }

    #[test]
    fn a_granted_save_target_that_does_not_exist_yet_is_allowed() {
        let (dir, access) = shop();
        let target = dir.path().join("no-such-folder/sales.csv");
        access.grant(&target);
        // The export then fails with its own io error; the policy does not hide it.
        assert_eq!(access.check_write(&target).unwrap(), target);
    }

    #[test]
    fn photos_in_media_are_read_opened_and_shown_but_never_written() {
        let (dir, access) = shop();
        let photo = dir.path().join("shop/media/ab.img");
        assert!(access.check_read(&photo).is_ok());
        assert!(access.check_show(&photo).is_ok());
        assert_eq!(code(access.check_write(&photo)), ErrorCode::PathNotAllowed);
        // Opened only as a kind Shopcast writes: `.img` is not one.
        assert_eq!(code(access.check_open(&photo)), ErrorCode::PathNotAllowed);
        let jpeg = dir.path().join("shop/media/cd.jpg");
        std::fs::write(&jpeg, b"jpg").unwrap();
        assert!(access.check_open(&jpeg).is_ok());
    }

    #[test]
    fn the_shops_own_files_are_refused_even_when_granted() {
        let (dir, access) = shop();
        let shop = dir.path().join("shop");
        let mut paths: Vec<PathBuf> = SHOP_FILES.iter().map(|f| shop.join(f)).collect();
        // Files that do not exist yet in its folders: an export must not land there either.
        paths.extend(
            ["export.csv", "secrets/new", "backups/x.pdf", "x.desktop"].map(|f| shop.join(f)),
        );
        for path in &paths {
            for result in all_uses(&access, path) {
                assert_eq!(
                    code(result),
                    ErrorCode::PathNotAllowed,
                    "{}",
                    path.display()
                );
            }
            // A dialog answer (the e2e door lets the page give one) does not change that.
            access.grant(path);
            for result in all_uses(&access, path) {
                let error = result.expect_err(&path.display().to_string());
                assert_eq!(error.code, ErrorCode::PathNotAllowed);
                assert!(
                    error.message.contains("the shop's own files"),
                    "{}",
                    error.message
                );
            }
        }
        for path in &paths[..SHOP_FILES.len()] {
            assert_eq!(std::fs::read_to_string(path).unwrap(), "the shop's");
        }
    }

    #[test]
    fn the_data_and_log_folders_are_shown_but_not_used() {
        let (dir, access) = shop();
        for folder in [dir.path().join("shop"), dir.path().join("shop/logs")] {
            assert_eq!(access.check_show(&folder).unwrap(), folder);
            assert_eq!(code(access.check_read(&folder)), ErrorCode::PathNotAllowed);
            assert_eq!(code(access.check_write(&folder)), ErrorCode::PathNotAllowed);
            assert_eq!(code(access.check_open(&folder)), ErrorCode::PathNotAllowed);
        }
    }

    #[test]
    fn only_kinds_shopcast_writes_are_opened() {
        let (dir, access) = shop();
        for name in [
            "x.desktop",
            "x.bat",
            "x.sh",
            "x.exe",
            "x.command",
            "x",
            "x.pdf.lnk",
        ] {
            let path = dir.path().join("Desktop").join(name);
            std::fs::write(&path, "#!/bin/sh\n").unwrap();
            access.grant(&path);
            let error = access.check_open(&path).expect_err(name);
            assert_eq!(error.code, ErrorCode::PathNotAllowed);
            assert!(error.message.contains("only opens"), "{}", error.message);
            // Written or read it may be (the owner chose it); run it may not.
            assert!(access.check_write(&path).is_ok());
        }
        for name in [
            "s.pdf", "s.CSV", "q.png", "q.svg", "p.jpg", "p.JPEG", "p.webp",
        ] {
            let path = dir.path().join("Desktop").join(name);
            std::fs::write(&path, "x").unwrap();
            access.grant(&path);
            assert!(access.check_open(&path).is_ok(), "{name}");
        }
    }

    #[test]
    fn system_files_relative_paths_and_dot_dot_escapes_are_refused() {
        let (dir, access) = shop();
        let refused = [
            PathBuf::from("/etc/passwd"),
            PathBuf::from("catalog.csv"),
            PathBuf::from(r"\\server\share\catalog.csv"),
            dir.path().join("shop/media/../shopcast.sqlite"),
            dir.path().join("shop/media/../../Desktop/outside.csv"),
        ];
        for path in refused {
            for result in all_uses(&access, &path) {
                let error = result.expect_err(&path.display().to_string());
                assert_eq!(error.code, ErrorCode::PathNotAllowed);
                assert!(error.message.contains(&path.display().to_string()));
            }
        }
        // Granting an escape does not make it usable either.
        let escape = dir.path().join("shop/media/../../outside.csv");
        access.grant(&escape);
        assert_eq!(code(access.check_write(&escape)), ErrorCode::PathNotAllowed);
    }

    #[cfg(windows)]
    #[test]
    fn network_shares_and_device_paths_are_refused_before_any_lookup() {
        let (_dir, access) = shop();
        for path in [
            r"\\server\share\catalog.csv",
            r"\\?\C:\Users\me\catalog.csv",
            r"\\?\UNC\server\share\catalog.csv",
            r"\\.\pipe\x",
        ] {
            let path = PathBuf::from(path);
            access.grant(&path);
            assert_eq!(code(access.check_read(&path)), ErrorCode::PathNotAllowed);
        }
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_are_judged_by_where_they_lead() {
        let (dir, access) = shop();
        let outside = dir.path().join("Desktop/outside.txt");
        std::fs::write(&outside, "not the shop's").unwrap();
        // A link in media/ pointing out is not a photo.
        let link = dir.path().join("shop/media/link.img");
        std::os::unix::fs::symlink(&outside, &link).unwrap();
        assert_eq!(code(access.check_read(&link)), ErrorCode::PathNotAllowed);
        let to_etc = dir.path().join("shop/media/passwd");
        std::os::unix::fs::symlink("/etc/passwd", &to_etc).unwrap();
        assert_eq!(code(access.check_read(&to_etc)), ErrorCode::PathNotAllowed);
        // A chosen file that leads into the shop's database or secrets.
        for target in [
            "shop/shopcast.sqlite",
            "shop/secrets/stripe",
            "shop/secrets",
        ] {
            let chosen = dir
                .path()
                .join("Desktop")
                .join(format!("{}.csv", target.len()));
            std::os::unix::fs::symlink(dir.path().join(target), &chosen).unwrap();
            access.grant(&chosen);
            assert_eq!(code(access.check_write(&chosen)), ErrorCode::PathNotAllowed);
            let in_folder = chosen.join("new.csv");
            access.grant(&in_folder);
            assert_eq!(
                code(access.check_write(&in_folder)),
                ErrorCode::PathNotAllowed
            );
        }
        // A chosen `.pdf` that is really a `.desktop` file is not opened.
        let launcher = dir.path().join("Desktop/run.desktop");
        std::fs::write(&launcher, "[Desktop Entry]\n").unwrap();
        let disguised = dir.path().join("Desktop/sign.pdf");
        std::os::unix::fs::symlink(&launcher, &disguised).unwrap();
        access.grant(&disguised);
        assert_eq!(
            code(access.check_open(&disguised)),
            ErrorCode::PathNotAllowed
        );
        // A dangling link is not "a new file", chosen or not.
        let dangling = dir.path().join("Desktop/dangling.csv");
        std::os::unix::fs::symlink(dir.path().join("gone/x.csv"), &dangling).unwrap();
        access.grant(&dangling);
        assert_eq!(
            code(access.check_write(&dangling)),
            ErrorCode::PathNotAllowed
        );
    }
}
