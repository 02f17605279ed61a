//! How the domain's values are stored: coded enums (`DossierStatus`, `Channel`, ...) as their
//! text codes, and structured values (a delivery, a procedure snapshot) as JSON text, on both
//! backends and through the multi-backend connection. A row that holds a code the domain does not
//! know fails to load, with the code in the error, rather than turning into some default.

use std::fmt::Debug;
use std::io::Write;

use diesel::deserialize::{self, FromSql};
use diesel::pg::Pg;
use diesel::serialize::{self, IsNull, Output, ToSql};
use diesel::sql_types::Text;
use diesel::sqlite::Sqlite;
use diesel::{AsExpression, FromSqlRow};
use dvc_domain::CodeEnum;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::db::MultiBackend;

/// A coded value, stored as its code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, AsExpression, FromSqlRow)]
#[diesel(sql_type = Text)]
pub struct Code<T: CodeEnum + Debug>(pub T);

impl<T: CodeEnum + Debug> From<T> for Code<T> {
    fn from(v: T) -> Self {
        Code(v)
    }
}

impl<T: CodeEnum + Debug> Code<T> {
    /// Codes of several values, for `eq_any`.
    pub fn all(values: &[T]) -> Vec<Code<T>> {
        values.iter().map(|v| Code(*v)).collect()
    }
}

fn parse_code<T: CodeEnum>(s: &str) -> deserialize::Result<T> {
    T::parse(s).ok_or_else(|| format!("unknown code {s:?} (expected one of {:?})", T::CODES).into())
}

impl<T: CodeEnum + Debug> ToSql<Text, Pg> for Code<T> {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        <str as ToSql<Text, Pg>>::to_sql(self.0.as_str(), out)
    }
}

impl<T: CodeEnum + Debug> ToSql<Text, Sqlite> for Code<T> {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
        out.set_value(self.0.as_str());
        Ok(IsNull::No)
    }
}

impl<T: CodeEnum + Debug + Send + Sync> ToSql<Text, MultiBackend> for Code<T> {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, MultiBackend>) -> serialize::Result {
        out.set_value((Text, self));
        Ok(IsNull::No)
    }
}

impl<T: CodeEnum + Debug> FromSql<Text, Pg> for Code<T> {
    fn from_sql(bytes: <Pg as diesel::backend::Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        // Read in place: a code is matched, never kept as text.
        parse_code(std::str::from_utf8(bytes.as_bytes())?).map(Code)
    }
}

impl<T: CodeEnum + Debug> FromSql<Text, Sqlite> for Code<T> {
    fn from_sql(bytes: <Sqlite as diesel::backend::Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        let s = <String as FromSql<Text, Sqlite>>::from_sql(bytes)?;
        parse_code(&s).map(Code)
    }
}

impl<T: CodeEnum + Debug + Send + Sync> FromSql<Text, MultiBackend> for Code<T> {
    fn from_sql(bytes: <MultiBackend as diesel::backend::Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        bytes.from_sql::<Self, Text>()
    }
}

/// A structured value, stored as JSON text.
#[derive(Debug, Clone, AsExpression, FromSqlRow)]
#[diesel(sql_type = Text)]
pub struct Json<T: Serialize + DeserializeOwned + Debug>(pub T);

impl<T: Serialize + DeserializeOwned + Debug> Json<T> {
    /// The JSON text.
    pub fn to_text(&self) -> Result<String, Box<dyn std::error::Error + Send + Sync>> {
        serde_json::to_string(&self.0).map_err(|e| e.into())
    }
}

impl<T: Serialize + DeserializeOwned + Debug> ToSql<Text, Pg> for Json<T> {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        serde_json::to_writer(out.by_ref(), &self.0)?;
        Ok(IsNull::No)
    }
}

impl<T: Serialize + DeserializeOwned + Debug> ToSql<Text, Sqlite> for Json<T> {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
        out.set_value(self.to_text()?);
        Ok(IsNull::No)
    }
}

impl<T: Serialize + DeserializeOwned + Debug + Send + Sync + 'static> ToSql<Text, MultiBackend> for Json<T> {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, MultiBackend>) -> serialize::Result {
        out.set_value((Text, self));
        Ok(IsNull::No)
    }
}

impl<T: Serialize + DeserializeOwned + Debug> FromSql<Text, Pg> for Json<T> {
    fn from_sql(bytes: <Pg as diesel::backend::Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        // The text checked as UTF-8 once, in one pass (by SIMD: Vietnamese text is mostly not
        // ASCII, where the standard check goes a byte at a time): read from bytes, the parser
        // would check each string of it again on its own.
        Ok(Json(serde_json::from_str(simdutf8::basic::from_utf8(bytes.as_bytes())?)?))
    }
}

impl<T: Serialize + DeserializeOwned + Debug> FromSql<Text, Sqlite> for Json<T> {
    fn from_sql(bytes: <Sqlite as diesel::backend::Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        let s = <String as FromSql<Text, Sqlite>>::from_sql(bytes)?;
        Ok(Json(serde_json::from_str(&s)?))
    }
}

impl<T: Serialize + DeserializeOwned + Debug + Send + Sync + 'static> FromSql<Text, MultiBackend> for Json<T> {
    fn from_sql(bytes: <MultiBackend as diesel::backend::Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        bytes.from_sql::<Self, Text>()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use diesel::prelude::*;
    use diesel::sql_types::Nullable;
    use dvc_domain::dossier::{Delivery, DeliveryMethod};
    use dvc_domain::workflow::DossierStatus;

    use super::*;
    use crate::db::{run_migrations, DatabaseUrl};
    use crate::DbConn;

    #[derive(QueryableByName)]
    struct One {
        #[diesel(sql_type = Text)]
        v: Code<DossierStatus>,
    }

    #[derive(QueryableByName)]
    struct Maybe {
        #[diesel(sql_type = Nullable<Text>)]
        v: Option<Code<DossierStatus>>,
    }

    #[derive(QueryableByName)]
    struct Structured {
        #[diesel(sql_type = Text)]
        v: Json<Delivery>,
    }

    fn sqlite() -> DbConn {
        let mut conn = DatabaseUrl::parse("sqlite://:memory:").unwrap().connect().unwrap();
        run_migrations(&mut conn).unwrap();
        conn
    }

    #[test]
    fn codes_and_json_go_in_and_come_out_as_written() {
        let mut conn = sqlite();
        for status in DossierStatus::ALL {
            let got: One =
                diesel::sql_query("SELECT ? AS v").bind::<Text, _>(Code(*status)).get_result(&mut conn).unwrap();
            assert_eq!(got.v.0, *status);
        }
        let none: Maybe = diesel::sql_query("SELECT NULL AS v").get_result(&mut conn).unwrap();
        assert!(none.v.is_none());
        let unknown = diesel::sql_query("SELECT 'lost' AS v").get_result::<One>(&mut conn);
        assert!(unknown.err().unwrap().to_string().contains("lost"), "an unknown code fails, naming itself");
        let delivery = Delivery { method: DeliveryMethod::Post, address: Some("12 Hàng Bài".into()) };
        let got: Structured =
            diesel::sql_query("SELECT ? AS v").bind::<Text, _>(Json(delivery.clone())).get_result(&mut conn).unwrap();
        assert_eq!(got.v.0, delivery);
        let broken = diesel::sql_query("SELECT '{\"method\": \"pigeon\"}' AS v").get_result::<Structured>(&mut conn);
        assert!(broken.is_err(), "a broken delivery is an error, never some default");
    }
}
