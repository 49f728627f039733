//! Counts a bad-input table: every input tried, and each that did not give a clear answer
//! (an error code and a sentence); the test fails listing them all. Shared by the crates' tests.

pub struct Tally {
    area: &'static str,
    tried: usize,
    unclear: Vec<String>,
}

/// What an input got: what was accepted (described), or an error's code and sentence.
pub type Got = Result<String, (&'static str, String)>;

impl Tally {
    pub fn new(area: &'static str) -> Tally {
        Tally {
            area,
            tried: 0,
            unclear: Vec::new(),
        }
    }

    /// One input: `ok` says it got its clear answer; `detail` says what it got instead.
    pub fn check(&mut self, name: &str, ok: bool, detail: impl FnOnce() -> String) {
        self.tried += 1;
        self.also(name, ok, detail);
    }

    /// A further condition on an input already counted.
    pub fn also(&mut self, name: &str, ok: bool, detail: impl FnOnce() -> String) {
        if !ok {
            self.unclear.push(format!("{name}: {}", detail()));
        }
    }

    /// The input must have been refused with code `expected` and a sentence.
    pub fn refused(&mut self, name: &str, got: Got, expected: &str) {
        let ok = matches!(&got, Err((code, sentence)) if *code == expected && !sentence.trim().is_empty());
        self.check(name, ok, || match got {
            Ok(accepted) => format!("expected {expected}, accepted {accepted}"),
            Err((code, sentence)) => format!("expected {expected}, got {code} “{sentence}”"),
        });
    }

    /// Prints the count and fails listing every input without a clear answer.
    pub fn finish(self) -> usize {
        println!(
            "bad input, {}: {} tried, {} gave a clear answer",
            self.area,
            self.tried,
            self.tried - self.unclear.len()
        );
        assert!(
            self.unclear.is_empty(),
            "{} of {} {} inputs gave no clear answer:\n{}",
            self.unclear.len(),
            self.tried,
            self.area,
            self.unclear.join("\n")
        );
        self.tried
    }
}

/// What `result` got, for [`Tally::refused`], with the error's code and sentence taken by `code`.
pub fn got<T: std::fmt::Debug, E: std::fmt::Display>(
    result: &Result<T, E>,
    code: impl FnOnce(&E) -> &'static str,
) -> Got {
    match result {
        Ok(value) => Ok(format!("{value:?}")),
        Err(error) => Err((code(error), error.to_string())),
    }
}
