//! Where receipts are printed: an ESC/POS printer over the network (raw TCP, port 9100) or
//! a USB printer device, written with a timeout.

use std::fmt;
use std::io::{ErrorKind, Write};
use std::net::Ipv6Addr;
use std::path::PathBuf;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::{CoreError, Result};

/// The port network receipt printers listen on for raw ESC/POS ("JetDirect" / AppSocket).
pub const DEFAULT_PORT: u16 = 9100;

/// How long a printer may take to close its side once it has the whole receipt; a printer
/// that keeps the connection open past it still got every byte.
const CLOSE_GRACE: Duration = Duration::from_millis(500);

const FORMS: &str = "Use tcp://HOST:PORT for a network printer (tcp://192.168.1.50:9100; \
    the port is 9100 when left out) or the full path of a USB printer device (/dev/usb/lp0).";

/// A receipt printer: on the network, or a device (or file) on this computer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrinterTarget {
    /// `host` is a name or an address, an IPv6 one without its brackets.
    Tcp {
        host: String,
        port: u16,
    },
    Device(PathBuf),
}

impl PrinterTarget {
    /// Reads `tcp://HOST[:PORT]` (IPv6 in brackets: `tcp://[::1]:9100`) or an absolute path.
    pub fn parse(s: &str) -> Result<Self> {
        let s = s.trim();
        if let Some(rest) = s.strip_prefix("tcp://") {
            return parse_tcp(rest).ok_or_else(|| {
                CoreError::invalid("print", format!("“{s}” is not a printer address. {FORMS}"))
            });
        }
        let path = PathBuf::from(s);
        if !s.is_empty() && path.is_absolute() {
            return Ok(PrinterTarget::Device(path));
        }
        let what = if s.is_empty() {
            "No printer was given.".to_string()
        } else {
            format!("“{s}” is not a printer address.")
        };
        Err(CoreError::invalid("print", format!("{what} {FORMS}")))
    }

    /// Where the printer is, as its messages name it: host:port or the device path.
    fn place(&self) -> String {
        match self {
            PrinterTarget::Tcp { host, port } if host.contains(':') => format!("[{host}]:{port}"),
            PrinterTarget::Tcp { host, port } => format!("{host}:{port}"),
            PrinterTarget::Device(path) => path.display().to_string(),
        }
    }
}

impl fmt::Display for PrinterTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PrinterTarget::Tcp { .. } => write!(f, "tcp://{}", self.place()),
            PrinterTarget::Device(path) => write!(f, "{}", path.display()),
        }
    }
}

fn parse_tcp(rest: &str) -> Option<PrinterTarget> {
    let (host, port) = if let Some(inner) = rest.strip_prefix('[') {
        let (address, after) = inner.split_once(']')?;
        address.parse::<Ipv6Addr>().ok()?;
        (address, after)
    } else {
        match rest.find(':') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        }
    };
    let port = match port {
        "" => DEFAULT_PORT,
        _ => port
            .strip_prefix(':')?
            .parse::<u16>()
            .ok()
            .filter(|p| *p != 0)?,
    };
    let is_name = |h: &str| {
        !h.is_empty()
            && h.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == '_')
    };
    if !host.contains(':') && !is_name(host) {
        return None;
    }
    Some(PrinterTarget::Tcp {
        host: host.to_string(),
        port,
    })
}

/// Sends a receipt's bytes to the printer; all of it (connecting included) within `timeout`.
///
/// A device is opened for writing, never created: a path that is not there is no printer.
pub async fn send(target: &PrinterTarget, bytes: &[u8], timeout: Duration) -> Result<()> {
    let timed_out = || CoreError::PrinterTimedOut {
        printer: target.place(),
        after: timeout,
    };
    match target {
        PrinterTarget::Tcp { host, port } => {
            let mut stream = tokio::time::timeout(timeout, async {
                let mut stream = TcpStream::connect((host.as_str(), *port))
                    .await
                    .map_err(|e| printer_failed(target, "could not be reached", e))?;
                stream
                    .write_all(bytes)
                    .await
                    .map_err(|e| printer_failed(target, "stopped taking the receipt", e))?;
                stream
                    .shutdown()
                    .await
                    .map_err(|e| printer_failed(target, "stopped taking the receipt", e))?;
                Ok::<_, CoreError>(stream)
            })
            .await
            .map_err(|_| timed_out())??;
            // Closing with unread replies (status bytes) would reset the connection and may
            // lose the receipt's tail on the printer's side, so read until it closes.
            let mut sink = [0u8; 256];
            let _ = tokio::time::timeout(CLOSE_GRACE.min(timeout), async {
                while stream.read(&mut sink).await.is_ok_and(|n| n > 0) {}
            })
            .await;
            Ok(())
        }
        PrinterTarget::Device(path) => {
            let path = path.clone();
            let bytes = bytes.to_vec();
            let owner = target.clone();
            // A device write blocks while the printer is busy or out of paper; the thread
            // stays with it, the till does not.
            let job = tokio::task::spawn_blocking(move || -> Result<()> {
                let mut device = std::fs::OpenOptions::new()
                    .append(true)
                    .open(&path)
                    .map_err(|e| match e.kind() {
                        ErrorKind::NotFound => CoreError::PrinterUnreachable {
                            printer: owner.place(),
                            message: format!("No printer at {}: {e}.", path.display()),
                        },
                        ErrorKind::PermissionDenied => CoreError::PrinterUnreachable {
                            printer: owner.place(),
                            message: format!(
                                "Shopcast may not write to the printer at {} ({e}). On Linux, \
                                 add your user to the “lp” group and log in again.",
                                path.display()
                            ),
                        },
                        _ => printer_failed(&owner, "could not be opened", e),
                    })?;
                // A printer is a device (or a pipe to one); a path to a plain file would only
                // have receipts appended to it.
                #[cfg(unix)]
                {
                    use std::os::unix::fs::FileTypeExt;
                    let kind = device
                        .metadata()
                        .map_err(|e| printer_failed(&owner, "could not be opened", e))?
                        .file_type();
                    if !(kind.is_char_device() || kind.is_fifo()) {
                        return Err(CoreError::PrinterUnreachable {
                            printer: owner.place(),
                            message: format!(
                                "{} is a file, not a printer: give the printer's device, such as /dev/usb/lp0.",
                                path.display()
                            ),
                        });
                    }
                }
                device
                    .write_all(&bytes)
                    .and_then(|()| device.flush())
                    .map_err(|e| printer_failed(&owner, "stopped taking the receipt", e))
            });
            match tokio::time::timeout(timeout, job).await {
                Err(_) => Err(timed_out()),
                Ok(Err(join)) => Err(CoreError::PrinterUnreachable {
                    printer: target.place(),
                    message: format!("Printing to {} failed: {join}.", target.place()),
                }),
                Ok(Ok(done)) => done,
            }
        }
    }
}

fn printer_failed(target: &PrinterTarget, what: &str, e: std::io::Error) -> CoreError {
    let place = target.place();
    let hint = match e.kind() {
        ErrorKind::ConnectionRefused => " Is it switched on, and is the address right?",
        _ => "",
    };
    CoreError::PrinterUnreachable {
        message: format!("The printer at {place} {what}: {e}.{hint}"),
        printer: place,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_and_paths_read_back_as_written() {
        for (text, shown) in [
            ("tcp://192.168.1.50:9100", "tcp://192.168.1.50:9100"),
            ("tcp://printer.local", "tcp://printer.local:9100"),
            ("tcp://[::1]:9101", "tcp://[::1]:9101"),
            ("tcp://[fe80::1]", "tcp://[fe80::1]:9100"),
            (" /dev/usb/lp0 ", "/dev/usb/lp0"),
        ] {
            let target = PrinterTarget::parse(text).unwrap();
            assert_eq!(target.to_string(), shown, "{text}");
            assert_eq!(PrinterTarget::parse(shown).unwrap(), target);
        }
    }
}
