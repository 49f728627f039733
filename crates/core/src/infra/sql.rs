//! A query builder for SQL shared by SQLite and PostgreSQL: like sqlx's `QueryBuilder`, but
//! its placeholders are numbered (`$1`, `$2`), which both backends read; the `Any` one writes `?`.

use sqlx::any::AnyArguments;
use sqlx::{Any, Arguments, AssertSqlSafe, Encode, FromRow, Type};

/// Builds one statement and its bound values.
#[derive(Default)]
pub struct Sql {
    text: String,
    arguments: AnyArguments,
    bound: usize,
}

impl Sql {
    pub fn new(text: impl Into<String>) -> Sql {
        Sql {
            text: text.into(),
            ..Default::default()
        }
    }

    pub fn push(&mut self, text: impl std::fmt::Display) -> &mut Self {
        use std::fmt::Write;
        let _ = write!(self.text, "{text}");
        self
    }

    /// Binds `value` to the next placeholder and returns the placeholder (`$3`), for SQL
    /// that names one value more than once.
    pub fn bind<'t, T>(&mut self, value: T) -> String
    where
        T: Encode<'t, Any> + Type<Any> + 't,
    {
        self.bound += 1;
        // Encoding into `Any` only pushes the value onto a list: it cannot fail.
        let _ = self.arguments.add(value);
        format!("${}", self.bound)
    }

    /// Puts the statement so far between `before` and `after` (a subquery), binds kept.
    pub fn wrap(&mut self, before: &str, after: &str) -> &mut Self {
        self.text = format!("{before}{}{after}", self.text);
        self
    }

    /// Appends the next placeholder and binds `value` to it.
    pub fn push_bind<'t, T>(&mut self, value: T) -> &mut Self
    where
        T: Encode<'t, Any> + Type<Any> + 't,
    {
        let placeholder = self.bind(value);
        self.push(placeholder);
        self
    }

    /// A list whose items are separated by `separator`.
    pub fn separated<'b>(&'b mut self, separator: &'static str) -> Separated<'b> {
        Separated {
            sql: self,
            separator,
            first: true,
        }
    }

    /// `VALUES (…), (…)`: one parenthesised row per item, its values pushed by `row`.
    pub fn push_values<I>(&mut self, items: I, mut row: impl FnMut(Separated<'_>, I::Item))
    where
        I: IntoIterator,
    {
        self.push("VALUES ");
        for (i, item) in items.into_iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.push("(");
            row(self.separated(", "), item);
            self.push(")");
        }
    }

    pub fn sql(&self) -> &str {
        &self.text
    }

    fn take(&mut self) -> AnyArguments {
        std::mem::take(&mut self.arguments)
    }

    pub fn build(&mut self) -> sqlx::query::Query<'_, Any, AnyArguments> {
        let arguments = self.take();
        sqlx::query_with(AssertSqlSafe(self.text.as_str()), arguments)
    }

    pub fn build_query_scalar<O>(&mut self) -> sqlx::query::QueryScalar<'_, Any, O, AnyArguments>
    where
        (O,): for<'r> FromRow<'r, sqlx::any::AnyRow>,
    {
        let arguments = self.take();
        sqlx::query_scalar_with(AssertSqlSafe(self.text.as_str()), arguments)
    }

    pub fn build_query_as<O>(&mut self) -> sqlx::query::QueryAs<'_, Any, O, AnyArguments>
    where
        O: for<'r> FromRow<'r, sqlx::any::AnyRow>,
    {
        let arguments = self.take();
        sqlx::query_as_with(AssertSqlSafe(self.text.as_str()), arguments)
    }
}

/// Items of one list in an [`Sql`] statement.
pub struct Separated<'b> {
    sql: &'b mut Sql,
    separator: &'static str,
    first: bool,
}

impl Separated<'_> {
    fn next(&mut self) {
        if !self.first {
            self.sql.push(self.separator);
        }
        self.first = false;
    }

    pub fn push(&mut self, text: impl std::fmt::Display) -> &mut Self {
        self.next();
        self.sql.push(text);
        self
    }

    pub fn push_bind<'t, T>(&mut self, value: T) -> &mut Self
    where
        T: Encode<'t, Any> + Type<Any> + 't,
    {
        self.next();
        self.sql.push_bind(value);
        self
    }

    /// Text without a separator before it (a closing parenthesis).
    pub fn push_unseparated(&mut self, text: impl std::fmt::Display) -> &mut Self {
        self.sql.push(text);
        self
    }
}

/// A 0/1 flag column read as a `bool` (sqlx's `Any` reads only real booleans as `bool`; both
/// schemas keep flags as integers so shared SQL can say `archived = 1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flag(pub bool);

impl Type<Any> for Flag {
    fn type_info() -> sqlx::any::AnyTypeInfo {
        <i64 as Type<Any>>::type_info()
    }

    fn compatible(ty: &sqlx::any::AnyTypeInfo) -> bool {
        <i64 as Type<Any>>::compatible(ty) || <bool as Type<Any>>::compatible(ty)
    }
}

impl<'r> sqlx::Decode<'r, Any> for Flag {
    fn decode(
        value: sqlx::any::AnyValueRef<'r>,
    ) -> std::result::Result<Self, sqlx::error::BoxDynError> {
        use sqlx::{Value, ValueRef};
        let owned = ValueRef::to_owned(&value);
        match <i64 as sqlx::Decode<Any>>::decode(owned.as_ref()) {
            Ok(n) => Ok(Flag(n != 0)),
            Err(_) => <bool as sqlx::Decode<Any>>::decode(owned.as_ref()).map(Flag),
        }
    }
}

impl From<Flag> for bool {
    fn from(flag: Flag) -> bool {
        flag.0
    }
}
