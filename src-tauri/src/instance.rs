//! One window per shop: the first window on a data folder holds its lock file and listens on
//! 127.0.0.1; starting the window again on that folder brings the first one to the front.
//!
//! Our own lock rather than tauri-plugin-single-instance: the plugin is keyed by the app's
//! identifier (one window per computer), while two different shops (`--data-dir`) may well be
//! open side by side. Headless subcommands never take the lock: they run beside the window.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Held (an OS file lock, released when the process ends, even by a crash) by the window.
pub const LOCK_FILE: &str = "window.lock";
/// Where the window listens: `<port> <token>`. A separate file, because on Windows a locked
/// file cannot be read by others.
pub const ADDRESS_FILE: &str = "window.addr";

/// How long a second start waits for the first window to answer (it may still be starting).
const ANSWER_WAIT: Duration = Duration::from_secs(5);

/// What starting the window on a shop found.
pub enum Start {
    /// No window is open on this shop: this one is, while the lock lives.
    First(WindowLock),
    /// A window was open on this shop and has been asked to come to the front.
    AlreadyOpen,
}

/// The window's hold on its shop folder, and its listener for later starts.
pub struct WindowLock {
    _file: File,
    listener: TcpListener,
    token: String,
}

#[derive(Debug, thiserror::Error)]
pub enum InstanceError {
    #[error("Shopcast could not use {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "Shopcast is already open on this shop ({}) but its window did not answer. Close it \
         (or end the stuck Shopcast process), then start again.",
        dir.display()
    )]
    NoAnswer { dir: PathBuf },
}

/// Takes the shop's window lock, or asks the window holding it to come to the front.
pub fn claim(data_dir: &Path) -> Result<Start, InstanceError> {
    std::fs::create_dir_all(data_dir).map_err(|source| InstanceError::Io {
        path: data_dir.to_path_buf(),
        source,
    })?;
    let lock_path = data_dir.join(LOCK_FILE);
    let io = |source| InstanceError::Io {
        path: lock_path.clone(),
        source,
    };
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(io)?;
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => return focus_running(data_dir),
        Err(TryLockError::Error(source)) => return Err(io(source)),
    }
    let listener = TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).map_err(io)?;
    let port = listener.local_addr().map_err(io)?.port();
    let token = random_token();
    let address_path = data_dir.join(ADDRESS_FILE);
    std::fs::write(&address_path, format!("{port} {token}\n")).map_err(|source| {
        InstanceError::Io {
            path: address_path,
            source,
        }
    })?;
    Ok(Start::First(WindowLock {
        _file: file,
        listener,
        token,
    }))
}

impl WindowLock {
    /// Answers later starts on a thread of its own: `focus <token>` calls `focus`. Anything
    /// else (another program poking the port) is ignored.
    pub fn listen(&self, focus: impl Fn() + Send + 'static) -> std::io::Result<()> {
        let listener = self.listener.try_clone()?;
        let token = self.token.clone();
        std::thread::Builder::new()
            .name("window-lock".into())
            .spawn(move || {
                for stream in listener.incoming().flatten() {
                    if read_request(&stream).as_deref() == Some(&format!("focus {token}")) {
                        focus();
                        let _ = (&stream).write_all(b"ok\n");
                    }
                }
            })?;
        Ok(())
    }
}

/// 128 bits from the OS's randomness (std seeds every `RandomState` from it).
fn random_token() -> String {
    use std::hash::{BuildHasher, Hasher};
    let half = || {
        std::collections::hash_map::RandomState::new()
            .build_hasher()
            .finish()
    };
    format!("{:016x}{:016x}", half(), half())
}

/// One short line, read within a second (a silent client cannot hold the thread).
fn read_request(stream: &TcpStream) -> Option<String> {
    stream.set_read_timeout(Some(Duration::from_secs(1))).ok()?;
    let mut line = String::new();
    BufReader::new(stream.take(128)).read_line(&mut line).ok()?;
    Some(line.trim().to_string())
}

/// A second start: tells the window holding the lock to come to the front.
fn focus_running(data_dir: &Path) -> Result<Start, InstanceError> {
    let deadline = Instant::now() + ANSWER_WAIT;
    // The first window writes its address right after taking the lock: wait for it a moment.
    while Instant::now() < deadline {
        if ask_to_focus(&data_dir.join(ADDRESS_FILE)).is_some() {
            return Ok(Start::AlreadyOpen);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(InstanceError::NoAnswer {
        dir: data_dir.to_path_buf(),
    })
}

fn ask_to_focus(address_file: &Path) -> Option<()> {
    let text = std::fs::read_to_string(address_file).ok()?;
    let (port, token) = text.trim().split_once(' ')?;
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port.parse::<u16>().ok()?));
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(1)).ok()?;
    stream
        .write_all(format!("focus {token}\n").as_bytes())
        .ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    let mut answer = String::new();
    BufReader::new(stream).read_line(&mut answer).ok()?;
    (answer.trim() == "ok").then_some(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn first(dir: &Path) -> WindowLock {
        match claim(dir).unwrap() {
            Start::First(lock) => lock,
            Start::AlreadyOpen => panic!("no window was open on {}", dir.display()),
        }
    }

    #[test]
    fn a_second_start_on_the_same_shop_focuses_the_first_and_other_shops_open_freely() {
        let shop = tempfile::tempdir().unwrap();
        let lock = first(shop.path());
        let focused = Arc::new(AtomicUsize::new(0));
        let counter = focused.clone();
        lock.listen(move || {
            counter.fetch_add(1, Ordering::SeqCst);
        })
        .unwrap();
        assert!(matches!(claim(shop.path()).unwrap(), Start::AlreadyOpen));
        assert!(matches!(claim(shop.path()).unwrap(), Start::AlreadyOpen));
        assert_eq!(focused.load(Ordering::SeqCst), 2, "focused once per start");

        // A request without the token (another program on the port) focuses nothing.
        let text = std::fs::read_to_string(shop.path().join(ADDRESS_FILE)).unwrap();
        let port: u16 = text.split(' ').next().unwrap().parse().unwrap();
        let mut stranger = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).unwrap();
        stranger.write_all(b"focus guessed-token\n").unwrap();
        let mut answer = String::new();
        let _ = BufReader::new(&stranger).read_line(&mut answer);
        assert_eq!(answer, "");
        assert_eq!(focused.load(Ordering::SeqCst), 2);

        // Another shop folder is another window.
        let other = tempfile::tempdir().unwrap();
        let _other_lock = first(other.path());

        // Closing the window (or its crash) frees the shop.
        drop(lock);
        let _again = first(shop.path());
    }

    #[test]
    fn a_window_that_holds_the_lock_but_never_answers_is_reported() {
        let shop = tempfile::tempdir().unwrap();
        let _lock = first(shop.path()); // never listens
        let started = Instant::now();
        let error = claim(shop.path()).err().expect("no answer");
        assert!(matches!(error, InstanceError::NoAnswer { .. }));
        assert!(
            error.to_string().contains("already open on this shop"),
            "{error}"
        );
        assert!(started.elapsed() < ANSWER_WAIT + Duration::from_secs(3));
    }
}
